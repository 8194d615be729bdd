"""A coordinator on a standby that took over a session on JetStream: what was
approved but not started before the failover comes back interrupted and never runs;
what was queued waits on, as after a local crash (tests/coordinator/test_restart.py)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from agentshell.coordinator.coordinator import Coordinator
from agentshell.core import events as ev
from tests.polling import until
from tests.store.backends import needs_nats

pytestmark = needs_nats


async def test_takeover_reruns_nothing_that_was_approved(cluster3: Any, tmp_path: Path) -> None:
    import asyncio

    from agentshell.store.jetstream import NatsTarget
    from agentshell.store.jetstream_lease import LeaseLostError, Standby, lead

    project = tmp_path / "proj"
    project.mkdir()
    marker = project / "marker.txt"
    name = f"co-{uuid.uuid4().hex[:8]}"
    target = NatsTarget(cluster3.url, replicas=3)
    sm = await asyncio.to_thread(lead, name, target, holder="first", ttl=2.0)
    co = Coordinator(sm, project_dir=project, run_timeout=30, user_rc=False)
    await co.start()
    standby = await asyncio.to_thread(Standby, name, target, holder="second", ttl=2.0)
    try:
        await co.add_agent("bot", ["read", "run", "type", "edit"])
        queued = await co.propose("bot", f"echo queued >> {marker}")
        await co.send_input("main", b"sleep 60\n")  # the approved one cannot start
        await until(lambda: not co.terminal("main").at_prompt, what="the shell to be busy")
        approved = await co.propose("bot", f"echo approved >> {marker}")
        await co.approve(approved)
        await until(lambda: standby.last_seq >= sm.last_seq, what="the standby to follow")
        # the leader's machine goes away: from here on nothing it does is stored
        sm.writer.stop(LeaseLostError("the leader's machine went away"))
    finally:
        await co.stop()
        await asyncio.to_thread(sm.close)
    sm2 = await asyncio.to_thread(standby.take_over, 20.0)
    co2 = Coordinator(sm2, project_dir=project, run_timeout=30, user_rc=False)
    await co2.start()
    try:
        assert [(a.approval_id, a.status) for a in co2.approvals()] == [
            (queued, "queued"),
            (approved, "interrupted"),
        ]
        runs = [e for e in sm2.iter_events() if isinstance(e, ev.CommandExecuted)]
        assert runs == [] and not marker.exists()
        await co2.approve(queued)  # the queued one runs once, on the new leader
        res = await co2.wait_result(queued)
        assert res.exit_code == 0 and marker.read_text() == "queued\n"
    finally:
        await co2.stop()
        await asyncio.to_thread(sm2.close)
