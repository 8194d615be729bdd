"""A remote operator (``agentshell tui --nats``'s backend) through a failover: two
real ``cluster serve`` processes sharing one ``--operator-token-file`` on a real
3-node cluster; the view keeps following the stream while the leader is SIGKILLed,
and the operator's decision after the takeover reaches the new leader."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import stat
import tempfile
import uuid
from pathlib import Path
from typing import Any

from tests.cluster.test_serve_failover import CAPS, Served
from tests.polling import until
from tests.store.backends import needs_nats

pytestmark = needs_nats


def screen_text(backend: Any) -> str:
    return "\n".join(backend.terminals()["main"].frame().display)


async def test_a_remote_operator_decides_across_a_failover(cluster3: Any, tmp_path: Path) -> None:
    from agentshell.client.nats_connect import connect_nats
    from agentshell.store.jetstream import NatsTarget
    from agentshell.tui.remote import RemoteBackend

    root = Path(tempfile.mkdtemp(prefix="as-", dir="/tmp"))
    (root / "a").mkdir(mode=0o700)
    (root / "b").mkdir(mode=0o700)
    project = tmp_path / "proj"
    project.mkdir()
    marker = project / "marker.txt"
    token_file = root / "operator.token"
    extra = ["--operator-token-file", str(token_file)]
    name = f"rop-{uuid.uuid4().hex[:8]}"
    a = Served(cluster3.url, name, root / "a" / "s.sock", project, extra)
    b = None
    remote = None
    agent = None
    try:
        a.wait_for("serving session")
        assert any("wrote a new operator token" in line for line in a.lines)
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        b = Served(cluster3.url, name, root / "b" / "s.sock", project, extra)
        b.wait_for("standby:")
        token = token_file.read_text().strip()
        remote = await RemoteBackend.open(NatsTarget(cluster3.url), name, token)
        op = await connect_nats(cluster3.url, name, operator=True, token=token)
        coder = await op.add_agent("coder", CAPS)
        await op.close()
        agent = await connect_nats(cluster3.url, name, "coder", coder)
        first = await agent.propose(f"echo one | tee -a {marker}")
        await until(lambda: first in remote.state["pending_approvals"], what="seen remotely")
        await remote.approve(first)
        assert (await agent.result(first)).exit_code == 0
        await until(lambda: "one" in screen_text(remote), timeout=30, what="output shown")
        second = await agent.propose(f"echo two-$((1+1)) | tee -a {marker}")
        await until(lambda: second in remote.state["pending_approvals"], what="second queued")
        waiting = asyncio.ensure_future(agent.result(second))

        os.kill(a.proc.pid, signal.SIGKILL)
        a.proc.wait(30)
        b.wait_for("serving session", timeout=30)
        # the view went on through it: the queue as it was, and the new leader's own
        # events (its terminal opened again) arrive in it
        seen = int(remote.state["last_seq"])
        await until(lambda: int(remote.state["last_seq"]) > seen, timeout=30, what="new events")
        assert list(remote.state["pending_approvals"]) == [second]
        await remote.approve(second)  # through the standby that leads now, same token
        res = await waiting
        assert res.exit_code == 0 and "two-2" in res.output
        assert marker.read_text() == "one\ntwo-2\n"  # nothing ran twice
        await until(lambda: "two-2" in screen_text(remote), timeout=30, what="shown after")
        await until(lambda: not remote.state["pending_approvals"], what="decided remotely")
    finally:
        if agent is not None:
            await agent.close()
        if remote is not None:
            await remote.close()
        a.stop()
        if b is not None:
            b.stop()
        shutil.rmtree(root, ignore_errors=True)
