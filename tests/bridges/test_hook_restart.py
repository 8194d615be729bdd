"""A vendor hook waiting for a decision rides out a restart of the coordinator: it
connects again, asks for the same item (never queued twice) and answers the vendor
with the decision made in the restarted session."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

from agentshell.bridges.hooks.model import agent_name
from agentshell.client import AgentClient
from tests.bridges.test_hook_e2e import claude_bash, hook
from tests.polling import until
from tests.server.conftest import short_dir
from tests.server.test_restart import start_server


async def _items(sock: Path, agent: str) -> list[dict[str, object]]:
    try:
        op = await AgentClient.connect(sock, operator=True, retry_for=0, reconnect_for=0)
    except Exception:
        return []
    try:
        return [a for a in await op.approvals() if a["agent_id"] == agent]
    finally:
        await op.close()


async def test_a_waiting_hook_gets_its_answer_from_the_restarted_coordinator(
    tmp_path: Path,
) -> None:
    root = short_dir()
    env = dict(os.environ, AGENTSHELL_DIR=str(tmp_path / "data"))
    sock = root / "run" / "s.sock"
    project = tmp_path / "proj"
    project.mkdir()
    server = await start_server(sock, project, env)
    try:
        data = claude_bash("make -j4 test")
        agent = agent_name("claude", data["session_id"])
        waiting = asyncio.ensure_future(hook("claude", data, sock, "--timeout", "120"))
        (item,) = await until(lambda: _items(sock, agent), timeout=30, what="the hook's item")
        server.send_signal(signal.SIGKILL)
        await server.wait()
        assert not waiting.done()
        server = await start_server(sock, project, env)
        # the same item, waiting again for its hook (not queued a second time)
        items = await until(
            lambda: _items(sock, agent), timeout=30, what="the item after the restart"
        )
        assert [a["approval_id"] for a in items] == [item["approval_id"]]
        op = await AgentClient.connect(sock, operator=True)
        try:
            await op.approve(str(item["approval_id"]), command="make -j4 test-fast")
        finally:
            await op.close()
        done = await asyncio.wait_for(waiting, 60)
        decision = done.json["hookSpecificOutput"]
        assert decision["permissionDecision"] == "allow", done.stderr
        assert decision["updatedInput"]["command"] == "make -j4 test-fast"
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)
            await asyncio.wait_for(server.wait(), 30)
        shutil.rmtree(root, ignore_errors=True)
