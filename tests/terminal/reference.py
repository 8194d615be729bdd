"""Stock pyte as the reference screen, and a cell-by-cell comparison with ours.

:class:`Reference` is ``pyte.Screen`` with the two things pyte does not emulate added
the way this emulator (and xterm) does them, nothing else changed:

* the alternate screen (private modes 1049 / 1047 / 47): a blank screen while it is
  shown, the main screen back when it is left (1049 also saves and restores the
  cursor);
* scrollback: a row goes to the history when it scrolls off the top of the main
  screen (a scroll region starting at row 0 included), as ``pyte.HistoryScreen``
  does but not for regions lower down and not on the alternate screen.

The comparison (:func:`screen_cells`, :func:`history_lines`) normalises what differs
only in representation: colour names (pyte says ``brown`` / ``brightred`` /
``ff8700``, we say ``yellow`` / ``bright_red`` / ``color(208)``), characters with
combining marks (pyte stores them NFC-normalised), and the style of blank cells,
where only what shows counts (pyte fills erased cells with every attribute of the
cursor, we with its background, as xterm does).
"""

from __future__ import annotations

import copy
import unicodedata
from collections import defaultdict, deque
from typing import Any

import pyte
from pyte.graphics import FG_BG_256
from pyte.screens import Margins, StaticDefaultDict

from agentshell.terminal import Emulator, Line, Style

_ALT = (1049 << 5, 1047 << 5, 47 << 5)
_NAMES = {"yellow": "brown", "bright_yellow": "brightbrown"}

Key = tuple[str, tuple[Any, ...] | None]


class Reference(pyte.Screen):  # type: ignore[misc]
    def __init__(self, columns: int, lines: int, history: int = 10_000) -> None:
        super().__init__(columns, lines)
        self.top: deque[Any] = deque(maxlen=history)
        self.main: Any = None
        self.main_cursor: Any = None

    def index(self) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        if self.cursor.y == bottom and top == 0 and self.main is None:
            self.top.append(self.buffer[top])
        super().index()

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            for m in modes:
                if m << 5 in _ALT and self.main is None:
                    if m << 5 == _ALT[0]:
                        self.main_cursor = copy.copy(self.cursor)
                    self.main = self.buffer
                    self.buffer = defaultdict(lambda: StaticDefaultDict(self.default_char))
                    self.dirty.update(range(self.lines))
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            for m in modes:
                if m << 5 in _ALT and self.main is not None:
                    self.buffer = self.main
                    self.main = None
                    if m << 5 == _ALT[0] and self.main_cursor is not None:
                        self.cursor = self.main_cursor
                        self.main_cursor = None
        super().reset_mode(*modes, **kwargs)


def reference(data: bytes, columns: int, lines: int, history: int = 10_000) -> Reference:
    screen = Reference(columns, lines, history)
    pyte.ByteStream(screen).feed(data)
    return screen


def _colour(value: str) -> str:
    if value.startswith("color("):
        return FG_BG_256[int(value[6:-1])]
    if value.startswith("#"):
        return value[1:]
    value = _NAMES.get(value, value)
    return value.replace("bright_", "bright")


def _ours(style: Style) -> tuple[Any, ...]:
    return (
        _colour(style.fg),
        _colour(style.bg),
        style.bold,
        style.italics,
        style.underscore,
        style.reverse,
        style.strikethrough,
        style.blink,
    )


def _theirs(char: Any) -> tuple[Any, ...]:
    return (
        char.fg,
        char.bg,
        char.bold,
        char.italics,
        char.underscore,
        char.reverse,
        char.strikethrough,
        char.blink,
    )


def _key(data: str, style: tuple[Any, ...]) -> Key:
    if data == "":
        return ("", None)  # the right half of a wide character: its style never shows
    data = unicodedata.normalize("NFC", data)
    if data == " ":  # a blank shows its background (or, reversed, its foreground)
        return (" ", (style[0] if style[5] else "default", style[1], style[5]))
    return (data, style)


def _cursor(screen: Any) -> tuple[int, int]:
    return (screen.cursor.x, screen.cursor.y)


def screen_cells(emu: Emulator | Reference) -> list[list[Key]]:
    """Every cell on screen as (text, what its style shows), row by row."""
    if isinstance(emu, Emulator):
        return [[_key(c.data, _ours(c.style)) for c in row] for row in emu.buffer]
    return [
        [_key(emu.buffer[y][x].data, _theirs(emu.buffer[y][x])) for x in range(emu.columns)]
        for y in range(emu.lines)
    ]


def _trimmed(keys: list[Key]) -> list[Key]:
    blank = _key(" ", _theirs(pyte.screens.Char(" ")))
    while keys and keys[-1] == blank:
        keys.pop()
    return keys


def _line_keys(line: Line) -> list[Key]:
    """A scrollback row of ours as keys: its cells as they were (a combining mark
    stays with its base character; wide characters' right halves carry no text)."""
    keys: list[Key] = []
    style_key: tuple[Any, ...]
    for text, style in line.segments:
        style_key = _ours(style)
        current = ""
        for ch in text:
            if current and unicodedata.combining(ch):
                current += ch
                continue
            if current:
                keys.append(_key(current, style_key))
            current = ch
        if current:
            keys.append(_key(current, style_key))
    return _trimmed(keys)


def history_lines(emu: Emulator | Reference) -> list[list[Key]]:
    """Every scrollback row, oldest first, trailing blanks removed."""
    if isinstance(emu, Emulator):
        return [_line_keys(line) for line in emu.history]
    rows = []
    for row in emu.top:
        keys = [_key(row[x].data, _theirs(row[x])) for x in range(emu.columns)]
        rows.append(_trimmed([k for k in keys if k[0] != ""]))
    return rows


def state(emu: Emulator | Reference) -> dict[str, Any]:
    """What the comparison covers: screen cells, cursor, its style, scrollback."""
    attrs = emu.cursor.attrs
    return {
        "screen": screen_cells(emu),
        "cursor": _cursor(emu),
        "attrs": _ours(attrs) if isinstance(emu, Emulator) else _theirs(attrs),
        "history": history_lines(emu),
    }


def first_difference(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    """A readable account of the first place the two states differ ('' if none)."""
    for name in ("cursor", "attrs"):
        if ours[name] != theirs[name]:
            return f"{name}: ours {ours[name]} pyte {theirs[name]}"
    for y, (a, b) in enumerate(zip(ours["screen"], theirs["screen"], strict=True)):
        if a != b:
            x = next(i for i, (p, q) in enumerate(zip(a, b, strict=True)) if p != q)
            text_a = "".join(k[0] for k in a).rstrip()
            text_b = "".join(k[0] for k in b).rstrip()
            return (
                f"screen row {y} col {x}: ours {a[x]} pyte {b[x]}\n"
                f"  ours: {text_a!r}\n  pyte: {text_b!r}"
            )
    ha, hb = ours["history"], theirs["history"]
    if len(ha) != len(hb):
        return f"scrollback: ours {len(ha)} rows, pyte {len(hb)}"
    for i, (a, b) in enumerate(zip(ha, hb, strict=True)):
        if a != b:
            text_a = "".join(k[0] for k in a)
            text_b = "".join(k[0] for k in b)
            return (
                f"scrollback row {i}:\n  ours: {text_a!r}\n  pyte: {text_b!r}\n  {a[:8]}\n  {b[:8]}"
            )
    return ""
