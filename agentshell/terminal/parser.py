"""Parsing: a regex tokenizer in front of pyte's stream parser.

:meth:`ParsingScreen._run` cuts a span into text and tokens (CR LF, complete CSI
sequences, OSC strings, charset designations) with one ``re.split`` and walks them:
the commonest (ASCII text, SGR, CUP, EL, CR LF) inline, the others through the
screen's methods. From the first thing that does not cover (ESC 7, other control
characters, a sequence split across two reads, ...) :meth:`ParsingScreen._run_tokens`
goes on a token at a time, with pyte's own stream parser for the rest, which calls
back into the screen's methods. An unfinished sequence at the end of a chunk is held
in ``_carry`` until the next chunk.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from pyte.modes import DECOM, IRM
from pyte.streams import Stream

from agentshell.terminal.scan import (
    CSI_PARTS,
    NEXT,
    ODD,
    OSC_PARTS,
    PARTIAL,
    SPLIT,
    TOKEN,
    sgr_step,
)
from agentshell.terminal.screen import Screen
from agentshell.terminal.style import BLANK, DEFAULT, cells_for, sgr

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
        next chunk if ``final`` (``n`` is the end of the chunk), else goes to pyte.

        The span up to the first thing only the per-token loop (:meth:`_run_tokens`)
        handles is cut into ``[text, token, text, ...]`` by one ``re.split``, and
        walked without a regex match per token."""
        if n - pos < 32 or not self._stream._taking_plain_text:
            self._run_tokens(text, pos, n, final)
            return
        m = ODD.search(text, pos, n)
        cut = n if m is None else m.start()
        parts = SPLIT.split(text[pos:cut] if pos or cut != len(text) else text)
        cols = self.columns
        bottom = self.lines - 1
        dirty = self.dirty
        clean = self._clean
        off = pos
        last = len(parts) - 1
        k = 0
        # a run of ASCII text and SGR on one row is drawn as one slice: ``run`` holds
        # its cells (as maps) for columns ``run_x``..``run_end``; the cursor's x is
        # set when the run is put on the row, before any other token
        run: list[Any] = []
        run_x = run_end = 0
        get: Any = None
        while True:
            data = parts[k]
            if data:
                self._pos = off
                if "\x1b" in data:  # an unfinished or malformed sequence
                    if run:
                        self._put_run(run, run_x, run_end)
                    self._run_tokens(text, off, n, final)
                    return
                if run and run_end + len(data) <= cols and data.isascii():
                    run.append(map(get, data))
                    run_end += len(data)
                else:
                    if run:
                        self._put_run(run, run_x, run_end)
                        run = []
                    cursor = self.cursor
                    x = cursor.x
                    end = x + len(data)
                    if (
                        end <= cols
                        and data.isascii()
                        and self._g[self.charset] is None
                        and IRM not in self.mode
                    ):
                        get = cells_for(cursor.attrs).__getitem__
                        run = [map(get, data)]
                        run_x = x
                        run_end = end
                    else:
                        self.draw(data)
                off += len(data)
            if k == last:
                break
            token = parts[k + 1]
            self._pos = off
            off += len(token)
            k += 2
            if run:
                if token[-1] == "m" and token[0] == "\x1b" and token[1] == "[":
                    params = token[2:-1]
                    if not params or not ("<" <= params[0] <= "?" or params[-1] < "0"):
                        cursor = self.cursor  # SGR: the run goes on in the new style
                        cursor.attrs = style = sgr(cursor.attrs, params)
                        get = cells_for(style).__getitem__
                        continue
                self._put_run(run, run_x, run_end)
                run = []
            c = token[0]
            if c == "\x1b":
                kind = token[1]
                if kind == "[":
                    final_byte = token[-1]
                    params = token[2:-1]
                    if params and ("<" <= params[0] <= "?" or params[-1] < "0"):
                        g = CSI_PARTS.match(token)
                        if g is not None:
                            self._csi(g.group(1), g.group(2), g.group(3), final_byte)
                    elif final_byte == "m":
                        cursor = self.cursor
                        cursor.attrs = sgr(cursor.attrs, params)
                    elif final_byte == "H":
                        if (
                            ":" in params
                            or params.count(";") > 1
                            or (self.margins is not None and DECOM in self.mode)
                        ):
                            self._csi("", params, "", final_byte)
                            continue
                        line, _, column = params.partition(";")
                        cursor = self.cursor
                        y = (min(int(line or 0), 9999) or 1) - 1
                        cursor.y = y if y <= bottom else bottom
                        x = (min(int(column or 0), 9999) or 1) - 1
                        cursor.x = x if x < cols else cols - 1
                        if x == 0 and k < last:  # a row redrawn whole (text, SGR, EL)?
                            got = self._redraw_row(parts, k, last)
                            if got is not None:
                                k, took = got
                                off += took
                    elif final_byte == "K" and (params == "" or params == "0"):
                        cursor = self.cursor
                        y = cursor.y
                        row = self.buffer[y]
                        clean.pop(id(row), None)
                        x = cursor.x if cursor.x < cols else cols - 1
                        bg = cursor.attrs.bg
                        cell = BLANK if bg == "default" else cells_for(DEFAULT._replace(bg=bg))[" "]
                        row[x:] = [cell] * (cols - x)
                        dirty.add(y)
                    else:
                        self._csi("", params, "", final_byte)
                elif kind == "]":
                    g = OSC_PARTS.match(token)
                    if g is not None:
                        self._osc(g.group(1), g.group(2) or "")
                else:
                    self._designate(kind, token[2])
            elif token == "\r\n":
                cursor = self.cursor
                cursor.x = 0
                if cursor.y < bottom and self.margins is None:
                    cursor.y += 1
                else:
                    self.linefeed()
            elif c == "\r":
                self.cursor.x = 0
            elif c == "\n":
                self.linefeed()
            elif c == "\x08":
                self.backspace()
            elif c == "\t":
                self.tab()
            # BEL: nothing to do
        if run:
            self._put_run(run, run_x, run_end)
        if cut < n:
            self._run_tokens(text, cut, n, final)

    def _redraw_row(self, parts: list[str], k: int, last: int) -> tuple[int, int] | None:
        """At ``parts[k]``, just after a move to column 0: if what follows is ASCII
        text and SGR sequences, then an erase to the end of the line, shorter than
        the row, draw it as one new row (the text's cells and the erased ones) and
        return where the parts go on after the erase and how many characters it
        took; else None.

        The row ends as drawing the text over it and erasing the rest leaves it,
        whatever it held (a wide character cut in two included)."""
        if self._g[self.charset] is not None or IRM in self.mode:
            return None
        cursor = self.cursor
        style = cursor.attrs
        table = NEXT.get(style)
        if table is None:
            table = NEXT.setdefault(style, {})
        getters = [cells_for(style).__getitem__]
        j = k
        while True:
            if j >= last:
                return None
            token = parts[j + 1]
            if token == "\x1b[K" or token == "\x1b[0K":
                break
            if token[-1] != "m" or token[1] != "[":
                return None
            params = token[2:-1]
            if params and ("<" <= params[0] <= "?" or params[-1] < "0"):
                return None
            step = table.get(params)
            if step is None:
                step = sgr_step(style, params)
                if len(table) < 256:
                    table[params] = step
            style, get, table = step
            getters.append(get)
            j += 2
        texts = parts[k : j + 1 : 2]
        joined = "".join(texts)
        cols = self.columns
        width = len(joined)
        if width >= cols or not joined.isascii() or "\x1b" in joined:
            return None
        cells = list(chain.from_iterable(map(map, getters, texts)))
        bg = style.bg
        cells += [BLANK if bg == "default" else cells_for(DEFAULT._replace(bg=bg))[" "]] * (
            cols - width
        )
        y = cursor.y
        self._clean.pop(id(self.buffer[y]), None)
        self.buffer[y] = cells
        self.dirty.add(y)
        cursor.x = width
        cursor.attrs = style
        return j + 2, width + sum(map(len, parts[k + 1 : j + 2 : 2]))

    def _put_run(self, run: list[Any], x: int, end: int) -> None:
        """Draw the cells of ``run`` at columns ``x``..``end`` of the cursor's row."""
        y = self.cursor.y
        row = self.buffer[y]
        self._clean.pop(id(row), None)
        if x > 0 and row[x].data == "":
            row[x - 1] = BLANK  # overwrote the right half of a wide char
        row[x:end] = chain.from_iterable(run) if len(run) > 1 else run[0]
        if end < len(row) and row[end].data == "":
            row[end] = BLANK
        self.cursor.x = end
        self.dirty.add(y)

    def _run_tokens(self, text: str, pos: int, n: int, final: bool = True) -> None:
        """:meth:`_run` a token at a time (one regex match each), pyte's parser for
        what the tokens do not cover.

        The commonest tokens of cursor-addressed output (ASCII text that fits the
        row, SGR, CUP, EL, CR LF) are done inline, exactly as the screen's methods
        do them; everything else goes to those methods."""
        match = TOKEN.match
        stream = self._stream
        cols = self.columns
        bottom = self.lines - 1
        dirty = self.dirty
        clean = self._clean
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
            kind = m.lastindex
            pos = m.end()
            if kind == 1:
                data = m.group(1)
                cursor = self.cursor
                x = cursor.x
                end = x + len(data)
                if (
                    end <= cols
                    and data.isascii()
                    and self._g[self.charset] is None
                    and IRM not in self.mode
                ):
                    y = cursor.y
                    row = self.buffer[y]
                    clean.pop(id(row), None)
                    if x > 0 and row[x].data == "":
                        row[x - 1] = BLANK  # overwrote the right half of a wide char
                    row[x:end] = map(cells_for(cursor.attrs).__getitem__, data)
                    if end < cols and row[end].data == "":
                        row[end] = BLANK
                    cursor.x = end
                    dirty.add(y)
                else:
                    self.draw(data)
            elif kind == 2:
                cursor = self.cursor
                cursor.x = 0
                if cursor.y < bottom and self.margins is None:
                    cursor.y += 1
                else:
                    self.linefeed()
            elif kind == 6:
                final_byte = m.group(6)
                if m.group(3) or m.group(5):
                    self._csi(m.group(3), m.group(4), m.group(5), final_byte)
                elif final_byte == "m":
                    cursor = self.cursor
                    cursor.attrs = sgr(cursor.attrs, m.group(4))
                elif final_byte == "H":
                    params = m.group(4)
                    if (
                        ":" in params
                        or params.count(";") > 1
                        or (self.margins is not None and DECOM in self.mode)
                    ):
                        self._csi("", params, "", final_byte)
                        continue
                    line, _, column = params.partition(";")
                    cursor = self.cursor
                    y = (min(int(line or 0), 9999) or 1) - 1
                    cursor.y = y if y <= bottom else bottom
                    x = (min(int(column or 0), 9999) or 1) - 1
                    cursor.x = x if x < cols else cols - 1
                elif final_byte == "K" and (m.group(4) == "" or m.group(4) == "0"):
                    cursor = self.cursor
                    y = cursor.y
                    row = self.buffer[y]
                    clean.pop(id(row), None)
                    x = cursor.x if cursor.x < cols else cols - 1
                    bg = cursor.attrs.bg
                    cell = BLANK if bg == "default" else cells_for(DEFAULT._replace(bg=bg))[" "]
                    row[x:] = [cell] * (cols - x)
                    dirty.add(y)
                else:
                    self._csi("", m.group(4), "", final_byte)
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
