"""`agentshell log`, `check` and `repair` on real session directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentshell.cli import commands  # noqa: F401  (registers subcommands)
from agentshell.cli.main import cli
from agentshell.store.session import SessionManager


@pytest.fixture
def session(tmp_path: Path) -> Path:
    with SessionManager("demo", tmp_path) as sm:
        sm.record_event("agent_registered", "coder", {"capabilities": ["python"]})
        sm.set_cwd("coder", "/src")
        sm.record_event("command_executed", "coder", {"command": "pytest -q", "exit_code": 0})
        sm.record_event("command_executed", "tester", {"command": "make", "exit_code": 2})
    return tmp_path / "demo"


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.output


def test_log_prints_one_line_per_event(session: Path) -> None:
    code, out = run("log", str(session))
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 4
    assert "agent_registered" in lines[0] and "cd /src" in lines[1]
    assert "$ 'pytest -q' -> exit 0" in lines[2]


def test_log_filters_and_json(session: Path) -> None:
    code, out = run(
        "log",
        "--dir",
        str(session.parent),
        "--session",
        "demo",
        "--json",
        "--type",
        "command_executed",
        "--agent",
        "tester",
    )
    assert code == 0
    (obj,) = [json.loads(x) for x in out.splitlines()]
    assert obj["seq"] == 4 and obj["payload"]["command"] == "make"
    code, out = run("log", str(session), "--limit", "2")
    assert [ln.split()[0] for ln in out.splitlines()] == ["3", "4"]
    code, out = run("log", str(session), "--type", "nope")
    assert code != 0 and "unknown event type" in out


def test_limit_shows_the_last_n_matching_even_when_fewer(session: Path) -> None:
    def seqs(*args: str) -> list[str]:
        code, out = run("log", str(session), *args)
        assert code == 0, out
        return [ln.split()[0] for ln in out.splitlines()]

    assert seqs("--limit", "6") == ["1", "2", "3", "4"]  # it showed only 3 and 4 (4 - 6 = -2)
    assert seqs("--limit", "1", "--type", "command_executed") == ["4"]
    assert seqs("--limit", "5", "--agent", "coder") == ["1", "2", "3"]
    assert seqs("--limit", "0") == []
    # an unfinished frame at the end: still said, as without --limit
    with open(session / "events.log", "ab") as f:
        f.write(b"\x00\x00\x01\x00partial")
    r = CliRunner().invoke(cli, ["log", str(session), "--limit", "2"])
    assert r.exit_code == 0 and [ln.split()[0] for ln in r.stdout.splitlines()] == ["3", "4"]
    assert "log ends with an unfinished frame" in r.stderr


def test_missing_session_is_a_clear_error(tmp_path: Path) -> None:
    for cmd in ("log", "check", "repair"):
        code, out = run(cmd, str(tmp_path / "nope"))
        assert code != 0 and "no session at" in out
    code, out = run("log", "--dir", str(tmp_path), "--session", "../x")
    assert code != 0 and "not a plain name" in out


def test_check_clean_torn_and_corrupt(session: Path) -> None:
    log = session / "events.log"
    code, out = run("check", str(session))
    assert code == 0 and out.startswith("OK") and "4 record(s)" in out
    good = log.read_bytes()
    log.write_bytes(good + b"\x00\x00\x00")
    code, out = run("check", str(session))
    assert code == 1 and "TORN TAIL" in out and f"at byte {len(good)}" in out and "record #5" in out
    bad = bytearray(good)
    second = 8 + int.from_bytes(good[:4], "big")
    bad[second + 20] ^= 0x08
    log.write_bytes(bytes(bad))
    code, out = run("check", str(session))
    assert code == 1 and "CORRUPT" in out
    assert f"at byte {second}" in out and "record #2" in out and "checksum mismatch" in out


def test_repair_cuts_at_last_good_record_and_keeps_a_copy(session: Path) -> None:
    log = session / "events.log"
    good = log.read_bytes()
    second = 8 + int.from_bytes(good[:4], "big")
    bad = bytearray(good)
    bad[second + 20] ^= 0x08
    log.write_bytes(bytes(bad))
    code, out = run("repair", str(session))
    assert code == 0 and "kept a copy" in out and f"at byte {second}" in out
    (copy,) = session.glob("events.log.before-repair-*")
    assert copy.read_bytes() == bytes(bad)
    assert copy.stat().st_mode & 0o777 == 0o600  # private like the log (terminal output)
    assert log.read_bytes() == good[:second]
    code, out = run("check", str(session))
    assert code == 0 and "1 record(s)" in out
    code, out = run("repair", str(session))
    assert code == 0 and "nothing to repair" in out
    with SessionManager.open_existing(session) as sm:
        assert sm.last_seq == 1
        assert sm.record_event("directory_changed", "coder", {"path": "/"}).seq == 2


def test_repair_refuses_a_log_another_process_holds(session: Path) -> None:
    log = session / "events.log"
    good = log.read_bytes()
    damaged = good + b"\x00\x00\x00\x05torn"
    log.write_bytes(damaged)
    from agentshell.store.lock import SessionLock

    with SessionLock(session):  # as a running server holds it
        code, out = run("repair", str(session))
        assert code == 1 and "only one process writes a session" in out
        assert log.read_bytes() == damaged  # nothing cut, no copy made
        assert not list(session.glob("events.log.before-repair-*"))
    code, out = run("repair", str(session))
    assert code == 0 and log.read_bytes() == good
