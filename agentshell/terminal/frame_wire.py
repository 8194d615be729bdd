"""Frames as messages: a terminal emulated once, shown by any number of viewers.

The process that owns a terminal sends what its screen looks like, not the bytes the
program wrote: a viewer draws the rows it is given and never runs an emulator. An
update names the terminal, counts on from the previous one (``n``), and holds only
the rows that changed since the previous frame (``base`` = that frame's ``n``), or
every row (a key frame, ``base`` 0). A viewer that missed one (core NATS may drop a
message when a link breaks) sees ``base`` differ from what it holds and asks for a
key frame. Rows that scrolled off the top since the previous update come along
(``scrolled``, at most ``MAX_SCROLLED`` of them: a flood's middle is not resent); a
key frame's ``scrolled`` is the terminal's recent scrollback, which replaces the
viewer's.

Rows and styles go as plain lists (msgpack-ready): ``lines`` is ``[[index, row], ...]``,
a row is ``[text, [[run, k], ...]]`` where ``k`` indexes the update's ``styles`` table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentshell.terminal.frames import EMPTY_LINE, Frame, Line
from agentshell.terminal.style import Style, intern_style

#: Scrollback rows an update carries at most.
MAX_SCROLLED = 200


@dataclass
class Modes:
    """What a viewer needs besides the rows (how keys are encoded, scrollback shown)."""

    alternate_screen: bool = False
    application_cursor_keys: bool = False
    bracketed_paste: bool = False


class _Styles:
    def __init__(self) -> None:
        self.table: list[list[Any]] = []
        self._index: dict[Style, int] = {}

    def of(self, style: Style) -> int:
        k = self._index.get(style)
        if k is None:
            k = self._index[style] = len(self.table)
            self.table.append(list(style))
        return k


def _row(line: Line, styles: _Styles) -> list[Any]:
    return [line.text, [[run, styles.of(style)] for run, style in line.segments]]


def encode_update(
    terminal: str,
    n: int,
    frame: Frame,
    previous: Frame | None,
    base: int,
    *,
    scrolled: Sequence[Line] = (),
    modes: Modes | None = None,
) -> dict[str, Any]:
    """The update from ``previous`` (numbered ``base``) to ``frame`` (numbered ``n``);
    a key frame when ``previous`` is None (or of another size)."""
    styles = _Styles()
    key = (
        previous is None
        or previous.columns != frame.columns
        or len(previous.lines) != len(frame.lines)
    )
    if key:
        rows = [[i, _row(line, styles)] for i, line in enumerate(frame.lines)]
    else:
        assert previous is not None
        rows = [
            [i, _row(line, styles)]
            for i, (line, old) in enumerate(zip(frame.lines, previous.lines, strict=True))
            if line is not old
        ]
    m = modes or Modes()
    return {
        "term": terminal,
        "n": n,
        "base": 0 if key else base,
        "cols": frame.columns,
        "rows": frame.rows,
        "cursor": [frame.cursor[0], frame.cursor[1], bool(frame.cursor_visible)],
        "title": frame.title,
        "lines": rows,
        "scrolled": [_row(line, styles) for line in list(scrolled)[-MAX_SCROLLED:]],
        "styles": styles.table,
        "modes": [m.alternate_screen, m.application_cursor_keys, m.bracketed_paste],
    }


def _styles(table: Iterable[Sequence[Any]]) -> list[Style]:
    return [intern_style(Style(*entry)) for entry in table]


def _line(row: Sequence[Any], styles: Sequence[Style]) -> Line:
    text, runs = row
    return Line(str(text), tuple((str(run), styles[int(k)]) for run, k in runs))


@dataclass
class Shown:
    """What a viewer holds of one terminal: its frame, number, modes and scrollback."""

    frame: Frame
    n: int = 0
    modes: Modes = field(default_factory=Modes)
    history: list[Line] = field(default_factory=list)
    max_history: int = 10_000


def blank(columns: int, lines: int) -> Frame:
    return Frame(tuple(EMPTY_LINE for _ in range(lines)), (0, 0), True, "", columns, lines)


class FrameGap(ValueError):
    """An update that does not follow the frame held (ask for a key frame)."""


def apply_update(shown: Shown, msg: dict[str, Any]) -> None:
    """Apply an update to ``shown`` in place: rows not in it are the very same
    ``Line`` objects as before (a pane then repaints just the changed ones).
    Raises :class:`FrameGap` when it follows another frame than the one held."""
    base = int(msg["base"])
    n = int(msg["n"])
    if base != 0 and base != shown.n:
        raise FrameGap(f"update {n} follows {base}, the frame held is {shown.n}")
    styles = _styles(msg.get("styles", ()))
    columns, lines = int(msg["cols"]), int(msg["rows"])
    rows: dict[int, Any] = {int(i): row for i, row in msg["lines"]}
    if base == 0:
        old: Sequence[Line] = [EMPTY_LINE] * lines
    else:
        old = shown.frame.lines
    new_lines = tuple(_line(rows[i], styles) if i in rows else old[i] for i in range(lines))
    x, y, visible = msg["cursor"]
    shown.frame = Frame(
        new_lines, (int(x), int(y)), bool(visible), str(msg["title"]), columns, lines
    )
    shown.n = n
    alt, app_keys, paste = msg.get("modes", (False, False, False))
    shown.modes = Modes(bool(alt), bool(app_keys), bool(paste))
    scrolled = [_line(r, styles) for r in msg.get("scrolled", ())]
    if base == 0:  # a key frame's scrollback is the recent scrollback: it replaces
        shown.history = scrolled
    elif scrolled:
        shown.history.extend(scrolled)
        extra = len(shown.history) - shown.max_history
        if extra > 0:
            del shown.history[:extra]
