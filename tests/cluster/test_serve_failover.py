"""`agentshell cluster serve` as two real processes on a 3-node cluster: the first
leads, the second stands by; an agent and the operator work through NATS; the
leader is SIGKILLed; the standby takes over within seconds, the queue is intact, and
the command that ran before the failover does not run again."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.store.backends import needs_nats

pytestmark = needs_nats
CAPS = ["read", "run", "type", "edit"]


class Served:
    def __init__(
        self, url: str, name: str, sock: Path, project: Path, extra: Sequence[str] = ()
    ) -> None:
        self.sock = sock
        cmd = [
            str(Path(sys.executable).parent / "agentshell"),
            *("cluster", "serve", "--nats", url, "--session", name, "--ttl", "2"),
            *("--socket", str(sock), "--project", str(project), "--no-user-rc"),
            *extra,
        ]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())

    def wait_for(self, text: str, timeout: float = 60.0) -> float:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"no {text!r} (exit {self.proc.poll()}): {self.lines[-8:]}")
            time.sleep(0.01)
        return time.monotonic()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(30)


async def test_the_standby_takes_over_a_killed_leader(cluster3: Any, tmp_path: Path) -> None:
    from agentshell.client.nats_connect import connect_nats
    from agentshell.server.paths import operator_token_path
    from tests.polling import until

    root = Path(tempfile.mkdtemp(prefix="as-", dir="/tmp"))
    (root / "a").mkdir(mode=0o700)
    (root / "b").mkdir(mode=0o700)
    project = tmp_path / "proj"
    project.mkdir()
    marker = project / "marker.txt"
    name = f"srv-{uuid.uuid4().hex[:8]}"
    a = Served(cluster3.url, name, root / "a" / "s.sock", project)
    b = None
    try:
        a.wait_for("serving session")
        b = Served(cluster3.url, name, root / "b" / "s.sock", project)
        b.wait_for("standby:")
        token_a = operator_token_path(a.sock).read_text().strip()
        op = await connect_nats(cluster3.url, name, operator=True, token=token_a)
        coder_token = await op.add_agent("coder", CAPS)
        agent = await connect_nats(cluster3.url, name, "coder", coder_token)
        first = await agent.propose(f"echo one >> {marker}")
        await op.approve(first)
        assert (await agent.result(first)).exit_code == 0
        second = await agent.propose(f"echo two >> {marker}")  # queued, not decided
        await until(lambda: op.approvals(), what="the queue")  # the leader recorded the proposal
        assert [x["approval_id"] for x in await op.approvals()] == [second]
        await op.close()
        # the agent waits for its command across the failover, on one client
        waiting = asyncio.ensure_future(agent.result(second))

        os.kill(a.proc.pid, signal.SIGKILL)
        killed = time.monotonic()
        a.proc.wait(30)
        took = b.wait_for("took over", timeout=30) - killed
        b.wait_for("serving session", timeout=30)
        assert took < 2.0 + 3.0, f"the standby took {took:.1f} s"
        print(f"takeover {took:.2f} s after the SIGKILL (lease TTL 2 s)")

        # local commands (agentshell run --session) find the new leader's socket
        record = Path(os.environ["AGENTSHELL_DIR"]) / name / "server.socket"
        assert record.read_text().strip() == str(b.sock)
        token_b = operator_token_path(b.sock).read_text().strip()
        op2 = await connect_nats(cluster3.url, name, operator=True, token=token_b)
        try:
            queue = await op2.approvals()
            assert [(x["approval_id"], x["status"]) for x in queue] == [(second, "queued")]
            assert not waiting.done()
            await op2.approve(second)
            res = await asyncio.wait_for(waiting, 30)
            assert res.exit_code == 0 and agent.reconnects >= 1
            assert marker.read_text() == "one\ntwo\n"  # "one" did not run again
        finally:
            await op2.close()
            await agent.close()
        assert b.stop() == 0  # a clean stop: SIGTERM, lease released
    finally:
        a.stop()
        if b is not None:
            b.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_a_standby_stopped_while_it_waits_exits_cleanly(cluster3: Any, tmp_path: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix="as-", dir="/tmp"))
    (root / "a").mkdir(mode=0o700)
    (root / "b").mkdir(mode=0o700)
    name = f"srv-{uuid.uuid4().hex[:8]}"
    a = Served(cluster3.url, name, root / "a" / "s.sock", tmp_path)
    b = None
    try:
        a.wait_for("serving session")
        b = Served(cluster3.url, name, root / "b" / "s.sock", tmp_path)
        b.wait_for("standby:")
        assert "led by" in b.lines[-1]
        t0 = time.monotonic()
        assert b.stop() == 0
        assert time.monotonic() - t0 < 10
        assert not any("serving session" in line for line in b.lines)
        assert a.proc.poll() is None  # the leader goes on
    finally:
        a.stop()
        if b is not None:
            b.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_a_node_killed_under_a_served_session_runs_every_command_once(
    cluster3: Any, tmp_path: Path
) -> None:
    """One NATS node SIGKILLed while an agent's commands go through `cluster serve`:
    every command is approved and runs exactly once; nothing the leader acknowledged
    is lost (the session's stream has three copies)."""
    import random

    from agentshell.client.nats_connect import connect_nats
    from agentshell.server.paths import operator_token_path

    root = Path(tempfile.mkdtemp(prefix="as-", dir="/tmp"))
    (root / "a").mkdir(mode=0o700)
    project = tmp_path / "proj"
    project.mkdir()
    marker = project / "marker.txt"
    name = f"node-{uuid.uuid4().hex[:8]}"
    a = Served(cluster3.url, name, root / "a" / "s.sock", project)
    victim = random.Random(3).choice(cluster3.nodes)
    try:
        a.wait_for("serving session")
        token = operator_token_path(a.sock).read_text().strip()
        op = await connect_nats(cluster3.url, name, operator=True, token=token)
        coder = await op.add_agent("coder", CAPS)
        agent = await connect_nats(cluster3.url, name, "coder", coder)
        try:
            for i in range(8):
                if i == 3:
                    cluster3.kill_node(victim)
                aid = await agent.propose(f"echo {i} >> {marker}")
                await op.approve(aid)
                res = await asyncio.wait_for(agent.result(aid), 60)
                assert res.exit_code == 0
        except BaseException:
            print("LEADER", a.proc.poll(), *a.lines[-15:], sep="\n")
            raise
        finally:
            await op.close()
            await agent.close()
        assert marker.read_text().split() == [str(i) for i in range(8)]
        assert a.proc.poll() is None  # the leader kept serving
    finally:
        a.stop()
        if victim.process is None:
            cluster3.start_node(victim)
            cluster3.wait_ready(60, [victim])
        shutil.rmtree(root, ignore_errors=True)
