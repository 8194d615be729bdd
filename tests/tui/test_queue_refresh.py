"""The approval queue rebuilds its options only when what they show changed."""

from __future__ import annotations

from agentshell.core import events as ev
from agentshell.tui.app import AgentShellApp
from agentshell.tui.widgets.sidebar.approvals import ApprovalQueue
from tests.tui.fakes import T0, FakeBackend
from tests.tui.test_actions import SIZE, until


async def test_unrelated_events_leave_the_options_alone(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        queue = app.query_one(ApprovalQueue)
        await until(lambda: len(queue.items) == 3)
        first = queue.get_option_at_index(0)
        await pilot.press("down")  # the operator's highlight, on the second request
        backend.emit(ev.AgentStatusChanged(agent_id="codex", status="idle", timestamp=T0 + 70))
        app.refresh_state()
        assert queue.get_option_at_index(0) is first  # not rebuilt
        assert queue.highlighted == 1
        backend.propose("ap-4", "claude", "make docs", T0 + 71)  # a new request: rebuilt
        app.refresh_state()
        assert len(queue.items) == 4 and queue.get_option_at_index(0) is not first
        assert queue.highlighted == 1  # still on the same request
        # a change of where it runs shows too (the terminal moved)
        backend.emit(ev.DirectoryChanged(path="/tmp", terminal="main", timestamp=T0 + 72))
        app.refresh_state()
        assert "runs in /tmp" in str(queue.get_option_at_index(0).prompt)


async def test_a_huge_command_is_cut_on_its_card(app: AgentShellApp, backend: FakeBackend) -> None:
    from agentshell.tui.widgets.sidebar.approvals import CARD_TEXT

    async with app.run_test(size=SIZE):
        queue = app.query_one(ApprovalQueue)
        backend.propose("ap-big", "codex", "echo " + "x" * 50_000, T0 + 80)
        await until(lambda: len(queue.items) == 4)
        card = str(queue.get_option_at_index(3).prompt)
        assert len(card) < CARD_TEXT + 200
        assert f"… ({50_005 - CARD_TEXT:,} more characters: e shows them all)" in card
