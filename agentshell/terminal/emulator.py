"""A fast terminal emulator: a ``pyte.Screen`` subclass behind pyte's byte stream.

Built in layers, each module importing only the ones below it:

* :mod:`.scan` -- text scanning (tokens, how far a chunk is plain, SGR transitions);
* :mod:`.screen` -- the screen: rows of shared cells, cursor, erase, scroll, modes,
  the alternate screen, rows leaving for the scrollback;
* :mod:`.parser` -- the regex tokenizer in front of pyte's parser;
* :mod:`.bulk` -- plain lines drawn in bulk;
* here -- :class:`Emulator`: the input (bytes -> text -> the paths above), long
  bursts kept as lazy scrollback, :meth:`Emulator.clone`.

When one chunk scrolls more than a couple of screenfuls of plain lines (text,
colours, CR LF), only what stays visible is emulated; the lines in between go to
the scrollback as raw text and are emulated when somebody scrolls up to them.

``feed`` never raises: a handler failing on strange input is skipped and the parser
is reset.
"""

from __future__ import annotations

import codecs
import copy
from collections.abc import Callable
from time import perf_counter

from pyte import modes as mo
from pyte.streams import Stream

from agentshell.terminal.bulk import BulkScreen
from agentshell.terminal.frames import Line
from agentshell.terminal.scan import MOVES_RIGHT, SGR, char_width, plain_until, style_after
from agentshell.terminal.screen import (
    ALT_47,
    ALT_1047,
    ALT_1049,
    BRACKETED_PASTE,
    DECCKM,
    LAZY_BLOCK_LINES,
    MOUSE_MODES,
    Cursor,
)
from agentshell.terminal.scrollback import LazyBlock
from agentshell.terminal.style import BLANK, Style

#: with a deadline, the most characters of plain lines / of anything else done in one
#: step between two looks at the clock (each takes a few ms at the slowest)
STEP_PLAIN = 16 << 10
STEP_OTHER = 8 << 10
#: with a deadline, the most characters of plain lines looked at for lazy scrolling
STEP_LAZY = 512 << 10

__all__ = [
    "ALT_47",
    "ALT_1047",
    "ALT_1049",
    "BRACKETED_PASTE",
    "DECCKM",
    "LAZY_BLOCK_LINES",
    "MOUSE_MODES",
    "Cursor",
    "Emulator",
    "char_width",
]


class Emulator(BulkScreen):
    """A ``columns`` x ``lines`` screen with ``scrollback`` lines of history.

    ``write_process_input`` receives the bytes a terminal answers to device queries
    (DSR, DA); the owner writes them to the PTY.
    """

    def __init__(
        self,
        columns: int,
        lines: int,
        scrollback: int = 10000,
        write_process_input: Callable[[bytes], None] | None = None,
        *,
        lazy_scrollback: bool = True,
        fast_path: bool = True,
    ) -> None:
        super().__init__(columns, lines, scrollback, write_process_input)
        self.lazy_scrollback = lazy_scrollback
        # False: every byte goes through pyte's stream parser (the reference the fast
        # paths are tested against)
        self.fast_path = fast_path
        self._pos = 0
        self._carry = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._stream = Stream(self)
        self._held = False

    def clone(self) -> Emulator:
        """An independent copy of this screen, its scrollback, modes and pending
        input, which then goes on as this one would with the same bytes.

        Only at rest (:attr:`at_rest`): pyte's parser mid-sequence is a generator,
        which cannot be copied. Rows on screen are copied; stored scrollback rows and
        cells are shared (never changed in place); caches start empty."""
        if not self.at_rest:
            raise ValueError("the emulator is inside an escape sequence; feed on first")
        new: Emulator = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.buffer = [row[:] for row in self.buffer]
        new._alt = None if self._alt is None else [row[:] for row in self._alt]
        new.cursor = copy.copy(self.cursor)
        new._alt_cursor = copy.copy(self._alt_cursor)
        # restore_cursor makes a savepoint's cursor the live one: each copy its own
        new.savepoints = [sp._replace(cursor=copy.copy(sp.cursor)) for sp in self.savepoints]
        new.mode = set(self.mode)
        new.tabstops = set(self.tabstops)
        new.dirty = set(self.dirty)
        new._g = list(self._g)
        new.history = self.history.copy()
        new._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        new._decoder.setstate(self._decoder.getstate())
        new._frame = None
        new._blank_tails = []
        new._width_hints = {}
        new._clean = {}
        new._stream = Stream(new)
        new._stream.use_utf8 = self._stream.use_utf8
        return new

    # ------------------------------------------------------------------ input

    def feed(self, data: bytes, deadline: float | None = None) -> None:
        """Process bytes from the program. Never raises.

        With ``deadline`` (a ``time.perf_counter()`` value) it stops at the first
        step boundary after it (a step is one stretch of plain lines of at most
        ``STEP_PLAIN`` characters, or one line / ``STEP_OTHER`` characters of anything
        else) and holds the rest: :attr:`held` is then True, and ``feed(b"")`` (or the
        next feed) goes on from there, with the same result as one feed."""
        self.feed_text(self._decoder.decode(data), deadline)

    @property
    def held(self) -> bool:
        """Text is waiting: the last feed stopped at its deadline."""
        return self._held

    def feed_text(self, text: str, deadline: float | None = None) -> None:
        self._held = False
        if not self.fast_path:
            try:
                self._stream.feed(text)
            except Exception:
                self._recover()
            return
        if self._carry:
            text = self._carry + text
            self._carry = ""
        pos = 0
        n = len(text)
        base = 0  # text[base:] is what the fast paths were given (for self._pos)
        not_lazy = 0  # with a deadline: text[:not_lazy] failed to scroll lazily
        while pos < n:
            if deadline is not None and pos and perf_counter() >= deadline:
                self._carry = text[pos:]
                self._held = True
                return
            try:
                base = 0
                self._pos = pos
                stream = self._stream
                while pos < n and not stream._taking_plain_text:
                    self._pos = pos
                    stream.feed(text[pos])
                    pos += 1
                if n - pos <= 256:
                    self._run(text, pos, n)
                    return
                # plain lines (text, SGR, CR LF, ...) go to the bulk paths; a line with
                # anything else (cursor moves, OSC, ...) to the tokenizer
                stop, bad = plain_until(text, pos, n)
                if deadline is not None and stop - pos > STEP_LAZY:
                    # one step at most: lazy scrolling costs about the same for any
                    # size, drawing line by line is what the step bounds below
                    stop = text.rfind("\n", pos, pos + STEP_LAZY) + 1 or stop
                if stop - pos > 256:
                    sub = text if pos == 0 and stop == n else text[pos:stop]
                    base, end = pos, stop - pos
                    at = self._pos = 0
                    if self.lazy_scrollback and end > 2048 and pos >= not_lazy:
                        at = self._fast_scroll(sub, at)
                        if at == 0:
                            not_lazy = stop  # known not to scroll lazily
                    if deadline is not None and end - at > STEP_PLAIN:
                        cut = sub.rfind("\n", at, at + STEP_PLAIN) + 1
                        if cut > at:  # drawn line by line: at most STEP_PLAIN of it
                            end = cut
                            stop = pos + cut
                    at = self._plain_lines(sub, at, end)
                    if (
                        end - at > 64
                        and sub.find("\n", at, end) < 0
                        and self._stream._taking_plain_text
                        and mo.IRM not in self.mode
                        and self._g[self.charset] is None
                    ):  # the unfinished last line (a progress bar's redraws, ...)
                        self._draw_line(sub, at, end, False)
                    else:
                        self._run(sub, at, end, stop == n)
                    pos = stop
                else:
                    eol = n if bad == n else text.find("\n", bad) + 1 or n
                    if deadline is not None and eol - pos > STEP_OTHER:
                        cut = text.rfind("\x1b", pos + 1, pos + STEP_OTHER)
                        if cut > pos:  # before an escape sequence, never inside one
                            eol = cut
                    self._run(text, pos, eol, eol == n)
                    pos = eol
            except Exception:
                pos = base + self._pos + 1
                self._recover()

    def _recover(self) -> None:
        self._stream._initialize_parser()
        self._clean.clear()
        self.cursor.x = min(max(0, self.cursor.x), self.columns)
        self.cursor.y = min(max(0, self.cursor.y), self.lines - 1)
        if len(self.buffer) != self.lines or any(len(r) != self.columns for r in self.buffer):
            self.buffer = [
                (row + [BLANK] * self.columns)[: self.columns] for row in self.buffer[: self.lines]
            ]
            self.buffer += [[BLANK] * self.columns for _ in range(self.lines - len(self.buffer))]
        self.dirty.update(range(self.lines))

    # ------------------------------------------------------- fast bulk scrolling

    def _fast_scroll(self, text: str, pos: int) -> int:
        """Emulate a long burst of plain lines at ``text[pos:]`` cheaply.

        Returns the position from which the caller continues normally. See the
        module docstring; the result is exactly what full emulation gives.
        """
        n = self.lines
        if (
            self._alt is not None
            or self.margins is not None
            or mo.IRM in self.mode
            or self._g[self.charset] is not None
            or not self._stream._taking_plain_text
            or text.count("\n", pos) < 3 * n + 2
        ):
            return pos
        # p1: after the first n newlines (emulated for real: the cursor ends on a
        # fresh bottom row). p2: start of the last n-1 complete lines + the rest
        # (then moved back n-1 more lines, see below).
        p1 = pos
        for _ in range(n):
            p1 = text.index("\n", p1) + 1
        p2 = len(text)
        for _ in range(n):
            p2 = text.rindex("\n", 0, p2)
        p2 += 1
        if p2 <= p1:  # (the text is plain: feed_text checked it)
            return pos
        cols = self.columns
        if MOVES_RIGHT.search(text, pos, p2) is not None:
            return pos  # a move to the right may make a short line wrap
        if not _lines_fit(text[pos:p2], cols):
            return pos
        # The last n-1 checked lines are emulated for real from a blank screen: they
        # fill the rows above the cursor whatever the text after them does (moves the
        # cursor up, wraps, ...).
        for _ in range(n - 1):
            p2 = text.rindex("\n", 0, p2 - 1) + 1
        if p2 <= p1:
            return pos
        self._run(text, self._plain_lines(text, pos, p1), p1)
        # The screen rows above the cursor scroll off first, then the lazy lines.
        start_style = self.cursor.attrs
        for row in self.buffer[:-1]:
            self._push_history(row)
        keep = self.history.maxlen
        q = p2
        count = 0
        total = text.count("\n", p1, p2)
        if total <= keep:
            q, count = p1, total
        while count < keep and q > p1:
            q = text.rfind("\n", p1, q - 1) + 1
            if q <= 0:
                q = p1
            count += 1
        if count:
            style = style_after(start_style, text, p1, q) if q > p1 else start_style
            self._push_lazy_blocks(text, q, p2, count, style)
        self.cursor.attrs = style_after(start_style, text, p1, p2)
        self.buffer = [[BLANK] * cols for _ in range(n)]
        self.cursor.x = 0
        self.cursor.y = 0
        self.dirty.update(range(n))
        return p2

    def _push_lazy_blocks(self, text: str, start: int, end: int, count: int, style: Style) -> None:
        """Keep the ``count`` lines of ``text[start:end]`` as lazy blocks of about
        ``LAZY_BLOCK_LINES`` lines, each with the style in effect where it starts, so
        reading one scrolled-back row emulates a few hundred lines, not the burst."""
        cols = self.columns
        # cut by characters (at the next line end): a C-speed count per block
        # instead of a Python step per line
        step = max(1, (end - start) * LAZY_BLOCK_LINES // count)
        while start < end:
            stop = text.find("\n", min(start + step, end) - 1, end) + 1 or end
            lines = text.count("\n", start, stop)
            self.history.push_lazy(
                LazyBlock(text[start:stop], style, cols, lines, self._render_block)
            )
            style = style_after(style, text, start, stop)
            start = stop

    @staticmethod
    def _render_block(block: LazyBlock) -> list[Line]:
        scratch = Emulator(block.columns, 1, block.count + 1, lazy_scrollback=False)
        scratch.cursor.attrs = block.style
        scratch.feed_text(block.text)
        return list(scratch.history)


def _lines_fit(text: str, cols: int) -> bool:
    """Whether each plain line of ``text`` (lines ending CR LF, no moves to the
    right) surely stays on one row of ``cols`` columns. Conservative: a CR starts
    the line over, a TAB may add 7 columns, a non-ASCII character is taken as wide
    unless its width is known to fit, an erase or move left counts as text."""
    if "\x1b" in text:
        text = SGR.sub("", text)
    lines = text.split("\n")
    tabs = "\t" in text
    if not tabs and text.isascii() and max(map(len, lines)) <= cols + 1:  # + the CR
        return True
    half = cols // 2
    for line in lines:
        if len(line) > half or (tabs and "\t" in line):
            longest = max(line.split("\r"), key=len)
            width = len(longest)
            if not longest.isascii():
                width = 2 * width
                if width > cols and "\x1b" not in longest:
                    width = sum(map(char_width, longest))
            if width + 7 * line.count("\t") > cols:
                return False
    return True
