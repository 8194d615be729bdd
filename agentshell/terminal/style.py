"""Cell styles: small interned immutable objects, and SGR (``CSI ... m``) handling.

Colours are strings Rich understands as they are: ``"default"``, a named colour
(``"red"``, ``"bright_red"``), ``"color(N)"`` for the 256-colour palette, or
``"#rrggbb"`` for true colour.
"""

from __future__ import annotations

from typing import NamedTuple

NAMED = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
BRIGHT = tuple(f"bright_{n}" for n in NAMED)


class Style(NamedTuple):
    fg: str = "default"
    bg: str = "default"
    bold: bool = False
    italics: bool = False
    underscore: bool = False
    reverse: bool = False
    strikethrough: bool = False
    blink: bool = False


class Cell(NamedTuple):
    """One screen cell. A wide character's right half is a cell with ``data == ""``."""

    data: str
    style: Style


_INTERNED: dict[Style, Style] = {}


def intern_style(style: Style) -> Style:
    """The one shared instance equal to ``style`` (styles compare with ``is``)."""
    got = _INTERNED.get(style)
    if got is None:
        got = _INTERNED.setdefault(style, style)
    return got


DEFAULT = intern_style(Style())
BLANK = Cell(" ", DEFAULT)

_TOGGLES = {
    1: ("bold", True),
    3: ("italics", True),
    4: ("underscore", True),
    5: ("blink", True),
    6: ("blink", True),
    7: ("reverse", True),
    9: ("strikethrough", True),
    21: ("underscore", True),
    22: ("bold", False),
    23: ("italics", False),
    24: ("underscore", False),
    25: ("blink", False),
    27: ("reverse", False),
    29: ("strikethrough", False),
}


def _extended(params: list[int], i: int) -> tuple[str | None, int]:
    """Parse ``38;5;N`` / ``38;2;R;G;B`` starting at ``params[i]`` (the 38/48)."""
    if i + 1 >= len(params):
        return None, len(params)
    kind = params[i + 1]
    if kind == 5 and i + 2 < len(params):
        n = params[i + 2]
        return (f"color({n})" if 0 <= n <= 255 else None), i + 3
    if kind == 2 and i + 4 < len(params):
        r, g, b = (min(max(v, 0), 255) for v in params[i + 2 : i + 5])
        return f"#{r:02x}{g:02x}{b:02x}", i + 5
    return None, len(params)


def apply_sgr(style: Style, params: list[int]) -> Style:
    """The style after ``CSI params m`` starting from ``style`` (interned)."""
    if not params:
        params = [0]
    values = style._asdict()
    i = 0
    n = len(params)
    while i < n:
        p = params[i]
        if p == 0:
            values = DEFAULT._asdict()
        elif p in _TOGGLES:
            key, on = _TOGGLES[p]
            values[key] = on
        elif 30 <= p <= 37:
            values["fg"] = NAMED[p - 30]
        elif 90 <= p <= 97:
            values["fg"] = BRIGHT[p - 90]
        elif p == 39:
            values["fg"] = "default"
        elif 40 <= p <= 47:
            values["bg"] = NAMED[p - 40]
        elif 100 <= p <= 107:
            values["bg"] = BRIGHT[p - 100]
        elif p == 49:
            values["bg"] = "default"
        elif p in (38, 48):
            colour, i = _extended(params, i)
            if colour is not None:
                values["fg" if p == 38 else "bg"] = colour
            continue
        i += 1
    return intern_style(Style(**values))


def parse_sgr_params(text: str) -> list[int]:
    """``"1;38:2::255:0:0"`` -> ``[1, 38, 2, 255, 0, 0]`` (colon sub-parameters flattened)."""
    if not text:
        return [0]
    out: list[int] = []
    for part in text.split(";"):
        if ":" in part:
            sub = part.split(":")
            # 38:2:<colourspace>:r:g:b has an extra (often empty) colour-space field.
            if len(sub) >= 6 and sub[1] == "2":
                sub = sub[:2] + sub[3:6]
            out.extend(int(s or 0) for s in sub)
        else:
            out.append(int(part or 0))
    return out


_SGR_CACHE: dict[tuple[Style, str], Style] = {}


def sgr(style: Style, text: str) -> Style:
    """``apply_sgr`` on the raw parameter text, memoised (the common case is a hit)."""
    key = (style, text)
    got = _SGR_CACHE.get(key)
    if got is None:
        if len(_SGR_CACHE) > 65536:
            _SGR_CACHE.clear()
        got = apply_sgr(style, parse_sgr_params(text))
        _SGR_CACHE[key] = got
    return got


class CellMap(dict[str, Cell]):
    """char -> the shared :class:`Cell` of that char in one style."""

    __slots__ = ("style",)

    def __init__(self, style: Style) -> None:
        super().__init__()
        self.style = style

    def __missing__(self, char: str) -> Cell:
        cell = Cell(char, self.style)
        self[char] = cell
        return cell


_CELLS: dict[Style, CellMap] = {}


def cells_for(style: Style) -> CellMap:
    got = _CELLS.get(style)
    if got is None:
        got = _CELLS.setdefault(style, CellMap(style))
    return got


cells_for(DEFAULT)[" "] = BLANK  # the blank cell is one object: rows compare it with ``is``
