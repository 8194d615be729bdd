"""The coordinator writes snapshots by itself: every so many events, and on stop."""

from __future__ import annotations

from pathlib import Path

from agentshell.coordinator.coordinator import Coordinator
from agentshell.store.session import SessionManager
from agentshell.store.snapshots import snapshot_paths

from .conftest import stop, until


async def test_snapshots_every_n_events_and_on_stop(tmp_path: Path, project: Path) -> None:
    sm = SessionManager("t", tmp_path / "data")
    co = Coordinator(sm, project_dir=project, run_timeout=30, user_rc=False)
    co.snapshot_every = 40
    await co.start()
    try:
        assert snapshot_paths(sm.snapshot_dir) == []
        for i in range(50):  # one agent_registered event each
            await co.add_agent(f"bot{i}", ["run"])
        await until(lambda: snapshot_paths(sm.snapshot_dir), what="a snapshot")
        assert sm.events_since_snapshot < 40  # counted again from the snapshot
    finally:
        await stop(co)
    n = sm.last_seq
    assert sm.events_since_snapshot == 0  # stop wrote the rest
    sm.close()
    reopened = SessionManager("t", tmp_path / "data")
    try:
        # the newest snapshot holds everything: opening replays no log at all
        assert reopened.snapshot_used == snapshot_paths(reopened.snapshot_dir)[0]  # newest
        assert reopened.last_seq == n and len(reopened.state["agents"]) == 50
    finally:
        reopened.close()


async def test_stop_writes_no_snapshot_when_nothing_happened(tmp_path: Path, project: Path) -> None:
    sm = SessionManager("t", tmp_path / "data")
    co = Coordinator(sm, project_dir=project, run_timeout=30, user_rc=False)
    await co.start()
    await stop(co)
    first = snapshot_paths(sm.snapshot_dir)
    assert len(first) == 1  # the start's own events (terminal opened, its output)
    assert sm.events_since_snapshot == 0
    # a coordinator stopped before anything happened since: no new snapshot
    await stop(Coordinator(sm, project_dir=project, run_timeout=30, user_rc=False))
    assert snapshot_paths(sm.snapshot_dir) == first
    sm.close()
