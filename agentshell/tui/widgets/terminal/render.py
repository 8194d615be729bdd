"""Emulator cells -> Rich segments. Styles are cached: a screen uses few of them."""

from __future__ import annotations

from typing import Any

from rich.color import Color
from rich.segment import Segment
from rich.style import Style

_NAMED = {
    "black": 0,
    "red": 1,
    "green": 2,
    "brown": 3,
    "yellow": 3,
    "blue": 4,
    "magenta": 5,
    "cyan": 6,
    "white": 7,
}


def parse_color(value: Any) -> Color | None:
    """pyte colour names ("red", "brightred"), 6-digit hex, or 256-colour ints."""
    if value is None or value == "default" or value == "":
        return None
    if isinstance(value, int):
        return Color.from_ansi(value & 0xFF)
    if not isinstance(value, str):
        return None
    v = value.lower()
    if v in _NAMED:
        return Color.from_ansi(_NAMED[v])
    if v.startswith("bright") and v[6:].lstrip("_") in _NAMED:
        return Color.from_ansi(_NAMED[v[6:].lstrip("_")] + 8)
    if len(v) == 6:
        try:
            return Color.from_rgb(int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16))
        except ValueError:
            return None
    try:
        return Color.parse(v)
    except Exception:
        return None


class StyleCache:
    """Map an emulator style key to a Rich ``Style`` once."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], Style] = {}
        self.cursor = Style(reverse=True)

    def get(
        self,
        fg: Any,
        bg: Any,
        bold: bool = False,
        italics: bool = False,
        underscore: bool = False,
        strikethrough: bool = False,
        reverse: bool = False,
        blink: bool = False,
    ) -> Style:
        key = (fg, bg, bold, italics, underscore, strikethrough, reverse, blink)
        style = self._cache.get(key)
        if style is None:
            style = Style(
                color=parse_color(fg),
                bgcolor=parse_color(bg),
                bold=bold or None,
                italic=italics or None,
                underline=underscore or None,
                strike=strikethrough or None,
                reverse=reverse or None,
                blink=blink or None,
            )
            self._cache[key] = style
        return style


def char_style(cache: StyleCache, ch: Any) -> Style:
    return cache.get(
        ch.fg,
        ch.bg,
        ch.bold,
        ch.italics,
        ch.underscore,
        ch.strikethrough,
        ch.reverse,
        getattr(ch, "blink", False),
    )


def row_segments(
    cache: StyleCache, row: Any, columns: int, default: Any, cursor_x: int | None = None
) -> list[Segment]:
    """Segments for one pyte-style row (a mapping column -> Char with ``data``).

    Runs of cells with the same style become one segment; the empty cell after a wide
    character is skipped; the cursor cell is drawn reversed.
    """
    segments: list[Segment] = []
    run: list[str] = []
    run_style: Style | None = None
    get = row.get if hasattr(row, "get") else None
    for x in range(columns):
        ch = get(x, default) if get is not None else (row[x] if x < len(row) else default)
        data = ch.data
        if data == "":
            continue
        style = char_style(cache, ch)
        if x == cursor_x:
            if run:
                segments.append(Segment("".join(run), run_style))
                run = []
            segments.append(Segment(data or " ", style + cache.cursor))
            run_style = None
            continue
        if style is not run_style:
            if run:
                segments.append(Segment("".join(run), run_style))
            run = [data]
            run_style = style
        else:
            run.append(data)
    if run:
        segments.append(Segment("".join(run), run_style))
    return segments


class LineStyles:
    """Terminal ``Style`` tuples (agentshell.terminal.style) -> Rich styles, cached.

    The terminal layer's colours are already in Rich's vocabulary ("bright_red",
    "color(208)", "#00c8ff", "default").
    """

    def __init__(self) -> None:
        self._cache: dict[Any, Style] = {}
        self.cursor = Style(reverse=True)

    def get(self, st: Any) -> Style:
        style = self._cache.get(st)
        if style is None:
            fg, bg = st[0], st[1]
            style = Style(
                color=None if fg == "default" else parse_color(fg),
                bgcolor=None if bg == "default" else parse_color(bg),
                bold=st[2] or None,
                italic=st[3] or None,
                underline=st[4] or None,
                reverse=st[5] or None,
                strike=st[6] or None,
                blink=st[7] or None,
            )
            self._cache[st] = style
        return style


def line_segments(styles: LineStyles, line: Any, cursor_x: int | None = None) -> list[Segment]:
    """Rich segments of a terminal ``Line`` (its ``segments`` are ``(text, Style)`` runs)."""
    segs = [Segment(text, styles.get(st)) for text, st in line.segments]
    if cursor_x is None:
        return segs
    out: list[Segment] = []
    x = 0
    placed = False
    for seg in segs:
        n = seg.cell_length
        if not placed and x <= cursor_x < x + n:
            # split this run around the cursor cell
            before, rest = seg.split_cells(cursor_x - x)
            head, tail = rest.split_cells(1)
            if before.text:
                out.append(before)
            out.append(Segment(head.text or " ", (head.style or Style()) + styles.cursor))
            if tail.text:
                out.append(tail)
            placed = True
        else:
            out.append(seg)
        x += n
    if not placed:
        if cursor_x > x:
            out.append(Segment(" " * (cursor_x - x)))
        out.append(Segment(" ", styles.cursor))
    return out
