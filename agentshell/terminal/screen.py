"""The screen: rows of shared cells, the cursor, and what escape sequences do to them.

A ``pyte.Screen`` subclass (pyte's cursor moves, tab stops and save/restore are
inherited); the screen is a list of rows, each row a list of shared :class:`Cell`
objects (one cell object per (char, style), see :mod:`.style`). Scrolling pops one
row and inserts a blank one; it never touches the other rows' cells. Rows leaving
the top of the main screen go to the :class:`Scrollback`, trailing blanks trimmed.
No parsing here: :mod:`.parser` and the fast paths call these methods.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from itertools import accumulate, chain
from typing import Any

import pyte
from pyte import modes as mo
from pyte.charsets import VT100_MAP
from pyte.screens import Margins

from agentshell.terminal.frames import Frame, Line
from agentshell.terminal.scan import LINE_SPLIT, WIDTHS, char_width, drop_overdrawn
from agentshell.terminal.scrollback import Scrollback
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


class Expansion(dict[str, tuple[Cell, ...]]):
    """char -> the cells it takes in one style: one, or a wide character and its
    right half (``Cell("", style)``); a mark of width 0 takes none. A character
    followed by marks (a cluster, several characters) takes the cells of the
    character, the first holding the cluster."""

    __slots__ = ("cells",)

    def __init__(self, style: Style) -> None:
        super().__init__()
        self.cells = cells_for(style)

    def __missing__(self, char: str) -> tuple[Cell, ...]:
        got: tuple[Cell, ...]
        if len(char) > 1:  # a character and the marks of no width after it: one cell
            cell = Cell(char, self.cells.style)
            got = (cell, self.cells[""]) if char_width(char[0]) == 2 else (cell,)
            if len(self) < 8192:  # (clusters are many; characters are few)
                self[char] = got
            return got
        w = char_width(char)
        if w == 2:
            got = (self.cells[char], self.cells[""])
        elif w == 1:
            got = (self.cells[char],)
        else:
            got = ()
        self[char] = got
        return got


_EXPANSIONS: dict[Style, Expansion] = {}


def expansion(style: Style) -> Expansion:
    got = _EXPANSIONS.get(style)
    if got is None:
        if len(_EXPANSIONS) > 4096:
            _EXPANSIONS.clear()
        got = _EXPANSIONS.setdefault(style, Expansion(style))
    return got


def text_cells(data: str, style: Style) -> tuple[str, list[Cell]] | None:
    """``data`` (printable text) as cells in ``style``: ``(marks, cells)``, where
    ``marks`` are the marks of width 0 at its start (they join the cell already on
    screen before the cursor) and a wide character is followed by its right half.
    None when ``data`` holds a character of no width (a control character)."""
    maybe = list(map(WIDTHS.get, data))
    widths: list[int] = list(map(char_width, data)) if None in maybe else maybe  # type: ignore[assignment]
    if -1 in widths:
        return None
    n = len(data)
    i = 0
    while i < n and widths[i] == 0:
        i += 1
    marks = data[:i]
    if i:
        del widths[:i]
        data = data[i:]
        n -= i
    if 2 not in widths and 0 not in widths:  # narrow: box drawing, blocks, letters...
        return marks, list(map(cells_for(style).__getitem__, data))
    if 1 not in widths and 0 not in widths:  # all wide (CJK, emoji): cell, half, ...
        cells = cells_for(style)
        out = [cells[""]] * (2 * n)
        out[0::2] = map(cells.__getitem__, data)
        return marks, out
    else:
        out = list(chain.from_iterable(map(expansion(style).__getitem__, data)))
    if n and 0 in widths:  # each run of marks joins the cell of the character before it
        ends = list(accumulate(widths))  # where each character's cells end in out
        index = widths.index
        k = index(0, 1)
        while True:
            e = k + 1
            while e < n and widths[e] == 0:
                e += 1
            at = ends[k - 1] - widths[k - 1]  # the base cell
            base = out[at]
            out[at] = Cell(base.data + data[k:e], base.style)
            try:
                k = index(0, e)
            except ValueError:
                break
    return marks, out


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


class Screen(_ScreenBase):  # type: ignore[misc]
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
    ) -> None:
        self.columns = max(1, columns)
        self.lines = max(1, lines)
        self.history = Scrollback(scrollback)
        self.reply = write_process_input
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
        # x -> where TAB moves the cursor from column x (None: work it out again)
        self._tab_table: list[int] | None = None
        self.cursor = Cursor()
        self.reset()

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
        self._tab_table = None
        self.cursor = Cursor(0, 0, DEFAULT)
        self.savepoints = []

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

    # ------------------------------------------------------------------ drawing

    def draw(self, data: str) -> None:
        g = self._g[self.charset]
        if g is not None:
            data = data.translate(g)
        if mo.IRM in self.mode or self.columns < 2:
            self._draw_slow(data)
        elif data.isascii() and data.isprintable():
            self._draw_ascii(data)
        else:
            self._draw_text(data)

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

    def _draw_text(self, data: str) -> None:
        """Draw a run of any printable text (wide characters, combining marks) a row
        at a time, as :meth:`_draw_slow` does it a character at a time: a mark of
        width 0 joins the cell before it, a wide character that does not fit in the
        row wraps whole (the last column keeps what it had)."""
        cursor = self.cursor
        got = text_cells(data, cursor.attrs)
        if got is None:
            self._draw_slow(data)
            return
        marks, out = got
        for mark in marks:
            self._combine(mark)
        cols = self.columns
        buffer = self.buffer
        clean = self._clean
        dirty = self.dirty
        total = len(out)
        p = 0
        while p < total:
            x = cursor.x
            take = min(total - p, cols - x)
            if take < total - p and take > 0 and out[p + take].data == "":
                take -= 1  # a wide character that does not fit: it wraps whole
            if take <= 0:
                if mo.DECAWM not in self.mode:
                    self._draw_slow("".join(c.data for c in out[p:]))
                    return
                cursor.x = 0
                self.index()
                continue
            y = cursor.y
            row = buffer[y]
            clean.pop(id(row), None)
            end = x + take
            if x > 0 and row[x].data == "":
                row[x - 1] = BLANK  # overwrote the right half of a wide char
            row[x:end] = out[p : p + take]
            if end < cols and row[end].data == "":
                row[end] = BLANK
            cursor.x = end
            p += take
            dirty.add(y)

    def _draw_line(self, text: str, start: int, end: int, fresh: bool) -> None:
        """Draw ``text[start:end]``, one plain line (text, SGR, TAB, CR, BS, BEL, erase
        in line, CUB / CUF / CHA; no LF), as the tokenizer would, a row at a time: the
        row is built on a copy and put back when the line wraps or ends. Anything
        else hands the rest of the line to the tokenizer. ``fresh``: the cursor's row
        is blank (no copy of it needed)."""
        cursor = self.cursor
        cols = self.columns
        wrap = mo.DECAWM in self.mode
        if wrap and text.count("\r", start, end) > 2:  # redraws: skip the overdrawn ones
            line = drop_overdrawn(text[start:end], cols)
            if len(line) != end - start:
                text, start, end = line, 0, len(line)
        buffer = self.buffer
        y = cursor.y
        row = buffer[y]
        cells = [BLANK] * cols if fresh else row[:]
        x = cursor.x
        style = cursor.attrs
        get: Any = None
        hi = 0
        parts = LINE_SPLIT.split(text, 0) if start == 0 and end == len(text) else None
        if parts is None:
            parts = LINE_SPLIT.split(text[start:end])
        last = len(parts) - 1
        off = start  # where parts[k] starts in text
        k = 0
        while True:
            part = parts[k]
            if part:
                out: list[Cell] | None = None
                if "\x1b" not in part:
                    if part.isascii():
                        if get is None:
                            get = cells_for(style).__getitem__
                        out = list(map(get, part))
                    else:
                        got = text_cells(part, style)
                        if got is not None:
                            marks, out = got
                            if marks:  # they join the cell before the cursor
                                at = min(x, cols) - 1
                                if at > 0 and cells[at].data == "":
                                    at -= 1
                                if at >= 0:
                                    prev = cells[at]
                                    cells[at] = Cell(prev.data + marks, prev.style)
                if out is None or (not wrap and len(out) > cols - x):
                    # another escape sequence, or a line that does not wrap: the rest
                    # of the line goes to the tokenizer
                    self._put_row(y, row, cells, hi)
                    cursor.x = x
                    cursor.attrs = style
                    self._run(text, off, end)
                    return
                total = len(out)
                p = 0
                while p < total:
                    take = min(total - p, cols - x)
                    if take < total - p and take > 0 and out[p + take].data == "":
                        take -= 1  # a wide character that does not fit: it wraps whole
                    if take <= 0:  # wrap: this row is done, the line goes on below
                        self._put_row(y, row, cells, hi)
                        cursor.x = 0
                        cursor.attrs = style
                        self.index()
                        buffer = self.buffer
                        y = cursor.y
                        row = buffer[y]
                        cells = row[:]
                        x = hi = 0
                        continue
                    stop = x + take
                    if x > 0 and cells[x].data == "":
                        cells[x - 1] = BLANK  # overwrote the right half of a wide char
                    cells[x:stop] = out[p : p + take] if p or take < total else out
                    if stop < cols and cells[stop].data == "":
                        cells[stop] = BLANK
                    x = stop
                    p += take
                    if stop > hi:
                        hi = stop
            if k == last:
                break
            token = parts[k + 1]
            off += len(part) + len(token)
            k += 2
            if token == "\t":
                x = self._next_tab(x)
            elif token == "\r":
                x = 0
            elif token == "\x08":
                x = max(0, min(x - 1 if x < cols else cols - 2, cols - 1))
            elif token == "\x07":
                pass
            else:
                final = token[-1]
                params = token[2:-1]
                if final == "m":
                    style = sgr(style, params)
                    get = None
                    continue
                count = min(int(params or 0), 9999)
                if final == "K":
                    bg = style.bg
                    cell = BLANK if bg == "default" else cells_for(DEFAULT._replace(bg=bg))[" "]
                    at = min(x, cols - 1)
                    if count == 0:
                        cells[at:] = [cell] * (cols - at)
                    elif count == 1:
                        cells[: at + 1] = [cell] * (at + 1)
                    elif count == 2:
                        cells[:] = [cell] * cols
                elif final == "D":
                    if x == cols:
                        x -= 1
                    x = max(0, min(x - (count or 1), cols - 1))
                elif final == "C":
                    x = max(0, min(x + (count or 1), cols - 1))
                else:  # G
                    x = max(0, min((count or 1) - 1, cols - 1))
        self._put_row(y, row, cells, hi)
        cursor.x = x
        cursor.attrs = style

    def _put_row(self, y: int, old: list[Cell], cells: list[Cell], width: int) -> None:
        """Row ``y`` (which was ``old``) is now ``cells``, drawn up to ``width``."""
        self._clean.pop(id(old), None)
        self.buffer[y] = cells
        if width:
            self._width_hints[id(cells)] = (cells, width)
        self.dirty.add(y)

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

    def _next_tab(self, x: int) -> int:
        """The column TAB moves to from ``x``: the next tab stop, else the last column."""
        table = self._tab_table
        if table is None:
            stops = sorted(self.tabstops)
            last = self.columns - 1
            table = [next((s for s in stops if s > x0), last) for x0 in range(self.columns + 1)]
            self._tab_table = table
        return table[x] if 0 <= x < len(table) else self.columns - 1

    def tab(self) -> None:
        self.cursor.x = self._next_tab(self.cursor.x)

    def set_tab_stop(self) -> None:
        super().set_tab_stop()
        self._tab_table = None

    def clear_tab_stop(self, how: int = 0) -> None:
        super().clear_tab_stop(how)
        self._tab_table = None

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

    def _designate(self, which: str, code: str) -> None:
        self._g[0 if which == "(" else 1] = VT100_MAP if code == "0" else None

    def _answer(self, text: str) -> None:
        if self.reply is not None:
            self.reply(text.encode())

    def write_process_input(self, data: str) -> None:
        self._answer(data)

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
        self._tab_table = None
        self.cursor.x = min(self.cursor.x, columns - 1)
        self.cursor.y = min(self.cursor.y, lines - 1)
        self.dirty.update(range(lines))
