"""`agentshell mcp` spawned for real and driven by the MCP SDK's own stdio client,
end to end against a real coordinator (real socket, real shell)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from agentshell.client import AgentClient
from tests.polling import until

from .conftest import Served

pytestmark = pytest.mark.timeout(120)


async def queued(op: AgentClient, agent: str) -> dict[str, Any]:
    async def got() -> dict[str, Any] | None:
        for a in await op.approvals():
            if a["status"] == "queued" and a["agent_id"] == agent:
                return a
        return None

    item: dict[str, Any] = await until(got, 30, what=f"a queued approval from {agent}")
    return item


@contextlib.asynccontextmanager
async def mcp_session(
    socket: Path, agent: str, token: str, *extra: str, cwd: Path | None = None
) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "agentshell", "mcp", "--socket", str(socket), *extra],
        env={
            "AGENTSHELL_AGENT": agent,
            "AGENTSHELL_TOKEN": token,
            "HOME": os.environ["HOME"],
            "AGENTSHELL_DIR": os.environ["AGENTSHELL_DIR"],
        },
        cwd=str(cwd) if cwd is not None else None,
    )
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def test_tools_are_listed_with_schemas_and_descriptions(served: Served) -> None:
    token = await served.coordinator.add_agent("claude", ["read", "run", "edit"])
    async with mcp_session(served.socket, "claude", token) as s:
        listed = await s.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert {
        "run_command",
        "propose_command",
        "command_result",
        "check_edit",
        "report_edit",
        "list_tasks",
        "claim_task",
        "update_task",
        "session_state",
    } <= set(tools)
    run = tools["run_command"]
    assert run.input_schema["required"] == ["command"]
    assert run.input_schema["properties"]["command"]["type"] == "string"
    assert "approve" in (run.description or "")
    assert tools["check_edit"].annotations is not None
    assert tools["check_edit"].annotations.read_only_hint is True


async def test_run_command_approved_returns_output_and_exit_code(served: Served) -> None:
    token = await served.coordinator.add_agent("claude", ["read", "run"])
    op = await served.operator()
    try:
        async with mcp_session(served.socket, "claude", token) as s:
            call = asyncio.ensure_future(
                s.call_tool("run_command", {"command": "echo hi-$((6*7)); exit_ok=1; false"})
            )
            item = await queued(op, "claude")
            assert item["command"] == "echo hi-$((6*7)); exit_ok=1; false"
            await op.approve(item["approval_id"])
            result = await asyncio.wait_for(call, 60)
            assert not result.is_error, text(result)
            assert "hi-42" in text(result)
            data = result.structured_content
            assert data["exit_code"] == 1 and data["output"].strip() == "hi-42"
            assert data["edited"] is False

            # the operator edits it: what ran is said
            call = asyncio.ensure_future(s.call_tool("run_command", {"command": "rm -rf build"}))
            item = await queued(op, "claude")
            await op.approve(item["approval_id"], command="echo only-$((1+1))")
            result = await asyncio.wait_for(call, 60)
            assert not result.is_error
            assert result.structured_content["edited"] is True
            assert result.structured_content["command"] == "echo only-$((1+1))"
            assert "What ran: echo only-$((1+1))" in text(result)
            assert "only-2" in text(result)
    finally:
        await op.close()


async def test_rejected_command_is_a_tool_error_with_the_reason(served: Served) -> None:
    token = await served.coordinator.add_agent("codex", ["read", "run"])
    op = await served.operator()
    marker = served.root / "ran"
    try:
        async with mcp_session(served.socket, "codex", token) as s:
            call = asyncio.ensure_future(s.call_tool("run_command", {"command": f"touch {marker}"}))
            item = await queued(op, "codex")
            await op.reject(item["approval_id"], "use the build dir, not the root")
            result = await asyncio.wait_for(call, 60)
            assert result.is_error
            assert "use the build dir, not the root" in text(result)
            assert "did not run" in text(result)

            # a deny rule decides at once; an expired one never runs
            await op.add_rule("deny", "prefix", "sudo ")
            result = await s.call_tool("run_command", {"command": "sudo ls"})
            assert result.is_error and "denied by rule" in text(result)
            result = await s.call_tool(
                "run_command", {"command": f"touch {marker}", "timeout": 0.3}
            )
            assert result.is_error and "expired" in text(result)
            # bad arguments: a tool error naming the argument, no call made
            result = await s.call_tool("run_command", {"command": "ls", "timeout": -1})
            assert result.is_error and "timeout" in text(result)
            result = await s.call_tool("run_command", {})
            assert result.is_error and "'command'" in text(result)
        assert not marker.exists()
    finally:
        await op.close()


async def test_propose_then_command_result(served: Served) -> None:
    token = await served.coordinator.add_agent("gem", ["read", "run"])
    op = await served.operator()
    try:
        async with mcp_session(served.socket, "gem", token) as s:
            result = await s.call_tool("propose_command", {"command": "echo later-$((3*3))"})
            assert not result.is_error
            aid = result.structured_content["approval_id"]
            assert result.structured_content["status"] == "queued"
            item = await queued(op, "gem")
            assert item["approval_id"] == aid
            await op.approve(aid)
            result = await s.call_tool("command_result", {"approval_id": aid})
            assert not result.is_error and "later-9" in text(result)
    finally:
        await op.close()


async def test_check_edit_sees_another_agents_overlapping_edit(
    served: Served, tmp_path: Path
) -> None:
    token = await served.coordinator.add_agent("claude", ["read", "run", "edit"])
    other = await served.agent("aider")
    path = tmp_path / "app.py"
    old = "".join(f"line {i}\n" for i in range(10))
    new = old.replace("line 4\n", "line four\n")
    try:
        await other.report_edit(str(path), old, new)
        async with mcp_session(served.socket, "claude", token, cwd=tmp_path) as s:
            # relative paths are taken from the agent's working directory
            result = await s.call_tool("check_edit", {"path": "app.py", "ranges": [[3, 6]]})
            assert not result.is_error, text(result)
            assert result.structured_content["clear"] is False
            assert "HOLD" in text(result) and "aider" in text(result)
            [edit] = result.structured_content["conflicts"]
            assert edit["agent_id"] == "aider"

            result = await s.call_tool("check_edit", {"path": str(path), "ranges": [[8, 9]]})
            assert result.structured_content["clear"] is True

            # a concurrent overlapping edit reported through MCP is a conflict
            other2 = await served.agent("bot")
            try:
                await other2.report_edit(str(path), new, new.replace("line 8\n", "eight\n"))
            finally:
                await other2.close()
            path.write_text(new.replace("line 7\n", "seven\n"))
            result = await s.call_tool("report_edit", {"path": "app.py", "old": new})
            assert not result.is_error, text(result)
            assert "CONFLICT" in text(result) and "bot" in text(result)
            assert result.structured_content["ranges"] == [[7, 8]]
            conflicts = await other.request("conflicts")
            assert any(set(c["agents"]) == {"bot", "claude"} for c in conflicts["conflicts"])

            result = await s.call_tool("check_edit", {"path": "app.py", "ranges": [[5, 2]]})
            assert result.is_error and "ranges" in text(result)
    finally:
        await other.close()


async def test_tasks_and_session_state(served: Served) -> None:
    token = await served.coordinator.add_agent("claude", ["read", "run", "python"])
    op = await served.operator()
    try:
        task = await op.create_task("fix the flaky test")
        async with mcp_session(served.socket, "claude", token) as s:
            result = await s.call_tool("list_tasks", {"status": "open"})
            assert [t["task_id"] for t in result.structured_content["tasks"]] == [task["task_id"]]
            assert "fix the flaky test" in text(result)
            result = await s.call_tool("claim_task", {"task_id": task["task_id"]})
            assert not result.is_error and result.structured_content["task"]["assignee"] == "claude"
            result = await s.call_tool(
                "update_task", {"task_id": task["task_id"], "status": "done", "note": "fixed"}
            )
            assert not result.is_error
            [t] = await op.tasks()
            assert t["status"] == "done" and t["note"] == "fixed"
            result = await s.call_tool("update_task", {"task_id": "nope", "status": "done"})
            assert result.is_error and "no task 'nope'" in text(result)
            result = await s.call_tool("update_task", {"task_id": "x", "status": "finished"})
            assert result.is_error and "status" in text(result)

            call = asyncio.ensure_future(s.call_tool("run_command", {"command": "echo x"}))
            item = await queued(op, "claude")
            result = await s.call_tool("session_state", {})
            data = result.structured_content
            assert data["agent"] == "claude" and "run" in data["permissions"]
            assert [t["name"] for t in data["terminals"]] == ["main"]
            assert [a["approval_id"] for a in data["my_pending_commands"]] == [item["approval_id"]]
            assert "1 yours" in text(result)
            await op.reject(item["approval_id"], "not now")
            assert (await call).is_error
    finally:
        await op.close()


async def test_errors_without_a_coordinator_or_with_a_bad_token(served: Served) -> None:
    token = await served.coordinator.add_agent("claude", ["read"])
    async with mcp_session(served.socket, "claude", "wrong-token") as s:
        result = await s.call_tool("session_state", {})
        assert result.is_error and "refused agent 'claude'" in text(result)
    # permission the agent lacks: a tool error saying so
    async with mcp_session(served.socket, "claude", token) as s:
        result = await s.call_tool("run_command", {"command": "ls"})
        assert result.is_error and "permission denied" in text(result)
    missing = served.root / "nobody.sock"
    async with mcp_session(missing, "claude", token) as s:
        listed = await s.list_tools()  # the server starts with no coordinator
        assert listed.tools
        result = await s.call_tool("session_state", {})
        assert result.is_error
        assert "no AgentShell server is running" in text(result)
        assert "agentshell tui" in text(result)
