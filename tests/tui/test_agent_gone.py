"""An approval whose agent is gone says so on its card; a held log (full disk) shows
in the title and clears by itself once the log records again."""

from __future__ import annotations

from agentshell.core import events as ev
from agentshell.tui.app import AgentShellApp
from agentshell.tui.widgets.sidebar.approvals import ApprovalQueue
from tests.tui.fakes import FakeBackend
from tests.tui.test_actions import SIZE, until


def card(app: AgentShellApp, approval_id: str) -> str:
    queue = app.query_one(ApprovalQueue)
    return str(queue.get_option(approval_id).prompt)


async def test_a_withdrawn_approval_says_nobody_will_receive_the_output(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE):
        await until(lambda: "ap-1" in {a.approval_id for a in app.query_one(ApprovalQueue).items})
        assert "agent gone" not in card(app, "ap-1")
        backend.emit(ev.ApprovalWithdrawn(approval_id="ap-1", reason="withdrawn by its agent"))
        await until(lambda: "nobody will receive the output" in card(app, "ap-1"))
        assert "agent gone" not in card(app, "ap-2")


async def test_held_commands_show_until_the_log_records_again(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        backend.recording_failure = (
            "the event log cannot be written since 12:01:09 ([Errno 28] No space left on"
            " device): every command is held"
        )
        await until(lambda: "COMMANDS HELD" in app.sub_title)
        backend.recording_failure = None  # space is back: the coordinator went on
        await until(lambda: "RECORDING STOPPED" not in app.sub_title)
        await until(lambda: any("records again" in str(n.message) for n in app._notifications))
