"""A session whose `agentshell serve` was SIGKILLed replays up to its last durable event."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path

from agentshell.client import AgentClient
from agentshell.replay.app import ReplayApp
from agentshell.replay.timeline import Timeline
from agentshell.store.session import SessionManager
from agentshell.tui.widgets.sidebar.approvals import ApprovalQueue

from .conftest import until

AGENTSHELL = [sys.executable, "-m", "agentshell"]


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Exit code and stdout (stderr only when it failed)."""
    p = await asyncio.create_subprocess_exec(
        *AGENTSHELL, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(p.communicate(), 60)
    return p.returncode or 0, out.decode() if not p.returncode else err.decode()


async def test_sigkilled_server_replays_to_last_durable_event(tmp_path: Path) -> None:
    env = dict(os.environ, AGENTSHELL_DIR=str(tmp_path / "data"))
    sock = Path(tempfile.mkdtemp(prefix="as-", dir="/tmp")) / "s.sock"
    project = tmp_path / "proj"
    project.mkdir()
    code, token = await _cli("agent", "add", "bot", "--session", "s", "-c", "read,run", env=env)
    assert code == 0, token
    server = await asyncio.create_subprocess_exec(
        *AGENTSHELL, "serve", "--session", "s", "--socket", str(sock), "--project", str(project),
        env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert server.stderr is not None
        line = await asyncio.wait_for(server.stderr.readline(), 60)
        assert b"serving" in line, line
        agent = await AgentClient.connect(sock, "bot", token.strip())
        op = await AgentClient.connect(sock, operator=True)
        kept = await agent.propose("touch kept-marker")
        dropped = await agent.propose("touch dropped-marker")
        await op.reject(dropped, "not now")
        third = await agent.propose("echo third")
        # acknowledged means durable: once the queue shows them, they are in the log
        await until(lambda: _pending(op), timeout=20, what="the queue")
        server.send_signal(signal.SIGKILL)
        await server.wait()
        await agent.close()
        await op.close()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
    session_dir = tmp_path / "data" / "s"
    log = session_dir / "events.log"
    durable = log.stat().st_size
    with open(log, "ab") as f:  # a write the kill cut short
        f.write(b"\x40\x00\x00\x00\x01\x02")

    tl = Timeline(session_dir)
    assert "torn" in tl.stopped
    assert tl.offsets[len(tl)] == durable
    state, _ = tl.seek(len(tl))
    assert set(state["pending_approvals"]) == {kept, third}
    assert [m.kind for m in tl.markers] == ["rejected"]
    assert log.stat().st_size == durable + 6  # replay never repairs the log

    app = ReplayApp(tl, autoplay=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.seek(len(tl))
        await pilot.pause()
        queue = app.query_one(ApprovalQueue)
        assert {a.approval_id for a in queue.items} == {kept, third}

    # and the session itself opens again with the same queue (the torn tail cut)
    with SessionManager.open_existing(session_dir) as sm:
        assert set(sm.state["pending_approvals"]) == {kept, third}
        assert sm.state["last_seq"] == state["last_seq"]
    assert not (project / "kept-marker").exists()


async def _pending(op: AgentClient) -> bool:
    items = await op.approvals()
    return len([a for a in items if a["status"] == "queued"]) == 2
