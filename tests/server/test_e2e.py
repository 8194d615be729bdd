"""End to end: real server, real sockets, real shells."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentshell.client import AgentClient, CommandExpired, CommandRejected
from agentshell.client.client import ServerError
from agentshell.core import events as ev
from agentshell.core.errors import PermissionDeniedError

from .conftest import Served, until


async def pending(op: AgentClient, n: int = 1) -> list[dict[str, Any]]:
    async def got() -> list[dict[str, Any]] | None:
        items = [a for a in await op.approvals() if a["status"] == "queued"]
        return items if len(items) >= n else None

    result: list[dict[str, Any]] = await until(got, what="a queued approval")
    return result


async def test_edit_then_approve_returns_edited_output_and_exit_code(served: Served) -> None:
    agent = await served.agent("claude")
    op = await served.operator()
    try:
        run = asyncio.ensure_future(agent.run("(echo hi; exit 3)", timeout=60))
        [a] = await pending(op)
        assert a["command"] == "(echo hi; exit 3)" and a["agent_id"] == "claude"
        assert not run.done()  # nothing runs without a decision
        await op.approve(a["approval_id"], command="(echo edited; exit 4)")
        res = await asyncio.wait_for(run, 30)
        assert res.exit_code == 4
        assert "edited" in res.output and "hi" not in res.output.replace("(echo hi", "")
        assert res.command == "(echo edited; exit 4)"
        # the log has the whole story, and the shell survived
        kinds = [e.event_type for e in served.session.iter_events()]
        assert kinds.count("command_executed") == 1
        statuses = [
            e.status for e in served.session.iter_events() if isinstance(e, ev.ApprovalExecuted)
        ]
        assert statuses == ["executing", "executed"]
        scr = await agent.screen("main")
        assert any("edited" in line for line in scr.lines)
    finally:
        await agent.close()
        await op.close()


async def test_rejection_reaches_agent_with_reason(served: Served) -> None:
    agent = await served.agent("claude")
    op = await served.operator()
    try:
        run = asyncio.ensure_future(agent.run("rm -rf build"))
        [a] = await pending(op)
        await op.reject(a["approval_id"], reason="use make clean")
        with pytest.raises(CommandRejected) as info:
            await asyncio.wait_for(run, 10)
        assert info.value.reason == "use make clean"
        assert served.coordinator.approvals() == []
        assert not [e for e in served.session.iter_events() if e.event_type == "command_executed"]
    finally:
        await agent.close()
        await op.close()


async def test_approve_similar_rule_auto_approves_next(served: Served) -> None:
    agent = await served.agent("claude")
    op = await served.operator()
    try:
        run = asyncio.ensure_future(agent.run("echo first one"))
        [a] = await pending(op)
        rule_id = await op.approve_similar(a["approval_id"])
        assert (await asyncio.wait_for(run, 30)).exit_code == 0
        [rule] = await op.rules()
        assert rule["rule_id"] == rule_id and rule["action"] == "allow"
        # the second similar command needs no human
        res = await asyncio.wait_for(agent.run("echo second two"), 30)
        assert "second two" in res.output
        decided = [e for e in served.session.iter_events() if isinstance(e, ev.ApprovalDecided)]
        assert decided[-1].rule_id == rule_id and decided[-1].by == "system"
        # a different command still waits
        run3 = asyncio.ensure_future(agent.run("ls", timeout=0.3))
        with pytest.raises(CommandExpired):
            await asyncio.wait_for(run3, 10)
    finally:
        await agent.close()
        await op.close()


async def test_deny_rule_rejects_at_once(served: Served) -> None:
    await served.coordinator.add_rule("deny", "prefix", "git push")
    agent = await served.agent("a")
    try:
        with pytest.raises(CommandRejected) as info:
            await asyncio.wait_for(agent.run("git push origin main"), 10)
        assert "rule" in info.value.reason
    finally:
        await agent.close()


async def test_agent_without_run_is_refused(served: Served) -> None:
    reader = await served.agent("watcher", ["read", "python"])
    try:
        with pytest.raises(PermissionDeniedError):
            await reader.run("echo hi")
        assert served.coordinator.approvals() == []
        scr = await reader.screen()  # read is allowed
        assert scr.terminal == "main"
        with pytest.raises(PermissionDeniedError):
            await reader.approve("x")  # operator-only
    finally:
        await reader.close()


async def test_bad_token_refused(served: Served) -> None:
    await served.agent("a")
    with pytest.raises(ServerError) as info:
        await AgentClient.connect(served.socket, "a", "not-the-token")
    assert info.value.code == "auth_failed"
    with pytest.raises(ServerError):
        await AgentClient.connect(served.socket, operator=True, token="nope")


async def test_expiry(served: Served) -> None:
    agent = await served.agent("a")
    try:
        with pytest.raises(CommandExpired):
            await asyncio.wait_for(agent.run("echo late", timeout=0.2), 10)
        decided = [e for e in served.session.iter_events() if isinstance(e, ev.ApprovalDecided)]
        assert decided[-1].decision == "expired"
    finally:
        await agent.close()


async def test_subscribe_sees_events(served: Served) -> None:
    agent = await served.agent("a")
    op = await served.operator()
    try:
        events = await op.subscribe(["approval_queued", "approval_decided"])
        run = asyncio.ensure_future(agent.run("true"))
        first = await asyncio.wait_for(events.__anext__(), 10)
        assert first.event_type == "approval_queued"
        await op.approve(first.approval_id)  # type: ignore[attr-defined]
        second = await asyncio.wait_for(events.__anext__(), 10)
        assert second.event_type == "approval_decided"
        assert (await asyncio.wait_for(run, 30)).exit_code == 0
    finally:
        await agent.close()
        await op.close()


async def test_tasks(served: Served) -> None:
    await served.agent("py", ["read", "run", "python", "testing"])
    a = await served.agent("py")
    op = await served.operator()
    try:
        t = await op.create_task("fix the failing python tests")
        assert t["suggested_agents"] and t["suggested_agents"][0][0] == "py"
        claimed = await a.claim_task(t["task_id"])
        assert claimed["assignee"] == "py" and claimed["status"] == "assigned"
        done = await a.update_task(t["task_id"], "done", note="green")
        assert done["status"] == "done"
        assert [x["task_id"] for x in await a.tasks()] == [t["task_id"]]
    finally:
        await a.close()
        await op.close()
