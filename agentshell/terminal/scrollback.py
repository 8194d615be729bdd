"""Scrollback storage for the emulator.

Rows that scroll off the top of the main screen are kept in a bounded deque. A row
is stored as it left the screen (a list of cells, trailing blanks trimmed) and turned
into a :class:`Line` when somebody reads it. Bursts that scroll many screenfuls at
once are stored *lazily*: the raw text of those lines in blocks of a few hundred,
each with the style in effect at its start (a :class:`LazyBlock`); a block is
emulated the first time one of its rows is read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from itertools import repeat

from agentshell.terminal.frames import Line
from agentshell.terminal.style import Cell, Style


class LazyBlock:
    """Raw text of ``count`` complete lines, each ending ``\\r\\n`` and fitting one row."""

    __slots__ = ("_render", "columns", "count", "rows", "style", "text")

    def __init__(
        self,
        text: str,
        style: Style,
        columns: int,
        count: int,
        render: Callable[[LazyBlock], list[Line]],
    ) -> None:
        self.text = text
        self.style = style
        self.columns = columns
        self.count = count
        self.rows: list[Line] | None = None
        self._render = render

    def row(self, i: int) -> Line:
        if self.rows is None:
            rows = self._render(self)
            if len(rows) < self.count:
                rows.extend([Line("", ())] * (self.count - len(rows)))
            self.rows = rows
            self.text = ""
        return self.rows[i]


Entry = Line | list[Cell] | LazyBlock


class Scrollback:
    """A bounded sequence of scrolled-off rows, oldest first; items are :class:`Line`."""

    def __init__(self, maxlen: int) -> None:
        self._rows: deque[Entry] = deque(maxlen=max(0, maxlen))

    @property
    def maxlen(self) -> int:
        return self._rows.maxlen or 0

    def __len__(self) -> int:
        return len(self._rows)

    def __bool__(self) -> bool:
        return bool(self._rows)

    @property
    def newest(self) -> object:
        """The newest stored entry as it is held (not turned into a Line, a lazy block
        not emulated): another object here means the rows moved on. None if empty."""
        return self._rows[-1] if self._rows else None

    def entries_after(self, entry: object) -> int | None:
        """How many entries were stored after ``entry`` (one of :attr:`newest`'s
        values), None when it is no longer held (dropped, or turned into a Line)."""
        for k, held in enumerate(reversed(self._rows)):
            if held is entry:
                return k
        return None

    def push(self, cells: list[Cell]) -> None:
        self._rows.append(cells)

    @property
    def append(self) -> Callable[[list[Cell]], None]:
        """The bound append of the underlying deque (for the emulator's hot loop)."""
        return self._rows.append

    def extend(self, rows: list[list[Cell]]) -> None:
        self._rows.extend(rows)

    def push_lazy(self, block: LazyBlock) -> None:
        # the block object itself stands for each of its rows (no object per row);
        # its rows are contiguous, so a row's place in the run gives its index
        self._rows.extend(repeat(block, min(block.count, self.maxlen)))

    def clear(self) -> None:
        self._rows.clear()

    def copy(self) -> Scrollback:
        """An independent scrollback holding the same rows (rows are never changed
        in place once stored; a lazy block renders the same rows for every holder)."""
        new = Scrollback(self.maxlen)
        new._rows.extend(self._rows)
        return new

    def _materialise(self, index: int, block: LazyBlock) -> None:
        rows = self._rows
        start = index
        while start > 0 and rows[start - 1] is block:
            start -= 1
        end = index + 1
        while end < len(rows) and rows[end] is block:
            end += 1
        dropped = block.count - (end - start)  # rows that fell off the front
        for j in range(start, end):
            rows[j] = block.row(dropped + j - start)

    def __getitem__(self, index: int) -> Line:
        if index < 0:
            index += len(self._rows)
        entry = self._rows[index]
        if isinstance(entry, Line):
            return entry
        if isinstance(entry, LazyBlock):
            self._materialise(index, entry)
            line = self._rows[index]
            assert isinstance(line, Line)
            return line
        line = Line.from_cells(entry)
        self._rows[index] = line
        return line

    def __iter__(self) -> Iterator[Line]:
        for i in range(len(self._rows)):
            yield self[i]

    def text(self) -> list[str]:
        """Every row's text, trailing spaces removed."""
        return [line.text.rstrip() for line in self]
