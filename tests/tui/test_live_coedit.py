"""The edit dialog against the real in-process coordinator (live OT co-editing).

An agent's op on the approval's shared document shows up in the open editor; the
operator's keys go back as ops; approving names the revision on screen, and that
exact text is what the coordinator approves.
"""

from __future__ import annotations

from textual.widgets import TextArea

from agentshell.coordinator.coordinator import Coordinator
from agentshell.core import events as ev
from agentshell.core import ot
from agentshell.tui.app import AgentShellApp
from agentshell.tui.live import CoordinatorBackend
from agentshell.tui.screens.dialogs import EditApprovalScreen
from agentshell.tui.widgets.sidebar.approvals import ApprovalQueue
from tests.tui.test_actions import SIZE, until


async def test_agent_op_shows_in_the_editor_and_the_seen_revision_is_approved(
    live_co: Coordinator,
) -> None:
    co, sm = live_co, live_co.session
    await co.add_agent("claude", ["run", "type", "read"])
    aid = await co.propose("claude", "echo one", terminal="main")
    doc = f"approval:{aid}"
    app = AgentShellApp(CoordinatorBackend(co), notify_new=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: [a.approval_id for a in app.query_one(ApprovalQueue).items] == [aid])
        await pilot.press("e")
        await until(lambda: isinstance(app.screen, EditApprovalScreen))
        area = app.screen.query_one(TextArea)
        # the agent amends the command while the editor is open
        text, rev = await co.doc_open(doc)
        op = ot.to_wire(ot.insert_op(len(text), len(text), " two"))
        await co.doc_op("claude", doc, rev, list(op), 1)
        await until(lambda: area.text == "echo one two")
        # the operator types too: the keys reach the coordinator's document
        await pilot.press("end", *" three")
        await until(lambda: co.state["docs"][doc].text == "echo one two three")
        revision = co.state["docs"][doc].revision
        await pilot.press("ctrl+s")

        def decided() -> list[ev.ApprovalDecided]:
            return [e for e in sm.iter_events() if isinstance(e, ev.ApprovalDecided)]

        await until(decided)
        assert [(d.decision, d.revision, d.command) for d in decided()] == [
            ("approved", revision, "echo one two three")
        ]
        # and that text is what ran in the terminal

        def ran() -> list[ev.CommandExecuted]:
            return [e for e in sm.iter_events() if isinstance(e, ev.CommandExecuted)]

        await until(ran, timeout=30)
        assert [(e.command, e.approval_id) for e in ran()] == [("echo one two three", aid)]
        assert "one two three" in ran()[0].output
