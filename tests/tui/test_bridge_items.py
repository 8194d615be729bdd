"""Items from bridges in the queue: a wrapped CLI's prompt takes only yes or no, and a
vendor's tool call is run by its agent, not in a pane."""

from __future__ import annotations

from agentshell.core import events as ev
from agentshell.tui.app import AgentShellApp
from agentshell.tui.screens.dialogs import EditApprovalScreen
from agentshell.tui.widgets.sidebar.approvals import NOT_EDITABLE, ApprovalQueue
from tests.polling import until
from tests.tui.fakes import T0, FakeBackend

SIZE = (160, 48)


def backend_with_bridge_items() -> FakeBackend:
    b = FakeBackend()
    b.agent("aider", ["run"])
    b.agent("claude:3f2a", ["run", "edit"])
    b.emit(
        ev.ApprovalQueued(
            agent_id="aider",
            approval_id="ap-w",
            command="pytest -q",
            terminal="main",
            cwd="/work/demo",
            external=True,
            editable=False,
            timestamp=T0 + 1,
        )
    )
    b.emit(
        ev.ApprovalQueued(
            agent_id="claude:3f2a",
            approval_id="ap-h",
            command="rm -rf build",
            terminal="main",
            cwd="/work/demo",
            external=True,
            timestamp=T0 + 2,
        )
    )
    return b


async def test_a_prompt_that_takes_only_yes_or_no_offers_no_editor() -> None:
    backend = backend_with_bridge_items()
    app = AgentShellApp(backend, clock=lambda: T0 + 10, notify_new=False)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.query_one(ApprovalQueue)
        await until(lambda: [a.approval_id for a in queue.items] == ["ap-w", "ap-h"])
        card = str(queue.get_option_at_index(0).prompt)
        assert NOT_EDITABLE in card
        assert "run by the agent itself" in card
        # it runs in the agent's own process: no pane of ours is named
        assert all("→" not in str(queue.get_option_at_index(i).prompt) for i in (0, 1))
        assert NOT_EDITABLE not in str(queue.get_option_at_index(1).prompt)
        await pilot.press("e")  # the oldest: the wrapped prompt
        await until(lambda: any(NOT_EDITABLE in str(n.message) for n in app._notifications))
        assert not isinstance(app.screen, EditApprovalScreen)
        assert backend.calls == []
        await pilot.press("a")  # approving it works as usual
        await until(lambda: backend.calls == [("approve", "ap-w", None)])
        await pilot.press("e")  # the vendor's tool call can be edited
        await until(lambda: isinstance(app.screen, EditApprovalScreen))
