"""A session on a 3-node JetStream cluster (R3): a node SIGKILLed while several
agents append loses no acknowledged event, and the appends go on without it."""

from __future__ import annotations

import random
import threading
import time
import uuid
from typing import Any

import pytest

from agentshell.core import events as ev
from agentshell.core.state import state_to_plain
from tests.store.backends import needs_nats, stress

pytestmark = needs_nats


def _open(cluster: Any, name: str, **kwargs: Any) -> Any:
    from agentshell.store.jetstream import JetStreamSessionManager, NatsTarget

    target = NatsTarget(
        cluster.url, replicas=3, monitor=tuple(cluster.monitor_urls), publish_deadline=30.0
    )
    return JetStreamSessionManager(name, target, **kwargs)


def test_the_stream_and_snapshots_have_three_copies(cluster3: Any) -> None:
    name = f"r3-{uuid.uuid4().hex[:8]}"
    with _open(cluster3, name) as sm:
        sm.record_event("command_executed", "a", {"command": "ls"})
        sm.persist_snapshot()
        info = sm._loop.run(sm._js.stream_info(sm.stream))
        assert info.config.num_replicas == 3
        assert info.cluster is not None and len(info.cluster.replicas or []) == 2
        obs_info = sm._loop.run(sm._js.stream_info(f"OBJ_{sm.bucket}"))
        assert obs_info.config.num_replicas == 3


def _kill_during_appends(cluster: Any, rng: random.Random, per_agent: int) -> None:
    """Agents append; one node is SIGKILLed at a random point; every append that
    returned is in the stream after, once and in each agent's order."""
    name = f"kill-{uuid.uuid4().hex[:8]}"
    sm = _open(cluster, name)
    acked: dict[str, list[int]] = {f"a{k}": [] for k in range(3)}
    errors: list[BaseException] = []
    go = threading.Barrier(4)

    def agent(aid: str) -> None:
        go.wait()
        try:
            for i in range(per_agent):
                e = sm.append(ev.CommandExecuted(agent_id=aid, command=f"{aid}-{i}"))
                acked[aid].append(e.seq)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=agent, args=(a,)) for a in acked]
    for t in threads:
        t.start()
    go.wait()
    victim = rng.choice(cluster.nodes)
    target = rng.randint(1, per_agent)
    deadline = time.monotonic() + 60
    while sum(map(len, acked.values())) < target and time.monotonic() < deadline:
        time.sleep(0.001)  # poll the agents' progress to pick the kill point
    cluster.kill_node(victim)
    for t in threads:
        t.join(120)
    try:
        assert not errors, errors
        assert all(len(v) == per_agent for v in acked.values())
        live = state_to_plain(sm.state)
    finally:
        sm.close()
        cluster.start_node(victim)
        cluster.wait_ready(60, [victim])
    with _open(cluster, name, create=False) as again:
        assert state_to_plain(again.state) == live
        events = list(again.iter_events())
        assert [e.seq for e in events] == list(range(1, 3 * per_agent + 1))
        for aid in acked:
            mine = [e.command for e in events if e.agent_id == aid]
            assert mine == [f"{aid}-{i}" for i in range(per_agent)]


def test_a_node_killed_during_appends_loses_no_acknowledged_event(cluster3: Any) -> None:
    _kill_during_appends(cluster3, random.Random(20), per_agent=150)


@pytest.mark.slow
@pytest.mark.skipif(not stress(), reason="set AGENTSHELL_STRESS=1")
def test_node_kill_loop(cluster3: Any) -> None:
    rng = random.Random()
    for _ in range(20):
        _kill_during_appends(cluster3, rng, per_agent=rng.randint(50, 400))
