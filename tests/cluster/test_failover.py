"""The leader lease and a standby that takes over, with real processes: a leader
SIGKILLed mid-appends, and one frozen (SIGSTOP) past its lease and woken again."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from agentshell.core import events as ev
from agentshell.core.state import state_to_plain
from tests.store.backends import needs_nats, stress

pytestmark = needs_nats

ROOT = Path(__file__).resolve().parents[2]
TTL = 2.0


def _target(cluster: Any) -> Any:
    from agentshell.store.jetstream import NatsTarget

    return NatsTarget(cluster.url, replicas=3)


def _name() -> str:
    return f"lead-{uuid.uuid4().hex[:8]}"


class Child:
    """A leader process; its stdout lines are collected by a thread."""

    def __init__(self, cluster: Any, name: str, threads: int = 3) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.cluster.leader_child",
                cluster.url,
                name,
                str(TTL),
                str(threads),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def wait_for(self, cond: Any, timeout: float = 60.0, what: str = "child output") -> None:
        deadline = time.monotonic() + timeout
        while not cond(self.lines):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {self.lines[-5:]}")
            if self.proc.poll() is not None and not cond(self.lines):
                raise AssertionError(
                    f"leader exited with {self.proc.returncode}: {self.lines[-5:]}"
                )
            time.sleep(0.01)

    def acked(self) -> list[str]:
        return [line for line in self.lines if line.startswith("t")]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        self._reader.join(30)


def test_a_second_leader_is_refused_and_a_released_lease_is_taken_at_once(cluster3: Any) -> None:
    from agentshell.store.jetstream_lease import LeaseHeldError, lead

    name = _name()
    one = lead(name, _target(cluster3), holder="one", ttl=TTL)
    try:
        one.record_event("command_executed", "a", {"command": "ls"})
        with pytest.raises(LeaseHeldError, match="is led by one"):
            lead(name, _target(cluster3), holder="two", ttl=TTL)
        time.sleep(TTL * 1.5)  # past one TTL: renewals keep the lease
        with pytest.raises(LeaseHeldError):
            lead(name, _target(cluster3), holder="two", ttl=TTL)
        assert one.lease is not None and one.lease.renewals >= 2
    finally:
        one.close()
    t0 = time.monotonic()
    with lead(name, _target(cluster3), holder="two", ttl=TTL) as two:
        assert time.monotonic() - t0 < TTL  # released: no waiting for the TTL
        assert two.last_seq == 1


def _failover(cluster: Any, rng: random.Random) -> None:
    from agentshell.store.jetstream_lease import Standby

    name = _name()
    child = Child(cluster, name)
    try:
        child.wait_for(lambda ls: "ready" in ls, what="the leader")
        standby = Standby(name, _target(cluster), holder="standby", ttl=TTL)
        n = rng.randint(20, 200)
        child.wait_for(lambda ls: sum(x.startswith("t") for x in ls) >= n, what=f"{n} appends")
        deadline = time.monotonic() + 30
        while standby.last_seq < n and time.monotonic() < deadline:
            time.sleep(0.01)  # the standby follows the stream
        assert standby.last_seq >= n
    finally:
        child.kill()
    acked = child.acked()
    t0 = time.monotonic()
    sm = standby.take_over(timeout=TTL * 5)
    took = time.monotonic() - t0
    try:
        assert took < TTL + 3.0, f"took over after {took:.1f} s"
        events = list(sm.iter_events())
        stored = [e.command for e in events]
        assert set(acked) <= set(stored)  # nothing acknowledged is lost
        assert len(stored) == len(set(stored)) and [e.seq for e in events] == list(
            range(1, len(events) + 1)
        )
        for k in range(3):  # each agent's appends in its order
            mine = [c for c in stored if c.startswith(f"t{k}-")]
            assert mine == [f"t{k}-{i}" for i in range(len(mine))]
        e = sm.append(ev.CommandExecuted(agent_id="standby", command="after"))
        assert e.seq == len(events) + 1
    finally:
        sm.close()


def test_a_killed_leader_is_replaced_by_the_standby_with_nothing_lost(cluster3: Any) -> None:
    _failover(cluster3, random.Random(7))


@pytest.mark.slow
@pytest.mark.skipif(not stress(), reason="set AGENTSHELL_STRESS=1")
def test_failover_loop(cluster3: Any) -> None:
    rng = random.Random()
    for _ in range(10):
        _failover(cluster3, rng)


def test_a_frozen_leader_woken_after_a_takeover_cannot_append(cluster3: Any) -> None:
    from agentshell.store.jetstream_lease import Standby

    name = _name()
    child = Child(cluster3, name, threads=1)
    try:
        child.wait_for(lambda ls: len([x for x in ls if x.startswith("t")]) >= 10, what="appends")
        standby = Standby(name, _target(cluster3), holder="standby", ttl=TTL)
        os.kill(child.proc.pid, signal.SIGSTOP)
        try:
            sm = standby.take_over(timeout=TTL * 5)
            sm.append(ev.CommandExecuted(agent_id="standby", command="new leader"))
            live = state_to_plain(sm.state)
        finally:
            os.kill(child.proc.pid, signal.SIGCONT)
        child.wait_for(
            lambda ls: any(x.startswith("failed") for x in ls), what="the old leader to stop"
        )
        failed = [x for x in child.lines if x.startswith("failed")]
        assert failed[0] in ("failed LeaseLostError", "failed WriterConflictError")
        try:
            sm.append(ev.CommandExecuted(agent_id="standby", command="still leads"))
            stored = [e.command for e in sm.iter_events()]
            assert stored[-2:] == ["new leader", "still leads"]
            assert set(child.acked()) <= set(stored)
            assert state_to_plain(sm.state) != live  # the new leader's append went on top
        finally:
            sm.close()
    finally:
        child.kill()


def test_a_later_holder_renews_by_the_buckets_ttl(cluster3: Any) -> None:
    from agentshell.store.jetstream_lease import lead

    name = _name()
    with lead(name, _target(cluster3), holder="first", ttl=TTL):
        pass
    with lead(name, _target(cluster3), holder="second", ttl=60.0) as sm:
        assert sm.lease is not None and sm.lease.ttl == TTL


def test_a_new_leader_fences_the_stream_before_it_appends(cluster3: Any) -> None:
    """A leader that stopped renewing (paused, cut off) and has not noticed yet can
    never append after the next leader opened: the new leader's first message, an
    empty fence, takes the sequence the old one would name."""
    from agentshell.store.jetstream import H_COUNT, H_LEADER, WriterConflictError
    from agentshell.store.jetstream_lease import lead

    name = _name()
    old = lead(name, _target(cluster3), holder="old", ttl=TTL)
    try:
        old.record_event("command_executed", "a", {"command": "before"})
        assert old._lease_loop is not None and old.lease is not None
        old._lease_loop.run(old.lease.stop_renewing())  # as if frozen: the lease lapses
        with lead(name, _target(cluster3), holder="new", ttl=TTL, wait=TTL * 5) as new:
            assert new.last_seq == 1
            msg = new._call(lambda: new._js.get_msg(new.stream, new.writer.last_stream_seq))
            assert msg.headers[H_LEADER] == "new" and msg.headers[H_COUNT] == "0"
            with pytest.raises(WriterConflictError):
                old.record_event("command_executed", "a", {"command": "stale"})
            new.record_event("command_executed", "b", {"command": "after"})
            assert [e.command for e in new.iter_events()] == ["before", "after"]
    finally:
        old.close()
