"""A fast terminal emulator: a ``pyte.Screen`` subclass behind pyte's byte stream.

Speed comes from four things (measured with cProfile, see docs/terminal.md):

* The screen is a list of rows, each row a list of shared :class:`Cell` objects
  (one cell object per (char, style), see :mod:`.style`). Scrolling pops one row
  and inserts a blank one; it never touches the other rows' cells.
* A regex tokenizer in :meth:`Emulator.feed` handles plain text runs, CR LF,
  complete CSI sequences and OSC strings itself. Anything else (ESC 7, a sequence
  split across two reads, ...) goes through pyte's own stream parser, which calls
  back into this screen's methods.
* ``draw`` has a fast path for printable ASCII runs (a slice assignment).
* When one chunk scrolls more than a couple of screenfuls of plain lines (text,
  colours, CR LF), only what stays visible is emulated; the lines in between go to
  the scrollback as raw text and are emulated when somebody scrolls up to them.

``feed`` never raises: a handler failing on strange input is skipped and the parser
is reset.
"""

from __future__ import annotations

import codecs
import copy
import re
from collections.abc import Callable
from itertools import accumulate, chain
from operator import add
from typing import Any

import pyte
from pyte import modes as mo
from pyte.charsets import VT100_MAP
from pyte.screens import Margins
from pyte.streams import Stream
from wcwidth import wcwidth

from agentshell.terminal.frames import Frame, Line
from agentshell.terminal.scrollback import LazyBlock, Scrollback
from agentshell.terminal.style import BLANK, DEFAULT, Cell, Style, cells_for, sgr

# Private modes, in pyte's numbering (private mode numbers are shifted left by 5).
ALT_1049 = 1049 << 5
ALT_1047 = 1047 << 5
ALT_47 = 47 << 5
BRACKETED_PASTE = 2004 << 5
DECCKM = 1 << 5
MOUSE_MODES = (9, 1000, 1001, 1002, 1003, 1005, 1006, 1015)
LAZY_BLOCK_LINES = 256  # scrollback rows emulated together on first read (~1.5 ms)
_ALT_MODES = (ALT_1049, ALT_1047, ALT_47)

_TOKEN = re.compile(
    r"([^\x00-\x1f\x7f-\x9f]+)"  # 1: printable run
    r"|(\r\n)"  # 2
    r"|\x1b\[([<=>?]?)([0-9;:]*)([ -/]*)([@-~])"  # 3 prefix, 4 params, 5 intermediates, 6 final
    r"|\x1b\]([0-9]*)(?:;([^\x07\x1b\x9c]*))?(?:\x07|\x1b\\|\x9c)"  # 7 code, 8 text
    r"|\x1b([()])([0-9A-Za-z<>=%])"  # 9 G0/G1, 10 charset
    r"|([\r\n\x08\x07\t])"  # 11
)

# The beginning of a sequence _TOKEN would match, cut off by the end of the chunk.
_PARTIAL = re.compile(
    r"\x1b(?:\[[<=>?]?[0-9;:]*[ -/]*|\]([0-9]*(;[^\x07\x1b\x9c]*)?\x1b?)?|[()])?\Z"
)

# Plain "log output" is text, SGR colours, CR LF, tab, backspace and bell only.
_BAD_CHARS = re.compile(r"[\x00-\x06\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]")


# _BAD_CHARS for ASCII text as a bytes.translate table: bad characters become 0
_BAD_ASCII = bytes(0 if _BAD_CHARS.match(chr(i)) else 1 for i in range(256))
_ESC_NOT_SGR = re.compile(r"\x1b(?!\[[0-9;:]*m)")
_LONE_LF = re.compile(r"\n(?<!\r\n)")


def _plain_until(text: str, pos: int, end: int) -> tuple[int, int]:
    """``(stop, bad)``: ``text[pos:stop]`` is plain (printable text, SGR sequences,
    TAB/BS/BEL/CR, every LF after a CR), ``stop`` is the start of the line holding the
    first other character, at ``bad`` (both ``end`` if none).

    Three searches, each bounded by what the previous found (three literal-led
    patterns run far faster than one alternation)."""
    bad = end
    m = _ESC_NOT_SGR.search(text, pos, bad)
    if m is not None:
        bad = m.start()
    sub = text[pos:bad]
    if sub.isascii():  # bytes.translate + find run at memory speed, the regex does not
        k = sub.encode("ascii").translate(_BAD_ASCII).find(0)
        if k >= 0:
            bad = pos + k
    else:
        m = _BAD_CHARS.search(text, pos, bad)
        if m is not None:
            bad = m.start()
    m = _LONE_LF.search(text, pos, bad)
    if m is not None:
        bad = m.start()
    if bad == end:
        return end, end
    return text.rfind("\n", pos, bad) + 1 or pos, bad


_SGR = re.compile(r"\x1b\[([0-9;:]*)m")
_TRANSITIONS: dict[
    tuple[Any, ...], tuple[Style, Callable[[str], Cell], tuple[Callable[[str], Cell], ...]]
] = {}
_LINE_CTRL = re.compile(r"[\x00-\x1a\x1c-\x1f\x7f]")

_WIDTHS: dict[str, int] = {}


_NEXT: dict[Style, dict[str, tuple[Style, Callable[[str], Cell], dict[str, Any]]]] = {}


def _step(style: Style, params: str) -> tuple[Style, Callable[[str], Cell], dict[str, Any]]:
    """What ``CSI params m`` does in ``style``: the new style, its cell getter, and
    its own transition table."""
    nxt = sgr(style, params)
    table = _NEXT.get(nxt)
    if table is None:
        if len(_NEXT) > 4096:
            _NEXT.clear()
        table = _NEXT.setdefault(nxt, {})
    return nxt, cells_for(nxt).__getitem__, table


def _trim(row: list[Cell], tails: list[list[Cell]]) -> list[Cell]:
    """``row`` (at most ``len(tails) - 1`` cells) without its trailing blank cells,
    as :meth:`Emulator._push_history` trims; ``tails[k]`` is ``len(tails) - 1 - k``
    blank cells."""
    n = len(row)
    if not n or row[-1] is not BLANK:
        return row
    off = len(tails) - 1 - n  # tails[off + k] has n - k blanks
    lo, hi = 0, n
    while lo < hi:  # binary search on "row[k:] is all blank" (C-speed compares)
        mid = (lo + hi) // 2
        if row[mid:] == tails[off + mid]:
            hi = mid
        else:
            lo = mid + 1
    return row[:lo]


def char_width(char: str) -> int:
    w = _WIDTHS.get(char)
    if w is None:
        w = wcwidth(char)
        _WIDTHS[char] = w
    return w


def _style_after(style: Style, text: str, start: int, end: int) -> Style:
    """The style after the SGR sequences in ``text[start:end]`` (which holds no other escapes)."""
    reset = max(
        text.rfind("\x1b[0m", start, end),
        text.rfind("\x1b[m", start, end),
        text.rfind("\x1b[0;", start, end),
    )
    if reset >= 0:
        start = reset
        style = DEFAULT
    for m in _SGR.finditer(text, start, end):
        style = sgr(style, m.group(1))
    return style


class Cursor:
    """Cursor position (``x`` may equal ``columns``: a wrap is pending), style, visibility."""

    __slots__ = ("attrs", "hidden", "x", "y")

    def __init__(self, x: int = 0, y: int = 0, attrs: Style = DEFAULT) -> None:
        self.x = x
        self.y = y
        self.attrs = attrs
        self.hidden = False


# pyte's own annotations describe its dict-of-dicts buffer and Char cells; this screen
# stores rows of Cell and Style objects, so mypy sees the base class as Any.
_ScreenBase: Any = pyte.Screen


class Emulator(_ScreenBase):  # type: ignore[misc]
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
        self.columns = max(1, columns)
        self.lines = max(1, lines)
        self.history = Scrollback(scrollback)
        self.reply = write_process_input
        self.lazy_scrollback = lazy_scrollback
        # False: every byte goes through pyte's stream parser (the reference the fast
        # paths are tested against)
        self.fast_path = fast_path
        self.buffer: list[list[Cell]] = []
        self.dirty: set[int] = set()
        self.savepoints: list[Any] = []
        self.mode: set[int] = set()
        self.margins: Margins | None = None
        self.title = ""
        self.icon_name = ""
        self._alt: list[list[Cell]] | None = None  # the main screen while the alt one shows
        self._alt_cursor: Cursor | None = None
        self._g: list[str | None] = [None, None]
        self._frame: Frame | None = None
        self._blank_tails: list[list[Cell]] = []
        # id(row) -> (row, drawn width): hints for trimming rows that scroll off
        self._width_hints: dict[int, tuple[list[Cell], int]] = {}
        # id(row) -> (row, its cells without trailing blanks) for rows nobody wrote to
        # since the bulk line drawer made them: every in-place write to a row drops
        # its entry (_dirty_row), so a row scrolling off needs no checking
        self._clean: dict[int, tuple[list[Cell], list[Cell]]] = {}
        self._pos = 0
        self._carry = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.cursor = Cursor()
        self.reset()
        self._stream: Any = Stream(self)

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Full reset (RIS): clear the screen, modes, margins; the scrollback stays."""
        self.buffer = [[BLANK] * self.columns for _ in range(self.lines)]
        self._alt = None
        self._alt_cursor = None
        self._clean.clear()
        self.dirty.update(range(self.lines))
        self.mode = {mo.DECAWM, mo.DECTCEM}
        self.margins = None
        self.title = ""
        self.icon_name = ""
        self.charset = 0
        self.g0_charset = ""
        self.g1_charset = ""
        self._g = [None, None]
        self.tabstops = set(range(8, self.columns, 8))
        self.cursor = Cursor(0, 0, DEFAULT)
        self.savepoints = []

    @property
    def at_rest(self) -> bool:
        """True between escape sequences (pyte's parser in its ground state), when
        :meth:`clone` can copy the screen."""
        return bool(self._stream._taking_plain_text)

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

    @property
    def default_char(self) -> Cell:
        return BLANK

    @property
    def alternate_screen(self) -> bool:
        """True while a full-screen program (vim, less) shows the alternate screen."""
        return self._alt is not None

    @property
    def bracketed_paste(self) -> bool:
        return BRACKETED_PASTE in self.mode

    @property
    def application_cursor_keys(self) -> bool:
        return DECCKM in self.mode

    @property
    def mouse_modes(self) -> frozenset[int]:
        """Active mouse modes (of 9, 1000, 1002, 1003, 1005, 1006, 1015)."""
        return frozenset(m for m in MOUSE_MODES if (m << 5) in self.mode)

    @property
    def cursor_visible(self) -> bool:
        return mo.DECTCEM in self.mode and not self.cursor.hidden

    @property
    def cursor_position_xy(self) -> tuple[int, int]:
        return (min(self.cursor.x, self.columns - 1), self.cursor.y)

    @property
    def display(self) -> list[str]:
        return ["".join(cell.data for cell in row) for row in self.buffer]

    def row_segments(self, y: int) -> list[tuple[str, Style]]:
        """Row ``y`` as runs of ``(text, style)``."""
        return list(Line.from_cells(self.buffer[y]).segments)

    def line(self, y: int) -> Line:
        return Line.from_cells(self.buffer[y])

    def frame(self, rows: set[int] | None = None) -> Frame:
        """An immutable frame; rows not in ``rows`` (default: ``dirty``, then cleared)
        reuse the previous frame's ``Line`` objects."""
        if rows is None:
            rows = self.dirty
            self.dirty = set()
        prev = self._frame
        if prev is None or prev.columns != self.columns or prev.rows != self.lines:
            lines = [Line.from_cells(row) for row in self.buffer]
        else:
            lines = list(prev.lines)
            buffer = self.buffer
            for y in rows:
                if 0 <= y < self.lines:
                    lines[y] = Line.from_cells(buffer[y])
        frame = Frame(
            lines=tuple(lines),
            cursor=self.cursor_position_xy,
            cursor_visible=self.cursor_visible,
            title=self.title,
            columns=self.columns,
            rows=self.lines,
        )
        self._frame = frame
        return frame

    # ------------------------------------------------------------------ input

    def feed(self, data: bytes) -> None:
        """Process bytes from the program. Never raises."""
        self.feed_text(self._decoder.decode(data))

    def feed_text(self, text: str) -> None:
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
        while pos < n:
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
                stop, bad = _plain_until(text, pos, n)
                if stop - pos > 256:
                    sub = text if pos == 0 and stop == n else text[pos:stop]
                    base, end = pos, stop - pos
                    at = self._pos = 0
                    if self.lazy_scrollback and end > 2048:
                        at = self._fast_scroll(sub, at)
                    at = self._plain_lines(sub, at, end)
                    self._run(sub, at, end, stop == n)
                    pos = stop
                else:
                    eol = n if bad == n else text.find("\n", bad) + 1 or n
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

    def _run(self, text: str, pos: int, n: int, final: bool = True) -> None:
        """Tokenize ``text[pos:n]``; an unfinished sequence at ``n`` waits for the
        next chunk if ``final`` (``n`` is the end of the chunk), else goes to pyte."""
        match = _TOKEN.match
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
                if final and n - pos < 65536 and _PARTIAL.match(text, pos, n) is not None:
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

    def _plain_lines(self, text: str, pos: int, n: int) -> int:
        """Draw complete plain lines (printable ASCII + SGR, each ending CR LF) in bulk.

        Returns where the caller continues (the first line it did not handle).
        """
        end = text.rfind("\r\n", pos, n)
        if (
            end < 0
            or not self._stream._taking_plain_text
            or mo.IRM in self.mode
            or self._g[self.charset] is not None
        ):
            return pos
        region = text[pos:end]  # plain (feed_text checked it)
        if self._block_lines(region):
            return end + 2
        cursor = self.cursor
        cols = self.columns
        split = _SGR.split
        ctrl = _LINE_CTRL.search
        style = cursor.attrs
        get = cells_for(style).__getitem__
        trans = _TRANSITIONS
        if len(trans) > 4096:
            trans.clear()
        hints = self._width_hints
        if len(hints) > 4 * self.lines:
            hints.clear()
        clean = self._clean
        tails = self._blank_tails
        if len(tails) != cols + 1:
            blank = [BLANK] * cols
            tails = self._blank_tails = [blank[k:] for k in range(cols + 1)]
        # the common case, scrolling the whole main screen, is done inline below
        simple = self.margins is None and self._alt is None
        buffer = self.buffer
        bottom = self.lines - 1
        dirty = self.dirty
        all_rows = range(self.lines)
        keep = self.history.maxlen > 0
        remember = self.history.append

        def retire(top: list[Any]) -> None:
            """A row scrolled off the top: into the scrollback (trimmed by its width
            hint when that is still true), and every row is now dirty."""
            if keep:
                hint = hints.pop(id(top), None)
                if hint is not None and hint[0] is top:
                    e = hint[1]
                    if top[e - 1] is not BLANK and top[e:] == tails[e]:
                        remember(top[:e])
                    else:
                        self._push_history(top)
                else:
                    self._push_history(top)
            if len(dirty) < len(all_rows):
                dirty.update(all_rows)

        fresh = simple and buffer[bottom] == tails[0]
        start = pos
        # TAB, BS, BEL or a lone CR anywhere: check each line (else no line has one)
        odd = (
            "\t" in region
            or "\x08" in region
            or "\x07" in region
            or region.count("\r") != region.count("\r\n")
        )
        self._pos = pos
        for line in region.split("\r\n"):
            line_style = style
            if line.isascii() and (not odd or ctrl(line) is None):
                parts = split(line)
                first = parts[0]
                cells = list(map(get, first)) if first else []
                if len(parts) > 1:
                    key = (style, *parts[1::2])
                    steps = trans.get(key)
                    if steps is None:
                        getters = []
                        nxt = style
                        for p in parts[1::2]:
                            nxt = sgr(nxt, p)
                            getters.append(cells_for(nxt).__getitem__)
                        steps = trans[key] = (nxt, getters[-1], tuple(getters))
                    style, get, funcs = steps
                    for g, t in zip(funcs, parts[2::2]):  # noqa: B905
                        cells.extend(map(g, t))
                x = cursor.x
                width = len(cells)
                if fresh and x == 0 and width <= cols and cursor.y == bottom:
                    # the line fills the blank bottom row: make it a new row, scroll
                    # it up, keep the same blank row at the bottom
                    cells.extend(tails[width])
                    buffer.insert(bottom, cells)
                    top = buffer.pop(0)
                    if width:
                        hints[id(cells)] = (cells, width)
                    retire(top)
                    cursor.attrs = style
                    start += len(line) + 2
                    continue
                if x + width <= cols:
                    row = buffer[cursor.y]
                    clean.pop(id(row), None)
                    stop = x + width
                    if 0 < x < cols and row[x].data == "":
                        row[x - 1] = BLANK
                    row[x:stop] = cells
                    if stop < cols and row[stop].data == "":
                        row[stop] = BLANK
                    cursor.x = stop
                    cursor.attrs = style
                    if width:
                        dirty.add(cursor.y)
                        hints[id(row)] = (row, stop)
                else:
                    cursor.attrs = line_style
                    self._pos = start
                    self._run(text, start, start + len(line))
                    style = cursor.attrs
                    get = cells_for(style).__getitem__
            else:
                cursor.attrs = style
                self._pos = start
                self._run(text, start, start + len(line))
                style = cursor.attrs
                get = cells_for(style).__getitem__
            cursor.x = 0
            fresh = False
            if simple and cursor.y == bottom:
                top = buffer.pop(0)
                buffer.append([BLANK] * cols)
                retire(top)
                fresh = True
            else:
                self.index()
            start += len(line) + 2
        return end + 2

    def _block_lines(self, region: str) -> bool:
        """Draw ``region`` + CR LF: lines of printable ASCII and SGR sequences only,
        separated by CR LF, each fitting the row it starts on. False (nothing done)
        when ``region`` is anything else.

        The whole region is turned into cells in one pass (one regex split, one
        ``map`` per SGR run, with the newlines as throw-away cells); each line is then
        a slice of that list. Once the cursor sits on a fresh bottom row of the whole
        main screen, lines that will scroll off before the end of the region go to
        the scrollback as their (trimmed) slice, never built into a full row; the
        ones that stay become rows. Exactly what drawing line by line gives.
        """
        if (
            not region.isascii()
            or "\t" in region
            or "\x08" in region
            or "\x07" in region
            or region.count("\r") != region.count("\r\n")
        ):
            return False
        cursor = self.cursor
        cols = self.columns
        parts = _SGR.split(region)
        stripped = "".join(parts[0::2])
        widths = list(map(len, stripped.split("\r\n")))
        if max(widths) > cols or cursor.x + widths[0] > cols:
            return False
        # cells of the whole region (CR and LF included, as cells nobody keeps)
        style = cursor.attrs
        table = _NEXT.get(style)
        if table is None:
            table = _NEXT.setdefault(style, {})
        getters = [cells_for(style).__getitem__]
        more = getters.append
        for params in parts[1::2]:  # the style of each text run, via transition tables
            step = table.get(params)
            if step is None:
                step = _step(style, params)
                if len(table) < 256:
                    table[params] = step
            style, get, table = step
            more(get)
        cells = list(chain.from_iterable(map(map, getters, parts[0::2])))
        buffer = self.buffer
        dirty = self.dirty
        hints = self._width_hints
        if len(hints) > 4 * self.lines:
            hints.clear()
        clean = self._clean
        if len(clean) > 4 * self.lines:
            clean.clear()
        tails = self._blank_tails
        if len(tails) != cols + 1:
            blank = [BLANK] * cols
            tails = self._blank_tails = [blank[k:] for k in range(cols + 1)]
        bottom = self.lines - 1
        simple = self.margins is None and self._alt is None
        count = len(widths)
        a = 0  # where line i starts in cells
        i = 0
        # line by line until the cursor is on a fresh bottom row of the main screen
        while i < count:
            if simple and cursor.y == bottom and cursor.x == 0 and buffer[bottom] == tails[0]:
                break
            w = widths[i]
            if w:
                x = cursor.x
                row = buffer[cursor.y]
                clean.pop(id(row), None)
                stop = x + w
                if 0 < x < cols and row[x].data == "":
                    row[x - 1] = BLANK
                row[x:stop] = cells[a : a + w]
                if stop < cols and row[stop].data == "":
                    row[stop] = BLANK
                dirty.add(cursor.y)
                hints[id(row)] = (row, stop)
            a += w + 2
            i += 1
            cursor.x = 0
            self.index()
        cursor.attrs = style
        if i == count:
            return True
        # the cursor is at column 0 of a fresh bottom row: every remaining line
        # scrolls the screen by one. The rows leaving the top, in order: the rows
        # above the cursor, then the new lines; the screen keeps the last rows of
        # that sequence plus a fresh blank row.
        m = count - i
        ws = widths[i:]
        starts = list(accumulate([w + 2 for w in ws[:-1]], initial=a))
        # line k is cells[lines[k]] (map/slice: no Python-level loop per line)
        lines = list(map(slice, starts, map(add, starts, ws)))
        above = buffer[:bottom]
        gone = min(m, bottom)  # rows of the old screen that scroll off
        first_stay = max(0, m - bottom)  # the first new line that stays on screen
        keep = self.history.maxlen
        if keep > 0:
            out: list[list[Cell]] = []
            push = out.append
            for row in above[max(0, gone - keep) : gone]:
                done = clean.pop(id(row), None)
                if done is not None and done[0] is row:
                    push(done[1])
                    continue
                hint = hints.pop(id(row), None)
                if hint is not None and hint[0] is row:
                    # a width hint (see _push_history), verified
                    e = hint[1]
                    if 0 < e <= cols and row[e - 1] is not BLANK and row[e:] == tails[e]:
                        push(row[:e])
                        continue
                push(_trim(row, tails))
            if first_stay > 0:
                lo = len(out)
                out += map(cells.__getitem__, lines[max(0, first_stay - keep) : first_stay])
                if " \r\n" in stripped or stripped.endswith(" "):  # trim trailing blanks
                    out[lo:] = [_trim(row, tails) for row in out[lo:]]
            self.history.extend(out)
        shown = list(map(cells.__getitem__, lines[first_stay:]))
        new_rows = list(map(add, shown, map(tails.__getitem__, ws[first_stay:])))
        if " \r\n" in stripped or stripped.endswith(" "):
            shown = [_trim(row, tails) for row in shown]
        clean.update(zip(map(id, new_rows), zip(new_rows, shown)))  # noqa: B905
        buffer[:] = above[gone:] + new_rows + [[BLANK] * cols]
        cursor.y = bottom
        cursor.x = 0
        if len(dirty) < self.lines:
            dirty.update(range(self.lines))
        return True

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
        name = _CSI.get(final)
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

    def _designate(self, which: str, code: str) -> None:
        self._g[0 if which == "(" else 1] = VT100_MAP if code == "0" else None

    def _answer(self, text: str) -> None:
        if self.reply is not None:
            self.reply(text.encode())

    def write_process_input(self, data: str) -> None:
        self._answer(data)

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
        tabs = text.find("\t", pos, p2) >= 0  # a short line with tabs can still wrap
        if tabs or max(map(len, text[pos:p2].split("\n"))) > cols // 2:
            for line in text[pos:p2].split("\n"):
                if len(line) > cols // 2 or (tabs and "\t" in line):
                    plain = _SGR.sub("", line).replace("\r", "")
                    width = len(plain) if plain.isascii() else 2 * len(plain)
                    if width + 7 * plain.count("\t") > cols:
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
            style = _style_after(start_style, text, p1, q) if q > p1 else start_style
            self._push_lazy_blocks(text, q, p2, count, style)
        self.cursor.attrs = _style_after(start_style, text, p1, p2)
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
            style = _style_after(style, text, start, stop)
            start = stop

    @staticmethod
    def _render_block(block: LazyBlock) -> list[Line]:
        scratch = Emulator(block.columns, 1, block.count + 1, lazy_scrollback=False)
        scratch.cursor.attrs = block.style
        scratch.feed_text(block.text)
        return list(scratch.history)

    # ------------------------------------------------------------------ drawing

    def draw(self, data: str) -> None:
        g = self._g[self.charset]
        if g is not None:
            data = data.translate(g)
        if data.isascii() and data.isprintable() and mo.IRM not in self.mode:
            self._draw_ascii(data)
        else:
            self._draw_slow(data)

    def _draw_ascii(self, data: str) -> None:
        cursor = self.cursor
        cells = cells_for(cursor.attrs)
        cols = self.columns
        get = cells.__getitem__
        n = len(data)
        pos = 0
        while pos < n:
            x = cursor.x
            if x >= cols:
                if mo.DECAWM in self.mode:
                    cursor.x = x = 0
                    self.index()
                else:
                    x = cols - 1
                    pos = n - 1
            row = self.buffer[cursor.y]
            self._clean.pop(id(row), None)
            take = min(n - pos, cols - x)
            end = x + take
            if x > 0 and row[x].data == "":
                row[x - 1] = BLANK  # overwrote the right half of a wide char
            row[x:end] = map(get, data[pos : pos + take])
            if end < cols and row[end].data == "":
                row[end] = BLANK
            cursor.x = end
            pos += take
            self.dirty.add(cursor.y)

    def _draw_slow(self, data: str) -> None:
        cursor = self.cursor
        cells = cells_for(cursor.attrs)
        cols = self.columns
        insert = mo.IRM in self.mode
        wrap = mo.DECAWM in self.mode
        for char in data:
            w = char_width(char)
            if w < 0 or w > cols:
                continue
            if w == 0:
                self._combine(char)
                continue
            if cursor.x + w > cols:
                if wrap:
                    cursor.x = 0
                    self.index()
                else:
                    cursor.x = cols - w
            x = cursor.x
            row = self.buffer[cursor.y]
            self._clean.pop(id(row), None)
            if x > 0 and row[x].data == "":
                row[x - 1] = BLANK
            if insert:
                row[x:x] = [cells[char]] + ([Cell("", cursor.attrs)] if w == 2 else [])
                del row[cols:]
            else:
                row[x] = cells[char]
                if w == 2:
                    row[x + 1] = Cell("", cursor.attrs)
            end = x + w
            if end < cols and row[end].data == "":
                row[end] = BLANK
            cursor.x = end
            self.dirty.add(cursor.y)

    def _combine(self, char: str) -> None:
        row = self.buffer[self.cursor.y]
        self._clean.pop(id(row), None)
        x = min(self.cursor.x, self.columns) - 1
        if x > 0 and row[x].data == "":
            x -= 1
        if x >= 0:
            prev = row[x]
            row[x] = Cell(prev.data + char, prev.style)
            self.dirty.add(self.cursor.y)

    # ---------------------------------------------------------------- scrolling

    def _push_history(self, row: list[Cell]) -> None:
        if self.history.maxlen == 0:
            return
        done = self._clean.pop(id(row), None)
        if done is not None and done[0] is row:
            self.history.push(done[1])
            return
        # trim trailing blanks: binary search on "row[k:] is all blank" (C-speed compares)
        n = len(row)
        if row[-1] is BLANK:
            tails = self._blank_tails
            if len(tails) != n + 1:
                blank = [BLANK] * n
                tails = self._blank_tails = [blank[k:] for k in range(n + 1)]
            hint = self._width_hints.pop(id(row), None)
            if hint is not None and hint[0] is row:
                # a hint from the bulk line drawer; verified, so other writes cannot fool it
                e = hint[1]
                if 0 < e <= n and row[e - 1] is not BLANK and row[e:] == tails[e]:
                    self.history.push(row[:e])
                    return
            lo, hi = 0, n
            while lo < hi:
                mid = (lo + hi) // 2
                if row[mid:] == tails[mid]:
                    hi = mid
                else:
                    lo = mid + 1
            row = row[:lo]
        self.history.push(row)

    def _region(self) -> tuple[int, int]:
        if self.margins is None:
            return 0, self.lines - 1
        return self.margins.top, self.margins.bottom

    def _scroll_up(self, top: int, bottom: int, count: int = 1) -> None:
        buffer = self.buffer
        cols = self.columns
        for _ in range(min(count, bottom - top + 1)):
            row = buffer.pop(top)
            if top == 0 and self._alt is None:
                self._push_history(row)
            buffer.insert(bottom, [BLANK] * cols)
        self.dirty.update(range(top, bottom + 1))

    def _scroll_down(self, top: int, bottom: int, count: int = 1) -> None:
        buffer = self.buffer
        cols = self.columns
        for _ in range(min(count, bottom - top + 1)):
            del buffer[bottom]
            buffer.insert(top, [BLANK] * cols)
        self.dirty.update(range(top, bottom + 1))

    def index(self) -> None:
        cursor = self.cursor
        if self.margins is None:
            bottom = self.lines - 1
            if cursor.y == bottom:
                row = self.buffer.pop(0)
                if self._alt is None:
                    self._push_history(row)
                self.buffer.append([BLANK] * self.columns)
                if len(self.dirty) < self.lines:
                    self.dirty.update(range(self.lines))
            else:
                cursor.y += 1
            return
        top, bottom = self.margins
        if cursor.y == bottom:
            self._scroll_up(top, bottom)
        elif cursor.y < self.lines - 1:
            cursor.y += 1

    def reverse_index(self) -> None:
        top, bottom = self._region()
        if self.cursor.y == top:
            self._scroll_down(top, bottom)
        elif self.cursor.y > 0:
            self.cursor.y -= 1

    def linefeed(self) -> None:
        self.index()
        if mo.LNM in self.mode:
            self.cursor.x = 0

    def scroll_up(self, count: int | None = None, **_: Any) -> None:
        top, bottom = self._region()
        self._scroll_up(top, bottom, count or 1)

    def scroll_down(self, count: int | None = None, **_: Any) -> None:
        top, bottom = self._region()
        self._scroll_down(top, bottom, count or 1)

    def insert_lines(self, count: int | None = None) -> None:
        top, bottom = self._region()
        if top <= self.cursor.y <= bottom:
            self._scroll_down(self.cursor.y, bottom, count or 1)
            self.cursor.x = 0

    def delete_lines(self, count: int | None = None) -> None:
        top, bottom = self._region()
        if top <= self.cursor.y <= bottom:
            buffer = self.buffer
            y = self.cursor.y
            for _ in range(min(count or 1, bottom - y + 1)):
                del buffer[y]
                buffer.insert(bottom, [BLANK] * self.columns)
            self.dirty.update(range(y, bottom + 1))
            self.cursor.x = 0

    # ------------------------------------------------------------------ erasing

    def _erase_cell(self) -> Cell:
        bg = self.cursor.attrs.bg
        return BLANK if bg == "default" else cells_for(DEFAULT._replace(bg=bg))[" "]

    def erase_characters(self, count: int | None = None) -> None:
        x = min(self.cursor.x, self.columns - 1)
        end = min(self.columns, x + (count or 1))
        self._clean.pop(id(self.buffer[self.cursor.y]), None)
        self.buffer[self.cursor.y][x:end] = [self._erase_cell()] * (end - x)
        self.dirty.add(self.cursor.y)

    def erase_in_line(self, how: int = 0, private: bool = False) -> None:
        row = self.buffer[self.cursor.y]
        self._clean.pop(id(row), None)
        x = min(self.cursor.x, self.columns - 1)
        cell = self._erase_cell()
        if how == 0:
            row[x:] = [cell] * (self.columns - x)
        elif how == 1:
            row[: x + 1] = [cell] * (x + 1)
        elif how == 2:
            row[:] = [cell] * self.columns
        self.dirty.add(self.cursor.y)

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        y = self.cursor.y
        cell = self._erase_cell()
        if how == 0:
            rows = range(y + 1, self.lines)
        elif how == 1:
            rows = range(0, y)
        elif how == 2:
            rows = range(self.lines)
        elif how == 3:
            self.history.clear()
            return
        else:
            return
        for r in rows:
            self.buffer[r] = [cell] * self.columns
        self.dirty.update(rows)
        if how in (0, 1):
            self.erase_in_line(how)

    def insert_characters(self, count: int | None = None) -> None:
        row = self.buffer[self.cursor.y]
        self._clean.pop(id(row), None)
        x = min(self.cursor.x, self.columns - 1)
        row[x:x] = [self._erase_cell()] * (count or 1)
        del row[self.columns :]
        self.dirty.add(self.cursor.y)

    def delete_characters(self, count: int | None = None) -> None:
        row = self.buffer[self.cursor.y]
        self._clean.pop(id(row), None)
        x = min(self.cursor.x, self.columns - 1)
        count = min(count or 1, self.columns - x)
        del row[x : x + count]
        row.extend([self._erase_cell()] * count)
        self.dirty.add(self.cursor.y)

    def alignment_display(self) -> None:
        e = cells_for(DEFAULT)["E"]
        self.buffer = [[e] * self.columns for _ in range(self.lines)]
        self.dirty.update(range(self.lines))

    # ------------------------------------------------------------------ modes

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        ms = [m << 5 for m in modes] if kwargs.get("private") else list(modes)
        for m in ms:
            if m in _ALT_MODES:
                self._enter_alt(m)
        self.mode.update(ms)
        if mo.DECTCEM in ms:
            self.cursor.hidden = False
        if mo.DECSCNM in ms:
            self.dirty.update(range(self.lines))
        if mo.DECOM in ms:
            self.cursor_position()

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        ms = [m << 5 for m in modes] if kwargs.get("private") else list(modes)
        for m in ms:
            if m in _ALT_MODES:
                self._leave_alt(m)
        self.mode.difference_update(ms)
        if mo.DECTCEM in ms:
            self.cursor.hidden = True
        if mo.DECSCNM in ms:
            self.dirty.update(range(self.lines))
        if mo.DECOM in ms:
            self.cursor_position()

    def _enter_alt(self, mode: int) -> None:
        if self._alt is not None:
            return
        if mode == ALT_1049:
            self._alt_cursor = copy.copy(self.cursor)
        self._alt = self.buffer
        self.buffer = [[BLANK] * self.columns for _ in range(self.lines)]
        self.dirty.update(range(self.lines))

    def _leave_alt(self, mode: int) -> None:
        if self._alt is None:
            return
        self.buffer = self._alt
        self._alt = None
        if mode == ALT_1049 and self._alt_cursor is not None:
            self.cursor = self._alt_cursor
            self._alt_cursor = None
            self.ensure_hbounds()
            self.ensure_vbounds()
        self.dirty.update(range(self.lines))

    def select_graphic_rendition(self, *attrs: int, private: bool = False) -> None:
        if not private:
            self.cursor.attrs = sgr(self.cursor.attrs, ";".join(map(str, attrs)))

    def set_icon_name(self, param: str) -> None:
        self.icon_name = param

    def define_charset(self, code: str, mode: str) -> None:
        self._designate(mode, code)

    # ---------------------------------------------------------------- queries

    def report_device_attributes(self, mode: int = 0, **kwargs: Any) -> None:
        if mode == 0 and not kwargs.get("private"):
            self._answer("\x1b[?62;22c")

    def report_device_status(self, mode: int, **kwargs: Any) -> None:
        if mode == 5:
            self._answer("\x1b[0n")
        elif mode == 6:
            x = min(self.cursor.x, self.columns - 1) + 1
            y = self.cursor.y + 1
            if self.margins is not None and mo.DECOM in self.mode:
                y -= self.margins.top
            self._answer(f"\x1b[{'?' if kwargs.get('private') else ''}{y};{x}R")

    # ------------------------------------------------------------------ size

    def resize(self, columns: int | None = None, lines: int | None = None) -> None:  # type: ignore[override]
        """Resize to ``columns`` x ``lines`` (note the order: columns first)."""
        columns = max(1, columns or self.columns)
        lines = max(1, lines or self.lines)
        if columns == self.columns and lines == self.lines:
            return
        self._clean.clear()  # rows change in place below
        if lines < self.lines and self.cursor.y >= lines:
            shift = self.cursor.y - lines + 1
            for row in self.buffer[:shift]:
                if self._alt is None:
                    self._push_history(row)
            del self.buffer[:shift]
            self.cursor.y -= shift
        buffers = [self.buffer] + ([self._alt] if self._alt is not None else [])
        for buf in buffers:
            del buf[lines:]
            buf.extend([BLANK] * self.columns for _ in range(lines - len(buf)))
            for i, row in enumerate(buf):
                if columns < len(row):
                    row = row[:columns]
                    if row[-1].data and char_width(row[-1].data[0]) == 2:
                        row[-1] = BLANK
                    buf[i] = row
                elif columns > len(row):
                    row.extend([BLANK] * (columns - len(row)))
        self.columns = columns
        self.lines = lines
        self.margins = None
        self.tabstops = set(range(8, columns, 8))
        self.cursor.x = min(self.cursor.x, columns - 1)
        self.cursor.y = min(self.cursor.y, lines - 1)
        self.dirty.update(range(lines))


_CSI: dict[str, str] = dict(Stream.csi)
_CSI.update({"S": "scroll_up", "T": "scroll_down", "s": "save_cursor", "u": "restore_cursor"})
