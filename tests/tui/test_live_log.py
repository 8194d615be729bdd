"""The log view read from a real session at start (the tail the app shows first)."""

from __future__ import annotations

from agentshell.coordinator.coordinator import Coordinator
from agentshell.core import ot
from agentshell.tui.app import AgentShellApp
from agentshell.tui.live import CoordinatorBackend
from tests.tui.test_actions import SIZE, until
from tests.tui.test_log_lines import line_of


async def test_startup_tail_still_knows_the_agent_amended_its_command(
    live_co: Coordinator,
) -> None:
    co = live_co
    await co.add_agent("claude", ["run", "type", "read"])
    aid = await co.propose("claude", "echo one", terminal="main")
    doc = f"approval:{aid}"
    text, rev = await co.doc_open(doc)
    op = ot.to_wire(ot.insert_op(len(text), len(text), " two"))
    await co.doc_op("claude", doc, rev, list(op), 1)
    await co.approve(aid)
    backend = CoordinatorBackend(co)
    kinds = [e.event_type for e in backend.recent_events(500)]
    assert "doc_op" in kinds and "terminal_output" not in kinds
    # the app opened after the decision reads it from the log, not from the stream
    app = AgentShellApp(backend, notify_new=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await until(lambda: line_of(app, "approval_decided") != "")
        assert line_of(app, "approval_decided").endswith(
            "approved by human (edited by claude): $ echo one two"
        )
