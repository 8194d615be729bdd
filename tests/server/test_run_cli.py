"""`agentshell run` as an agent calls it, against a real server."""

from __future__ import annotations

import asyncio
import os
import sys

from .conftest import Served
from .test_e2e import pending


async def _run(served: Served, *command: str) -> asyncio.subprocess.Process:
    token = served.tokens.get("bot") or await served.coordinator.add_agent("bot", ["run", "read"])
    served.tokens["bot"] = token
    env = dict(os.environ, AGENTSHELL_AGENT="bot", AGENTSHELL_TOKEN=token)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agentshell",
        "run",
        "--socket",
        str(served.socket),
        "--reconnect",
        "1",
        "--",
        *command,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_run_says_on_stderr_when_the_operator_edited_the_command(served: Served) -> None:
    op = await served.operator()
    try:
        proc = await _run(served, "ls /nonexistent-dir")
        [a] = await pending(op)
        await op.approve(a["approval_id"], command="echo edited-$((1+1))")
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0
        assert out.decode().strip() == "edited-2"  # stdout: only what ran printed
        assert "edited the command; what ran: echo edited-$((1+1))" in err.decode()
        proc = await _run(served, "echo as-$((2+2))")
        [a] = await pending(op)
        await op.approve(a["approval_id"])
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert out.decode().strip() == "as-4" and "edited" not in err.decode()
    finally:
        await op.close()


async def test_agent_add_through_the_server_refuses_an_existing_agent(served: Served) -> None:
    await served.coordinator.add_agent("bot", ["run"])
    args = [sys.executable, "-m", "agentshell", "agent", "add", "bot", "--socket"]
    proc = await asyncio.create_subprocess_exec(
        *args, str(served.socket), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1 and not out and b"agent add --replace" in err
    proc = await asyncio.create_subprocess_exec(
        *args, str(served.socket), "--replace", "-c", "read", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0 and out.strip()
    assert served.coordinator.state["agents"]["bot"].capabilities == ("read",)


async def test_a_shell_that_exits_and_a_server_that_goes_away_say_so(served: Served) -> None:
    op = await served.operator()
    try:
        proc = await _run(served, "exit 3")
        [a] = await pending(op)
        await op.approve(a["approval_id"])
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 125
        assert "the shell of terminal 'main' exited (exit status 3)" in err.decode()
        assert "restart()" not in err.decode()  # no internal API in an operator's message
        proc = await _run(served, "echo never")
        await pending(op)
        await served.server.close()
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 125
        assert "the server closed the connection" in err.decode(), err
        assert "could not reconnect within 1 s" in err.decode(), err
    finally:
        await op.close()
