"""An approval shows where it would run: its terminal's directory now (Pilot)."""

from __future__ import annotations

from textual.widgets import Static

from agentshell.core import events as ev
from agentshell.tui.app import AgentShellApp
from agentshell.tui.screens.dialogs import EditApprovalScreen
from agentshell.tui.widgets.sidebar.approvals import ApprovalQueue
from tests.tui.fakes import T0, FakeBackend
from tests.tui.test_actions import SIZE, until


def card(app: AgentShellApp, n: int = 0) -> str:
    queue = app.query_one(ApprovalQueue)
    return str(queue.get_option_at_index(n).prompt)


async def test_card_says_where_it_runs_once_the_terminal_moved(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: "/work/demo" in card(app))
        assert "runs in" not in card(app)  # still where the agent proposed it
        # someone cd'd in the pane (or the shell was reopened elsewhere after a restart)
        backend.emit(ev.DirectoryChanged(path="/tmp", terminal="main", timestamp=T0 + 50))
        await until(lambda: "runs in /tmp" in card(app))
        assert "(queued in /work/demo)" in card(app)
        # the other terminal did not move: a command for it would show no warning
        backend.emit(
            ev.ApprovalQueued(
                agent_id="codex",
                approval_id="ap-9",
                command="make lint",
                terminal="tests",
                cwd="/work/demo",
                timestamp=T0 + 55,
            )
        )
        await until(lambda: len(app.query_one(ApprovalQueue).items) == 4)
        assert "/work/demo" in card(app, 3) and "runs in" not in card(app, 3)
        await pilot.press("e")  # the editor says it too
        await until(lambda: isinstance(app.screen, EditApprovalScreen))
        subtitle = str(app.screen.query_one(".subtitle", Static).render())
        assert "in /tmp" in subtitle and "(queued in /work/demo)" in subtitle
