"""Persistence tests written once, run on each log backend (file log, JetStream).

The ``backend`` fixture (tests/store/backends.py) opens the same SessionManager API
on a session directory or on a real nats-server on loopback; the JetStream runs skip,
saying why, without the cluster extra.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from agentshell.core import events as ev
from agentshell.core.errors import InvalidEventError, LogClosedError
from agentshell.core.state import state_to_plain
from agentshell.store.session import SessionNotFoundError
from tests.store.backends import Backend


def test_reopen_recovers_state_and_seq(backend: Backend) -> None:
    with backend.open("s") as sm:
        sm.record_event("agent_registered", "coder", {"capabilities": ["python"]})
        for i in range(5):
            sm.record_event("command_executed", "coder", {"command": f"echo {i}", "exit_code": 0})
        live = state_to_plain(sm.state)
    with backend.open("s", create=False) as again:
        assert state_to_plain(again.state) == live
        assert again.last_seq == 6 and again.snapshot_used is None
        assert again.record_event("command_executed", "coder", {"command": "x"}).seq == 7
        assert [c.command for c in again.get_recent_commands(3)] == ["echo 3", "echo 4", "x"]
        assert [e.seq for e in again.iter_events(after_seq=5)] == [6, 7]
        assert [e.seq for e in again.iter_events()] == list(range(1, 8))


def test_opening_a_missing_session_without_create_is_refused(backend: Backend) -> None:
    with pytest.raises(SessionNotFoundError):
        backend.open("nope", create=False)


def test_invalid_events_write_nothing(backend: Backend) -> None:
    with backend.open("s") as sm:
        with pytest.raises(InvalidEventError, match="unknown event type"):
            sm.record_event("no_such_event", "coder", {})
        bad = ev.AgentRegistered(agent_id="coder", capabilities=[], metadata={"x": {1, 2}})
        with pytest.raises(InvalidEventError):
            sm.append(bad)
        e = sm.record_event("command_executed", "coder", {"command": "ls"})
        assert e.seq == 1
        assert list(sm.iter_events()) == [e]
    with backend.open("s") as again:
        assert [x.seq for x in again.iter_events()] == [1] and again.last_seq == 1


def test_snapshot_then_only_the_events_after_it_are_replayed(backend: Backend) -> None:
    with backend.open("s") as sm:
        for i in range(20):
            sm.record_event("directory_changed", "coder", {"path": f"/p{i}"})
        snap = sm.persist_snapshot()
        for i in range(20, 25):
            sm.record_event("directory_changed", "coder", {"path": f"/p{i}"})
        live = state_to_plain(sm.state)
    with backend.open("s") as again:
        assert again.snapshot_used == snap and not again.snapshots_skipped
        assert again.recovery.records == 25
        assert state_to_plain(again.state) == live
        assert again.get_cwd("coder") == "/p24"


def test_a_bad_newest_snapshot_falls_back_to_an_older_one(backend: Backend) -> None:
    with backend.open("s") as sm:
        sm.record_event("directory_changed", "coder", {"path": "/a"})
        first = sm.persist_snapshot()
        sm.record_event("directory_changed", "coder", {"path": "/b"})
        sm.persist_snapshot()
        sm.record_event("directory_changed", "coder", {"path": "/c"})
        live = state_to_plain(sm.state)
        damaged = backend.damage_newest_snapshot(sm)
    with backend.open("s") as again:
        assert again.snapshot_used == first
        assert any(damaged in note for note in again.snapshots_skipped)
        assert any(damaged in note for note in again.open_notes())
        assert state_to_plain(again.state) == live


def test_replay_from_snapshot_picks_a_snapshot_older_than_the_time(backend: Backend) -> None:
    with backend.open("s") as sm:
        t = 1000.0
        for i in range(10):
            sm.append(ev.DirectoryChanged(agent_id="a", path=f"/{i}", timestamp=t + i))
            if i in (3, 7):
                sm.persist_snapshot()
        assert sm.replay_from_snapshot(1005.0)["current_working_dirs"]["a"] == "/5"
        assert sm.replay_from_snapshot(1003.0)["event_count"] == 4
        assert sm.replay_from_snapshot(999.0)["event_count"] == 0
        assert sm.replay_from_snapshot(5000.0)["current_working_dirs"]["a"] == "/9"


async def test_async_appends_fold_at_call_time_and_are_durable_when_done(
    backend: Backend,
) -> None:
    sm = backend.open("s")
    futs = [sm.append_async(ev.DirectoryChanged(agent_id="a", path=f"/{i}")) for i in range(50)]
    assert sm.last_seq == 50 and sm.get_cwd("a") == "/49"
    done = await asyncio.gather(*futs[::-1])
    assert sorted(e.seq for e in done) == list(range(1, 51))
    live = state_to_plain(sm.state)
    # durable: a second reader sees all 50 before this session is closed
    assert [e.seq for e in sm.iter_events(after_seq=45)] == [46, 47, 48, 49, 50]
    await asyncio.to_thread(sm.close)
    again = await asyncio.to_thread(backend.open, "s")
    assert state_to_plain(again.state) == live


def test_threads_appending_at_once_share_rounds_and_lose_nothing(backend: Backend) -> None:
    sm = backend.open("s")
    go = threading.Barrier(4)
    errors: list[BaseException] = []

    def run(k: int) -> None:
        go.wait()
        try:
            for i in range(60):
                sm.append(ev.CommandExecuted(agent_id=f"a{k}", command=f"{k}-{i}"))
        except BaseException as exc:
            errors.append(exc)

    ts = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    snap = sm.persist_snapshot()  # taken between appends: it ends at a round's end
    sm.record_event("command_executed", "a0", {"command": "last"})
    live = state_to_plain(sm.state)
    sm.close()
    with backend.open("s") as again:
        assert again.snapshot_used == snap and state_to_plain(again.state) == live
        events = list(again.iter_events())
        assert [e.seq for e in events] == list(range(1, 242))
        for k in range(4):  # each thread's appends in its own order
            mine = [e.command for e in events if e.agent_id == f"a{k}" and e.command != "last"]
            assert mine == [f"{k}-{i}" for i in range(60)]


def test_buffered_appends_are_durable_after_flush(backend: Backend) -> None:
    with backend.open("s") as sm:
        for i in range(300):
            sm.append_buffered(ev.CommandExecuted(agent_id="bulk", command=f"c{i}"))
        sm.flush()
        assert [e.seq for e in sm.iter_events(after_seq=297)] == [298, 299, 300]
    with backend.open("s") as again:
        assert again.last_seq == 300
        assert again.state["recent_commands"][-1].command == "c299"


def test_iter_events_by_type_and_from_the_middle(backend: Backend) -> None:
    with backend.open("s") as sm:
        for i in range(40):
            sm.record_event("directory_changed", "a", {"path": f"/{i}"})
            sm.record_event("command_executed", "a", {"command": f"c{i}"})
        got = list(sm.iter_events(after_seq=60, types={"command_executed"}))
        assert [e.seq for e in got] == list(range(62, 81, 2))
        assert all(isinstance(e, ev.CommandExecuted) for e in got)
        assert list(sm.iter_events(after_seq=80)) == []


def test_a_closed_session_refuses_appends(backend: Backend) -> None:
    sm = backend.open("s")
    sm.record_event("command_executed", "a", {"command": "ls"})
    sm.close()
    with pytest.raises(LogClosedError):
        sm.record_event("command_executed", "a", {"command": "late"})
    with backend.open("s") as again:
        assert again.last_seq == 1
