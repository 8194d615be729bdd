"""The conflict panel: each file-edit conflict, its ranges and both sides side by side."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from agentshell.core.state import ConflictInfo
from agentshell.tui.backend import ConflictSides
from agentshell.tui.messages import ConflictResolveRequested
from agentshell.tui.text import printable

RESOLUTIONS = [
    ("keep_first", "Keep first (1)"),
    ("keep_second", "Keep second (2)"),
    ("keep_both", "Keep both (3)"),
    ("manual", "Manual merge (4)"),
]


def format_range(r: tuple[int, int]) -> str:
    """A 0-based half-open line range as 1-based inclusive text (``L3-5``)."""
    start, end = r
    if end <= start:
        return f"before L{start + 1}"
    if end - start == 1:
        return f"L{start + 1}"
    return f"L{start + 1}-{end}"


def format_overlap(r: tuple[int, int]) -> str:
    """The shared part of two base ranges: ``L13-14``, or where they only touch."""
    start, end = r
    if end > start:
        return format_range(r)
    if start == 0:
        return "touching before L1"
    return f"touching between L{start} and L{start + 1}"


def side_label(name: str, start: int, lines: tuple[str, ...], base: tuple[int, int]) -> str:
    """A side's column title: exactly the lines it shows (1-based, in that agent's new
    text), or what it deleted (in the base) when it shows none."""
    if not lines:
        return f"{name} deleted {format_range(base)}"
    return f"{name} {format_range((start, start + len(lines)))}"


def side_by_side(conflict: ConflictInfo, sides: ConflictSides | None) -> Table:
    """Both sides' lines, each column titled with the lines it shows.

    ``conflict.ranges`` and ``conflict.overlap`` are lines of the base both edits
    started from; each side shows the lines its agent wrote in their place, numbered
    as in that agent's new text (``first_start``/``second_start``). Rows where the
    two sides differ are highlighted.
    """
    table = Table(expand=True, show_lines=False, box=None, padding=(0, 1))
    a = printable(conflict.agents[0]) if conflict.agents else "?"
    b = printable(conflict.agents[1]) if len(conflict.agents) > 1 else "?"
    ra = conflict.ranges[0] if conflict.ranges else (0, 0)
    rb = conflict.ranges[1] if len(conflict.ranges) > 1 else (0, 0)
    if sides is None:
        table.add_column(f"{a} changed base {format_range(ra)}", ratio=1)
        table.add_column(f"{b} changed base {format_range(rb)}", ratio=1)
        table.add_row(Text("(content not available)", style="dim"), "")
        return table
    table.add_column("", width=4, justify="right", style="dim")
    table.add_column(
        side_label(printable(sides.first_label), sides.first_start, sides.first, ra),
        ratio=1,
        header_style="bold red",
    )
    table.add_column("", width=4, justify="right", style="dim")
    table.add_column(
        side_label(printable(sides.second_label), sides.second_start, sides.second, rb),
        ratio=1,
        header_style="bold blue",
    )
    n = max(len(sides.first), len(sides.second), 1)
    for i in range(n):
        left = sides.first[i] if i < len(sides.first) else None
        right = sides.second[i] if i < len(sides.second) else None
        differ = left != right
        table.add_row(
            str(sides.first_start + i + 1) if left is not None else "",
            _cell(left, "bold red" if differ else "", deleted=i == 0 and not sides.first),
            str(sides.second_start + i + 1) if right is not None else "",
            _cell(right, "bold blue" if differ else "", deleted=i == 0 and not sides.second),
        )
    return table


def _cell(line: str | None, style: str, *, deleted: bool) -> Text:
    if deleted:
        return Text("(lines deleted)", style="dim")
    return Text(printable(line or ""), no_wrap=True, overflow="ellipsis", style=style)


class ConflictPanel(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "resolve('keep_first')", "Keep first"),
        Binding("2", "resolve('keep_second')", "Keep second"),
        Binding("3", "resolve('keep_both')", "Keep both"),
        Binding("4", "resolve('manual')", "Manual"),
    ]

    def __init__(
        self,
        *,
        sides: Callable[[str], ConflictSides | None],
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._sides = sides
        self._conflicts: list[ConflictInfo] = []

    def compose(self) -> ComposeResult:
        yield OptionList(id="conflict-list")
        yield Static(id="conflict-detail")
        with Horizontal(id="conflict-actions"):
            for key, label in RESOLUTIONS:
                yield Button(label, id=f"resolve-{key}", compact=True)

    @property
    def conflicts(self) -> list[ConflictInfo]:
        return list(self._conflicts)

    def update_conflicts(self, conflicts: dict[str, ConflictInfo]) -> None:
        items = sorted(conflicts.values(), key=lambda c: (c.detected_at, c.seq))
        if [c.conflict_id for c in items] == [c.conflict_id for c in self._conflicts]:
            return
        ol = self.query_one("#conflict-list", OptionList)
        keep = self.selected()
        self._conflicts = items
        ol.clear_options()
        for c in items:
            t = Text()
            t.append(printable(c.file_path), style="bold")
            t.append("  " + " vs ".join(printable(a) for a in c.agents))
            ranges = " vs ".join(format_range(r) for r in c.ranges)
            t.append(f"  base {ranges}; overlap {format_overlap(c.overlap)}", style="dim")
            ol.add_option(Option(t, id=c.conflict_id))
        if not items:
            ol.add_option(Option(Text("No conflicts.", style="dim"), disabled=True))
        ids = [c.conflict_id for c in items]
        if keep is not None and keep.conflict_id in ids:
            ol.highlighted = ids.index(keep.conflict_id)
        elif items:
            ol.highlighted = 0
        self._show_detail()
        self.query_one("#conflict-actions").display = bool(items)
        self.refresh_bindings()  # the footer's 1-4 only while there is a conflict

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resolve":
            return bool(self._conflicts)  # False hides 1-4 from the footer
        return True

    def selected(self) -> ConflictInfo | None:
        ol = self.query_one("#conflict-list", OptionList)
        if ol.highlighted is not None and self._conflicts:
            cid = ol.get_option_at_index(ol.highlighted).id
            for c in self._conflicts:
                if c.conflict_id == cid:
                    return c
        return self._conflicts[0] if self._conflicts else None

    @on(OptionList.OptionHighlighted, "#conflict-list")
    def _show_detail(self) -> None:
        detail = self.query_one("#conflict-detail", Static)
        c = self.selected()
        if c is None:
            detail.update("")
            return
        head = Text()
        head.append(printable(c.file_path), style="bold")
        if c.overlap[1] > c.overlap[0]:
            what = f"both changed base lines {format_range(c.overlap)}"
        else:
            what = f"changed adjacent base lines ({format_overlap(c.overlap)})"
        head.append(f"   {' and '.join(printable(a) for a in c.agents)} {what}")
        table = side_by_side(c, self._sides(c.conflict_id))
        from rich.console import Group

        detail.update(Group(head, Text(""), table))

    def action_resolve(self, resolution: str) -> None:
        c = self.selected()
        if c is not None:
            self.post_message(ConflictResolveRequested(c.conflict_id, resolution))

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        bid = event.button.id or ""
        if bid.startswith("resolve-"):
            self.action_resolve(bid.removeprefix("resolve-"))
