"""Parsing: a regex tokenizer in front of pyte's stream parser.

:meth:`ParsingScreen._run` handles plain text runs, CR LF, complete CSI sequences,
OSC strings and charset designations itself. Anything else (ESC 7, a sequence split
across two reads, ...) goes through pyte's own stream parser, which calls back into
the screen's methods. An unfinished sequence at the end of a chunk is held in
``_carry`` until the next chunk.
"""

from __future__ import annotations

from typing import Any

from pyte.streams import Stream

from agentshell.terminal.scan import PARTIAL, TOKEN
from agentshell.terminal.screen import Screen
from agentshell.terminal.style import sgr

CSI_HANDLERS: dict[str, str] = dict(Stream.csi)
CSI_HANDLERS.update(
    {"S": "scroll_up", "T": "scroll_down", "s": "save_cursor", "u": "restore_cursor"}
)


class ParsingScreen(Screen):
    """A :class:`Screen` fed text through the tokenizer (``_stream`` is pyte's parser,
    made by the subclass that owns the input)."""

    _stream: Any
    _carry: str
    _pos: int

    @property
    def at_rest(self) -> bool:
        """True between escape sequences (pyte's parser in its ground state), when
        :meth:`clone` can copy the screen."""
        return bool(self._stream._taking_plain_text)

    def _run(self, text: str, pos: int, n: int, final: bool = True) -> None:
        """Tokenize ``text[pos:n]``; an unfinished sequence at ``n`` waits for the
        next chunk if ``final`` (``n`` is the end of the chunk), else goes to pyte."""
        match = TOKEN.match
        stream = self._stream
        draw = self.draw
        while pos < n:
            self._pos = pos
            if not stream._taking_plain_text:
                stream.feed(text[pos])
                pos += 1
                continue
            m = match(text, pos, n)
            if m is None:
                if final and n - pos < 65536 and PARTIAL.match(text, pos, n) is not None:
                    self._carry = text[pos:n]  # an unfinished sequence: wait for the rest
                    return
                stream.feed(text[pos])
                pos += 1
                continue
            pos = m.end()
            kind = m.lastindex
            if kind == 1:
                draw(m.group(1))
            elif kind == 2:
                self.cursor.x = 0
                self.linefeed()
            elif kind == 6:
                self._csi(m.group(3), m.group(4), m.group(5), m.group(6))
            elif kind == 11:
                c = m.group(11)
                if c == "\r":
                    self.cursor.x = 0
                elif c == "\n":
                    self.linefeed()
                elif c == "\x08":
                    self.backspace()
                elif c == "\t":
                    self.tab()
                # BEL: nothing to do
            elif kind in (7, 8):
                self._osc(m.group(7), m.group(8) or "")
            elif kind == 10:
                self._designate(m.group(9), m.group(10))

    def _csi(self, prefix: str, params: str, inter: str, final: str) -> None:
        if final == "m":
            if not prefix and not inter:
                self.cursor.attrs = sgr(self.cursor.attrs, params)
            return
        if inter:
            return  # DECSCUSR (CSI n SP q), DECRQM (CSI ? n $ p) ...: not emulated
        values = [min(int(p or 0), 9999) for p in params.replace(":", ";").split(";")]
        if prefix == ">" or prefix == "=":
            if final == "c":
                self._answer("\x1b[>1;10;0c" if prefix == ">" else "\x1bP!|00000000\x1b\\")
            return
        name = CSI_HANDLERS.get(final)
        if name is None:
            return
        try:
            if prefix == "?":
                getattr(self, name)(*values, private=True)
            else:
                getattr(self, name)(*values)
        except TypeError:
            pass  # a known final byte with parameters it does not take: ignore it

    def _osc(self, code: str, text: str) -> None:
        if code in ("0", "2"):
            self.title = text
        if code in ("0", "1"):
            self.icon_name = text
