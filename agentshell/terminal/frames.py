"""Immutable screen frames, copy-on-write.

A :class:`Frame` is a tuple of :class:`Line` objects plus cursor, title and size.
Building the next frame rebuilds only the rows that changed and reuses every other
``Line`` object of the previous frame, so any number of subscribers can keep frames
around without copying the screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from agentshell.terminal.style import DEFAULT, Cell, Style


@dataclass(frozen=True, slots=True)
class Line:
    """One row: its text and its style runs ``((text, style), ...)`` covering the text."""

    text: str
    segments: tuple[tuple[str, Style], ...]

    @classmethod
    def from_cells(cls, cells: Iterable[Cell]) -> Line:
        segments: list[tuple[str, Style]] = []
        chars: list[str] = []
        current: Style | None = None
        for data, style in cells:
            if style is not current:
                if chars:
                    segments.append(("".join(chars), current))  # type: ignore[arg-type]
                chars = [data]
                current = style
            else:
                chars.append(data)
        if chars:
            segments.append(("".join(chars), current))  # type: ignore[arg-type]
        return cls("".join(s for s, _ in segments), tuple(segments))

    @classmethod
    def plain(cls, text: str, style: Style = DEFAULT) -> Line:
        return cls(text, ((text, style),) if text else ())

    def __str__(self) -> str:
        return self.text


EMPTY_LINE = Line("", ())


@dataclass(frozen=True, slots=True)
class Frame:
    """An immutable picture of a terminal screen.

    ``cursor`` is ``(x, y)``, 0-based, clamped into the screen.
    """

    lines: tuple[Line, ...]
    cursor: tuple[int, int]
    cursor_visible: bool
    title: str
    columns: int
    rows: int

    @property
    def display(self) -> list[str]:
        return [line.text for line in self.lines]

    def text(self) -> str:
        """The screen as text, trailing spaces of each row removed."""
        return "\n".join(line.text.rstrip() for line in self.lines)
