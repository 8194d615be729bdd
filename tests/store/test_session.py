"""SessionManager: the issue's API example, validation, snapshots, recovery, async."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import pytest

from agentshell import SessionManager
from agentshell.core import events as ev
from agentshell.core.errors import InvalidEventError, InvalidNameError, LogCorruptionError
from agentshell.core.state import AgentInfo, state_to_plain
from agentshell.store.session import SessionNotFoundError
from agentshell.store.snapshots import snapshot_paths


def test_the_api_example_from_the_issue(tmp_path: Path) -> None:
    persist = tmp_path / "sessions"
    session = SessionManager(session_name="my_session", persist_dir=str(persist))
    session.record_event(
        event_type="agent_registered",
        agent_id="coder",
        payload={
            "agent_id": "coder",
            "capabilities": ["python", "debugging"],
            "metadata": {"model": "claude-3"},
            "timestamp": time.time(),
        },
    )
    state = session.get_session_state()
    assert isinstance(state["agents"]["coder"], AgentInfo)
    assert state["agents"]["coder"].capabilities == ("python", "debugging")
    assert state["agents"]["coder"].metadata == {"model": "claude-3"}
    assert session.get_cwd("coder") == "/"
    session.set_cwd("coder", "/project/src")
    assert session.get_cwd("coder") == "/project/src"
    edit = session.record_file_edit(
        file_path="/project/src/main.py",
        agent_id="coder",
        old_content="print('hello')",
        new_content="print('hello world')",
    )
    assert isinstance(edit, ev.FileEdited)
    assert edit.old_hash == hashlib.sha256(b"print('hello')").hexdigest()
    assert edit.new_hash == hashlib.sha256(b"print('hello world')").hexdigest()
    assert edit.ranges == [[0, 1]] and edit.new_ranges == [[0, 1]]
    snap = session.persist_snapshot()
    assert snap.parent == persist / "my_session" / "snapshots"
    assert snap.name.startswith("snapshot-") and snap.suffix == ".bin"
    assert snap.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    ts = time.time()
    session.set_cwd("coder", "/elsewhere")
    past = session.replay_from_snapshot(ts)
    assert past["current_working_dirs"]["coder"] == "/project/src"
    assert past["event_count"] == 3
    agents = session.list_agents()
    assert list(agents) == ["coder"] and agents["coder"] == session.state["agents"]["coder"]
    agents.clear()  # a copy: the session's agents stay
    assert list(session.list_agents()) == ["coder"]
    assert session.get_recent_commands(limit=10) == []
    assert (persist / "my_session" / "events.log").is_file()
    session.close()


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".hidden", "..", "a\x00b", "/abs", "x" * 200])
def test_non_plain_session_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidNameError):
        SessionManager(session_name=name, persist_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_invalid_events_raise_and_write_nothing(tmp_path: Path) -> None:
    with SessionManager("s", tmp_path) as sm:
        before = sm.log_path.read_bytes()
        with pytest.raises(InvalidEventError, match="unknown event type"):
            sm.record_event("no_such_event", "coder", {})
        with pytest.raises(InvalidEventError, match="missing payload field"):
            sm.record_event("command_executed", "coder", {})
        with pytest.raises(InvalidEventError, match="unknown payload field"):
            sm.record_event("command_executed", "coder", {"command": "ls", "colour": 1})
        with pytest.raises(InvalidEventError, match="expected str"):
            sm.record_event("command_executed", "coder", {"command": 3})
        with pytest.raises(InvalidEventError, match="cannot be stored"):
            sm.record_event(
                "agent_registered", "coder", {"capabilities": [], "metadata": {"x": object()}}
            )
        # An event built by hand (no validation) with a value msgpack cannot pack.
        bad = ev.AgentRegistered(agent_id="coder", capabilities=[], metadata={"x": {1, 2}})
        with pytest.raises(InvalidEventError):
            sm.append(bad)
        assert sm.log_path.read_bytes() == before
        assert sm.state["event_count"] == 0 and sm.last_seq == 0
        e = sm.record_event("command_executed", "coder", {"command": "ls"})
        assert e.seq == 1
        # the failed packs left nothing behind in the session's reused packer
        assert list(sm.iter_events()) == [e]


def test_reopen_recovers_state_and_seq(tmp_path: Path) -> None:
    with SessionManager("s", tmp_path) as sm:
        sm.record_event("agent_registered", "coder", {"capabilities": ["python"]})
        for i in range(5):
            sm.record_event("command_executed", "coder", {"command": f"echo {i}", "exit_code": 0})
        live = state_to_plain(sm.state)
    with SessionManager.open_existing(tmp_path / "s") as again:
        assert state_to_plain(again.state) == live
        assert again.record_event("command_executed", "coder", {"command": "x"}).seq == 7
        assert [c.command for c in again.get_recent_commands(3)] == ["echo 3", "echo 4", "x"]
        assert [e.seq for e in again.iter_events(after_seq=5)] == [6, 7]


def test_open_existing_refuses_a_missing_session(tmp_path: Path) -> None:
    with pytest.raises(SessionNotFoundError):
        SessionManager.open_existing(tmp_path / "nope")


def test_snapshot_then_tail_replay_only(tmp_path: Path) -> None:
    with SessionManager("s", tmp_path) as sm:
        for i in range(20):
            sm.record_event("directory_changed", "coder", {"path": f"/p{i}"})
        sm.persist_snapshot()
        for i in range(20, 25):
            sm.record_event("directory_changed", "coder", {"path": f"/p{i}"})
        live = state_to_plain(sm.state)
    with SessionManager("s", tmp_path) as again:
        assert again.snapshot_used is not None
        assert again.recovery.records == 25  # numbering continues from the snapshot
        assert state_to_plain(again.state) == live


def test_bad_newest_snapshot_falls_back(tmp_path: Path) -> None:
    with SessionManager("s", tmp_path) as sm:
        sm.record_event("directory_changed", "coder", {"path": "/a"})
        first = sm.persist_snapshot()
        sm.record_event("directory_changed", "coder", {"path": "/b"})
        second = sm.persist_snapshot()
        sm.record_event("directory_changed", "coder", {"path": "/c"})
        live = state_to_plain(sm.state)
    raw = bytearray(second.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    second.write_bytes(bytes(raw))
    with SessionManager("s", tmp_path) as again:
        assert again.snapshot_used == first
        assert again.snapshots_skipped and str(second) in again.snapshots_skipped[0]
        assert state_to_plain(again.state) == live
    first.write_bytes(b"not gzip")
    with SessionManager("s", tmp_path) as again:
        assert again.snapshot_used is None  # full replay
        assert state_to_plain(again.state) == live


def test_snapshot_of_another_log_is_not_used(tmp_path: Path) -> None:
    with SessionManager("s", tmp_path) as sm:
        for i in range(3):
            sm.record_event("directory_changed", "coder", {"path": f"/{i}"})
        sm.persist_snapshot()
    log = tmp_path / "s" / "events.log"
    log.unlink()
    with SessionManager("s", tmp_path) as again:
        assert again.snapshot_used is None and again.last_seq == 0


def test_only_the_newest_snapshots_are_kept(tmp_path: Path) -> None:
    with SessionManager("s", tmp_path, keep_snapshots=3) as sm:
        made = []
        for i in range(5):
            sm.record_event("directory_changed", "coder", {"path": f"/{i}"})
            made.append(sm.persist_snapshot())
        assert snapshot_paths(sm.snapshot_dir) == made[::-1][:3]


def test_mid_file_corruption_is_a_clear_error_on_open(tmp_path: Path) -> None:
    with SessionManager("s", tmp_path) as sm:
        for i in range(30):
            sm.record_event("directory_changed", "coder", {"path": f"/{i}"})
    log = tmp_path / "s" / "events.log"
    data = bytearray(log.read_bytes())
    data[300] ^= 0x10
    log.write_bytes(bytes(data))
    with pytest.raises(LogCorruptionError, match="agentshell repair"):
        SessionManager("s", tmp_path)


async def test_append_async_orders_and_folds_at_call_time(tmp_path: Path) -> None:
    sm = SessionManager("s", tmp_path)
    try:
        coros = [
            sm.append_async(ev.DirectoryChanged(agent_id="a", path=f"/{i}")) for i in range(10)
        ]
        # Seq and fold happen at call time, before anything is awaited.
        assert sm.last_seq == 10 and sm.get_cwd("a") == "/9"
        done = await asyncio.gather(*coros[::-1])
        done.reverse()
        assert [e.seq for e in done] == list(range(1, 11))
        assert sm.get_cwd("a") == "/9"
        assert [e.seq for e in sm.iter_events()] == list(range(1, 11))
    finally:
        sm.close()


def test_replay_from_snapshot_uses_an_older_snapshot_for_an_older_time(tmp_path: Path) -> None:
    with SessionManager("s", tmp_path) as sm:
        t = 1000.0
        for i in range(10):
            sm.append(ev.DirectoryChanged(agent_id="a", path=f"/{i}", timestamp=t + i))
            if i in (3, 7):
                sm.persist_snapshot()
        assert sm.replay_from_snapshot(1005.0)["current_working_dirs"]["a"] == "/5"
        assert sm.replay_from_snapshot(1003.0)["event_count"] == 4
        assert sm.replay_from_snapshot(999.0)["event_count"] == 0
        assert sm.replay_from_snapshot(5000.0)["current_working_dirs"]["a"] == "/9"


def test_snapshot_while_threads_append_ends_at_a_frame_boundary(tmp_path: Path) -> None:
    """Rounds hold many records: a snapshot still points just past record last_seq."""
    import threading

    sm = SessionManager("s", tmp_path)
    go = threading.Barrier(5)
    snaps: list[Path] = []

    def run(k: int) -> None:
        go.wait()
        for i in range(150):
            sm.append(ev.CommandExecuted(agent_id="coder", command=f"t{k}-{i}"))

    ts = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    go.wait()
    for _ in range(3):
        snaps.append(sm.persist_snapshot())
    for t in ts:
        t.join()
    live = state_to_plain(sm.state)
    sm.close()
    for snap in reversed(snaps):  # each snapshot fits the log and replays to the same state
        with SessionManager("s", tmp_path) as again:
            assert again.snapshot_used == snap and not again.snapshots_skipped
            assert state_to_plain(again.state) == live
        snap.unlink()
    with SessionManager("s", tmp_path) as full:
        assert full.snapshot_used is None and state_to_plain(full.state) == live


def test_a_refused_append_leaves_the_session_usable(tmp_path: Path) -> None:
    """The log releases the session's lock when it refuses a record (no deadlock)."""
    from agentshell.core.errors import LogClosedError

    sm = SessionManager("s", tmp_path)
    sm.append(ev.CommandExecuted(agent_id="coder", command="one"))
    sm._log.close()  # the log underneath stops (as after a failure)
    with pytest.raises(LogClosedError):
        sm.append(ev.CommandExecuted(agent_id="coder", command="two"))
    assert sm.get_session_state()["event_count"] >= 1  # would hang on a held lock
    sm.close()


def test_failure_note_says_when_and_why_the_log_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from agentshell.core.errors import LogClosedError
    from agentshell.store import log as log_mod

    with SessionManager("s", tmp_path) as sm:
        sm.record_event("command_executed", "coder", {"command": "ls"})
        assert sm.failure is None and sm.failure_note() is None

        def full(fd: int) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(log_mod.os, "fdatasync", full)
        before = time.time()
        with pytest.raises(LogClosedError):
            sm.record_event("command_executed", "coder", {"command": "make"})
        monkeypatch.undo()
        assert isinstance(sm.failure, OSError)
        note = sm.failure_note()
        assert note is not None
        assert "session 's' stopped at " in note and "No space left on device" in note
        assert "nothing after that is recorded" in note
        at = sm._log.failed_at
        assert at is not None and before <= at <= time.time()
        assert time.strftime("%H:%M:%S", time.localtime(at)) in note


def test_a_session_that_cannot_be_made_is_one_clear_error(tmp_path: Path) -> None:
    from agentshell.core.errors import AgentShellError
    from agentshell.store.session import SessionOpenError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(
        SessionOpenError, match=r"cannot open the session at .*Not a directory"
    ) as e:
        SessionManager("s", blocker)
    assert isinstance(e.value, AgentShellError) and isinstance(e.value, OSError)
    # an unreadable log inside a good directory: the same error, and the lock is let go
    sdir = tmp_path / "ok" / "s"
    sdir.mkdir(parents=True)
    (sdir / "events.log").mkdir()  # a directory where the log should be
    with pytest.raises(SessionOpenError, match=r"events\.log"):
        SessionManager("s", tmp_path / "ok")
    (sdir / "events.log").rmdir()
    with SessionManager("s", tmp_path / "ok") as sm:  # not locked by the failed open
        assert sm.get_session_state()["event_count"] == 0


def test_a_second_open_in_the_same_process_says_so(tmp_path: Path) -> None:
    import os

    from agentshell.core.errors import SessionLockedError

    first = SessionManager("s", tmp_path)
    first.record_event("directory_changed", "coder", {"path": "/a"})
    with pytest.raises(SessionLockedError) as err:
        SessionManager("s", tmp_path)
    msg = str(err.value)
    assert "already open in this process" in msg and "Close the first one" in msg
    assert "agentshell serve" not in msg and f"process {os.getpid()}" not in msg
    assert err.value.pid == os.getpid()
    assert first.get_cwd("coder") == "/a"  # the refused second open changed nothing
    first.record_event("directory_changed", "coder", {"path": "/b"})
    first.close()
    with SessionManager("s", tmp_path) as again:  # closed: free to open
        assert again.get_cwd("coder") == "/b" and again.last_seq == 2


_HOLDER = """
import sys
from agentshell.store.session import SessionManager
sm = SessionManager("s", sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
sm.close()
"""


def test_an_open_in_another_process_keeps_its_message(tmp_path: Path) -> None:
    import subprocess
    import sys

    from agentshell.core.errors import SessionLockedError

    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(SessionLockedError) as err:
            SessionManager("s", tmp_path)
        msg = str(err.value)
        assert err.value.pid == holder.pid
        assert f"is open in process {holder.pid} (an `agentshell serve` or `agentshell tui`)" in msg
        assert "this process" not in msg
    finally:
        holder.kill()
        holder.wait(10)


def test_list_agents_is_the_active_agents_by_id(tmp_path: Path) -> None:
    with SessionManager("s", tmp_path) as sm:
        assert sm.list_agents() == {}
        for agent in ("coder", "tester", "gone"):
            sm.record_event("agent_registered", agent, {"capabilities": ["python"]})
        sm.record_event("agent_status_changed", "tester", {"status": "disconnected"})
        sm.record_event("agent_removed", "gone", {"reason": "done"})
        agents = sm.list_agents()
        assert list(agents) == ["coder", "tester"]  # registration order, removed left out
        assert all(isinstance(a, AgentInfo) and a.agent_id == k for k, a in agents.items())
        assert agents["tester"].status == "disconnected"  # registered still: listed
        assert agents["coder"].capabilities == ("python",)


def test_get_session_state_is_a_copy(tmp_path: Path) -> None:
    with SessionManager("s", tmp_path) as sm:
        sm.record_event("agent_registered", "coder", {"capabilities": []})
        copy = sm.get_session_state()
        copy["agents"].clear()
        copy["current_working_dirs"]["coder"] = "/hacked"
        copy["event_count"] = 99
        assert list(sm.state["agents"]) == ["coder"] and sm.get_cwd("coder") == "/"
        assert sm.get_session_state()["event_count"] == 1
        # defaults: an unknown agent's cwd is '/', no commands yet, limit 0 or less is none
        assert sm.get_cwd("nobody") == "/"
        assert sm.get_recent_commands() == [] and sm.get_recent_commands(limit=0) == []


def test_get_recent_commands_is_the_last_ones_oldest_first(tmp_path: Path) -> None:
    with SessionManager("s", tmp_path) as sm:
        for i in range(12):
            e = sm.record_event("command_executed", "coder", {"command": f"c{i}", "exit_code": 0})
            assert e.seq == i + 1  # returned once durable, with its sequence number
        assert [c.command for c in sm.get_recent_commands()] == [f"c{i}" for i in range(2, 12)]
        assert [c.command for c in sm.get_recent_commands(limit=3)] == ["c9", "c10", "c11"]
        assert sm.get_recent_commands(limit=-1) == []
