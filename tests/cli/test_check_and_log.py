"""`agentshell check` and `agentshell log` on damaged sessions: exit codes and what is printed."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentshell.cli import commands  # noqa: F401  (registers subcommands)
from agentshell.cli.main import cli
from agentshell.store.framing import ScanResult, encode_record, iter_records
from agentshell.store.session import SessionManager


@pytest.fixture
def session(tmp_path: Path) -> Path:
    with SessionManager("demo", tmp_path) as sm:
        sm.record_event("agent_registered", "coder", {"capabilities": ["python"]})
        sm.record_event("command_executed", "coder", {"command": "first-cmd", "exit_code": 0})
        sm.persist_snapshot()
        sm.record_event("command_executed", "coder", {"command": "second-cmd", "exit_code": 0})
        sm.record_event("command_executed", "coder", {"command": "third-cmd", "exit_code": 0})
    return tmp_path / "demo"


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.output


def test_check_exits_1_on_a_bad_snapshot_and_says_no_ok(session: Path) -> None:
    code, out = run("check", str(session))
    assert code == 0 and out.startswith("OK") and "snapshot snapshot-" in out
    (snap,) = (session / "snapshots").iterdir()
    data = bytearray(snap.read_bytes())
    data[len(data) // 2] ^= 0xFF
    snap.write_bytes(bytes(data))
    code, out = run("check", str(session))
    assert code == 1, out
    assert "BAD SNAPSHOT" in out and "unreadable" in out
    assert not any(line.startswith("OK") for line in out.splitlines())
    assert "4 record(s)" in out  # the log's own figures are still reported


def test_check_prints_no_ok_line_before_a_sequence_error(session: Path) -> None:
    log = session / "events.log"
    records = list(iter_records(log.read_bytes(), str(log), ScanResult()))
    records[2]["s"] = 7
    log.write_bytes(b"".join(encode_record(dict(r)) for r in records))
    code, out = run("check", str(session))
    assert code == 1
    assert "SEQUENCE" in out and "record #3 carries seq 7" in out
    assert not any(line.startswith("OK") for line in out.splitlines())


def test_log_prints_the_good_records_before_damage_then_the_error(session: Path) -> None:
    log = session / "events.log"
    good = log.read_bytes()
    # damage the third record's body (a frame in the middle, not the tail)
    offsets = [0]
    while offsets[-1] < len(good):
        offsets.append(offsets[-1] + 8 + int.from_bytes(good[offsets[-1] : offsets[-1] + 4], "big"))
    assert len(offsets) == 5, "one record per frame expected"
    bad = bytearray(good)
    bad[offsets[2] + 12] ^= 0x08
    log.write_bytes(bytes(bad))
    code, out = run("log", str(session))
    assert code == 1
    lines = out.splitlines()
    assert "agent_registered" in lines[0] and "first-cmd" in lines[1]
    assert "CORRUPT" in out or "corrupt record" in out
    assert "run `agentshell repair" in out.lower()
    assert "second-cmd" not in out and "third-cmd" not in out
    assert out.index("first-cmd") < out.index("corrupt record")
    code, out = run("log", str(session), "--limit", "1")
    assert code == 1 and "first-cmd" in out and "agent_registered" not in out


def test_check_of_a_long_log_shows_how_far_it_got(
    session: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentshell.cli import cmd_log
    from agentshell.store import framing

    with SessionManager.open_existing(session) as sm:
        for i in range(200):
            sm.append_buffered(sm_event(i))
    size = (session / "events.log").stat().st_size
    monkeypatch.setattr(framing, "PROGRESS_STEP", 1024)
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(
        cmd_log, "progress_line", lambda what: lambda done, total: calls.append((done, total))
    )
    code, out = run("check", str(session))
    assert code == 0 and out.startswith("OK"), out
    dones = [d for d, _ in calls]
    assert len(calls) >= 3 and all(t == size for _, t in calls)
    # one report a step at most (batch frames of the buffered appends span several)
    assert dones[0] >= 1024 and all(b - a >= 1024 for a, b in itertools.pairwise(dones[:-1]))
    assert dones[-2] < size and calls[-1] == (size, size)  # then "done", which clears it


def sm_event(i: int) -> object:
    from agentshell.core import events as ev

    return ev.CommandExecuted(agent_id="coder", command=f"make test-{i}", exit_code=0)
