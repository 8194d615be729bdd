"""`agentshell run --nats URL --session S`: the same command line as over the socket,
reaching a coordinator served on NATS (a real nats-server, a real shell)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from agentshell.coordinator.coordinator import Coordinator
from agentshell.server.server import Server
from tests.cluster.test_nats_agents import CAPS, served
from tests.polling import until
from tests.store.backends import needs_nats

pytestmark = needs_nats
__all__ = ["served"]

AGENTSHELL = str(Path(sys.executable).parent / "agentshell")


async def _run(url: str, token: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        AGENTSHELL,
        "run",
        "--nats",
        url,
        "--session",
        "natsy",
        "--agent",
        "remote",
        *args,
        env=dict(os.environ, AGENTSHELL_TOKEN=token),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_run_over_nats_waits_for_the_decision_and_exits_with_the_code(
    served: tuple[Coordinator, Server, Any], nats_node: Any
) -> None:
    co, _, _ = served
    token = await co.add_agent("remote", CAPS)
    proc = await _run(nats_node.url, token, "--", "echo from-afar-$((6*7)); (exit 3)")
    (item,) = await until(lambda: co.approvals(), timeout=30, what="the proposal over NATS")
    assert item.agent_id == "remote"
    await co.approve(item.approval_id)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert (proc.returncode, out.decode().strip()) == (3, "from-afar-42"), err.decode()
    rejected = await _run(nats_node.url, token, "--", "rm -rf /")
    (item,) = await until(lambda: co.approvals(), timeout=30, what="the second proposal")
    await co.reject(item.approval_id, "not on this machine")
    _, err = await asyncio.wait_for(rejected.communicate(), 60)
    assert rejected.returncode == 126 and "not on this machine" in err.decode()


async def test_run_over_nats_with_nobody_serving_says_so(nats_node: Any) -> None:
    proc = await _run(nats_node.url, "t0ken", "--connect-timeout", "1", "--", "true")
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert "through NATS" in err.decode() and "natsy" in err.decode()
