"""External and non-editable proposals (what `agentshell wrap` and the hooks rely on),
over a real socket to a real coordinator."""

from __future__ import annotations

import pytest

from agentshell.client import ServerError
from agentshell.core.errors import AgentShellError
from agentshell.core.state import fold, fold_records, new_state
from tests.polling import until

from .conftest import Served


async def test_an_approved_external_command_ends_at_the_decision_and_runs_nowhere(
    served: Served,
) -> None:
    agent = await served.agent("aider")
    op = await served.operator()
    marker = served.root / "ran"
    try:
        reply = await agent.request(
            "propose", command=f"touch {marker}", external=True, editable=False
        )
        assert reply["status"] == "queued" and reply["external"] is True
        [item] = await op.approvals()
        assert item["external"] is True and item["editable"] is False
        await op.approve(item["approval_id"])
        result = await agent.result(item["approval_id"])
        assert (
            result.exit_code is None and result.output == "" and result.command == item["command"]
        )
        assert await op.approvals() == []
    finally:
        await agent.close()
        await op.close()
    types = [e.event_type for e in served.session.iter_events()]
    assert "command_executed" not in types
    assert not marker.exists()


async def test_a_rule_approves_an_external_command_at_once(served: Served) -> None:
    agent = await served.agent("aider")
    op = await served.operator()
    try:
        await op.add_rule("allow", "prefix", "make ")
        reply = await agent.request("propose", command="make test", external=True)
        assert reply["status"] == "approved"
        result = await agent.result(reply["approval_id"])
        assert result.command == "make test" and result.exit_code is None
    finally:
        await agent.close()
        await op.close()


async def test_a_non_editable_approval_is_approved_or_rejected_only(served: Served) -> None:
    agent = await served.agent("aider")
    op = await served.operator()
    try:
        aid = (
            await agent.request("propose", command="rm -rf build", external=True, editable=False)
        )["approval_id"]
        with pytest.raises(AgentShellError, match="cannot be edited"):
            await op.approve(aid, command="rm -rf build/tmp")
        # the flags are in the log: the reducer and the replay's bulk fold agree
        events = list(served.session.iter_events())
        by_reducer = fold(events, new_state("t"))["pending_approvals"][aid]
        bulk = new_state("t")
        fold_records(bulk, [e.to_record() for e in events])
        assert by_reducer == bulk["pending_approvals"][aid]
        assert (by_reducer.external, by_reducer.editable) == (True, False)
        doc = await op.doc(f"approval:{aid}")
        doc.insert(len(doc.text), "/tmp")
        with pytest.raises((AgentShellError, ServerError), match="cannot be edited"):
            await doc.acked()
        await op.approve(aid)  # as it is
        result = await agent.result(aid)
        assert result.command == "rm -rf build"
        # an editable one still takes the operator's text
        aid = (await agent.request("propose", command="ls", external=True))["approval_id"]
        await until(lambda: served.coordinator.approvals(), what="the second item")
        await op.approve(aid, command="ls -la")
        assert (await agent.result(aid)).command == "ls -la"
    finally:
        await agent.close()
        await op.close()


async def test_bad_flag_types_are_bad_requests(served: Served) -> None:
    agent = await served.agent("aider")
    try:
        with pytest.raises(AgentShellError, match="'external' must be bool"):
            await agent.request("propose", command="ls", external="yes")
        with pytest.raises(AgentShellError, match="'editable' must be bool"):
            await agent.request("propose", command="ls", editable=1)
        assert served.coordinator.approvals() == []
    finally:
        await agent.close()
