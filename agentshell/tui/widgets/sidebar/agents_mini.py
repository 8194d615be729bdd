"""The sidebar's agents box: one line per agent, never wrapped."""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from agentshell.tui.text import printable
from agentshell.tui.widgets.agents.panel import STATE_STYLE

#: Column widths when the box is wide enough: name 12, state 13, then the command.
NAME_WIDTH, STATE_WIDTH = 12, 13
#: Cells the command needs at least before the wide columns are used.
MIN_COMMAND = 10


class AgentRow(NamedTuple):
    agent_id: str
    state: str
    last_command: str


def one_line(text: str) -> str:
    """``text`` on one line: newlines and runs of blanks become one space, other
    control characters visible escapes."""
    return printable(" ".join(text.split()))


class AgentsMini(Widget):
    """Name, state and last command of each agent, a line each.

    A line longer than the box is cut with ``…`` at the box's width (a wrapped
    command would look like another agent's row). Below ``NAME_WIDTH + STATE_WIDTH +
    MIN_COMMAND`` cells the name and state columns shrink to their content.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[AgentRow] = []
        self._empty = ""

    def update_rows(self, rows: list[AgentRow], empty: str = "") -> None:
        """Show ``rows``; ``empty`` (wrapped, not cut) when there are none."""
        if rows != self._rows or empty != self._empty:
            self._rows, self._empty = list(rows), empty
            self.refresh(layout=True)

    @property
    def rows(self) -> list[AgentRow]:
        return list(self._rows)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if not self._rows:
            return super().get_content_height(container, viewport, width)
        return len(self._rows)

    def lines(self, width: int) -> list[Text]:
        """The rows as lines of at most ``width`` cells."""
        width = max(1, width)
        if width >= NAME_WIDTH + STATE_WIDTH + MIN_COMMAND:
            name_w, state_w = NAME_WIDTH, STATE_WIDTH
        else:
            name_w = min(NAME_WIDTH, max(len(printable(r.agent_id)) for r in self._rows) + 1)
            state_w = max(len(r.state) for r in self._rows) + 1
        out = []
        for r in self._rows:
            line = Text(no_wrap=True, overflow="ellipsis", end="")
            agent = printable(r.agent_id)
            name = agent if len(agent) < name_w else agent[: name_w - 2] + "…"
            line.append(f"{name:<{name_w}}", style="bold")
            line.append(f"{r.state:<{state_w}}", style=STATE_STYLE.get(r.state, ""))
            line.append(one_line(r.last_command), style="dim")
            if line.cell_len > width:  # padding alone never earns an ellipsis
                line.rstrip()
                line.truncate(width, overflow="ellipsis")
            out.append(line)
        return out

    def render(self) -> Text:
        if not self._rows:
            return Text(self._empty, style="dim")
        return Text("\n", no_wrap=True, end="").join(self.lines(self.content_size.width))
