"""Agents (capabilities, state, last command) and tasks (with suggested agents)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Label

from agentshell.core.state import SessionState
from agentshell.tui.text import printable

STATE_STYLE = {
    "working": "bold green",
    "waiting": "bold yellow",
    "idle": "cyan",
    "disconnected": "dim",
}


def agent_state(status: str, waiting: bool) -> str:
    """The operator's word for an agent's state."""
    if waiting:
        return "waiting"
    if status in ("disconnected", "registered", "removed"):
        return "disconnected"
    if status in ("working", "running", "executing"):
        return "working"
    return "idle"


class AgentsPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Label("Agents", classes="section")
        yield DataTable(id="agents-table", cursor_type="row", zebra_stripes=True)
        yield Label("Tasks", classes="section")
        yield DataTable(id="tasks-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#agents-table", DataTable).add_columns(
            "agent", "state", "capabilities", "last command"
        )
        self.query_one("#tasks-table", DataTable).add_columns(
            "task", "status", "assignee", "suggested agents"
        )

    def update_state(self, state: SessionState) -> None:
        waiting = {
            a.agent_id
            for a in state["pending_approvals"].values()
            if a.status in ("queued", "interrupted")
        }
        agents = self.query_one("#agents-table", DataTable)
        agents.clear()
        for a in sorted(state["agents"].values(), key=lambda x: x.agent_id):
            st = agent_state(a.status, a.agent_id in waiting)
            agents.add_row(  # Text cells: a str cell would be parsed as markup
                Text(printable(a.agent_id), style="bold"),
                Text(st, style=STATE_STYLE.get(st, "")),
                Text(printable(", ".join(a.capabilities))),
                Text(printable(a.last_command) or "—"),
                key=a.agent_id,
            )
        tasks = self.query_one("#tasks-table", DataTable)
        tasks.clear()
        for t in sorted(state["tasks"].values(), key=lambda x: (x.created_at, x.task_id)):
            sugg = ", ".join(f"{name} ({score:.2f})" for name, score in t.suggested_agents)
            tasks.add_row(
                *(Text(printable(x)) for x in (t.description, t.status, t.assignee or "—")),
                Text(printable(sugg or "—")),
                key=t.task_id,
            )
