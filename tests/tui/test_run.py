"""`agentshell tui` around the app: what it prints when the operator quits."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agentshell.cli import commands  # noqa: F401  (registers subcommands)
from agentshell.cli.main import cli
from agentshell.tui import run


@pytest.fixture
def no_app(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`run_tui` replaced: the command returns at once, as if the operator quit."""
    calls: list[dict[str, Any]] = []

    async def fake_run_tui(**kwargs: Any) -> None:
        calls.append(kwargs)

    monkeypatch.setattr(run, "run_tui", fake_run_tui)
    monkeypatch.delenv("AGENTSHELL_SOCKET", raising=False)
    return calls


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_exit_hint_repeats_dir_and_socket(no_app: list[dict[str, Any]], tmp_path: Path) -> None:
    data, sock = tmp_path / "my data", tmp_path / "s.sock"
    args = ["tui", "--session", "s2", "--dir", str(data), "--socket", str(sock)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert no_app[0]["data_dir"] == data
    hint = f"agentshell tui --session s2 --dir '{data}' --socket {sock}"
    assert last_line(result.output) == f"Session 's2' saved; `{hint}` reopens it."


def test_exit_hint_without_dir(no_app: list[dict[str, Any]], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["tui", "--session", "s2"], env={"AGENTSHELL_DIR": ""})
    assert result.exit_code == 0, result.output
    assert (
        last_line(result.output) == "Session 's2' saved; `agentshell tui --session s2` reopens it."
    )


def test_a_stopped_log_is_said_on_exit_not_saved(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    note = "the event log of session 's2' stopped at 12:01:09 (disk full): nothing after that"

    async def failed_run_tui(**kwargs: Any) -> str:
        return note

    monkeypatch.setattr(run, "run_tui", failed_run_tui)
    monkeypatch.delenv("AGENTSHELL_SOCKET", raising=False)
    result = CliRunner().invoke(cli, ["tui", "--session", "s2", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert f"agentshell: {note}" in result.stderr
    assert "saved" not in result.output


async def test_run_tui_returns_why_the_log_stopped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import errno
    import os

    from agentshell.store import log as log_mod
    from agentshell.tui.app import AgentShellApp
    from tests.tui.test_actions import until

    monkeypatch.setenv("HOME", str(tmp_path))
    sock = Path(tempfile.mkdtemp(prefix="as-", dir="/tmp")) / "t.sock"

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    async def pilot(app: AgentShellApp) -> None:
        await until(lambda: app.backend.terminals())
        monkeypatch.setattr(log_mod.os, "fdatasync", disk_full)
        await app.backend.send_input("main", b"echo hi\r")  # logged: the log fails
        await until(lambda: "RECORDING STOPPED" in app.sub_title)
        # nothing is recorded now, but the operator's keys still reach the shell
        term = app.backend.terminals()["main"]
        await app.backend.send_input("main", b"echo still-$((6*7))\r")
        await until(lambda: "still-42" in term.frame().text())

    failure = await run.run_tui(
        session="t", data_dir=tmp_path / "data", socket_path=sock, headless_pilot=pilot
    )
    monkeypatch.undo()
    assert failure is not None and "No space left on device" in failure
    assert failure.startswith("the event log of session 't' stopped at ")
    assert (
        await run.run_tui(
            session="t", data_dir=tmp_path / "data", socket_path=sock, headless_pilot=_quit
        )
        is None
    )  # reopened after the failure: records again


async def _quit(app: Any) -> None:
    return None


def _tui(*args: str, env: dict[str, str] | None = None) -> Any:
    import os
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "agentshell", "tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_a_session_open_elsewhere_is_a_clean_refusal(tmp_path: Path) -> None:
    """No traceback, and no 'agents attach here' hint for a UI that never started."""
    from agentshell.store.lock import SessionLock

    (tmp_path / "data" / "s").mkdir(parents=True)
    sock_dir = tmp_path / "run"
    sock_dir.mkdir(mode=0o700)
    with SessionLock(tmp_path / "data" / "s"):
        r = _tui("--session", "s", "--dir", str(tmp_path / "data"), "--socket", f"{sock_dir}/s")
    assert r.returncode == 1, r.stderr
    assert "Error: session 's'" in r.stderr and "is open in process" in r.stderr
    assert "Traceback" not in r.stderr and "attach" not in r.stdout


def test_a_bad_socket_directory_is_refused_before_anything_is_logged(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    data = tmp_path / "data"
    r = _tui("--session", "s", "--dir", str(data), "--socket", str(loose / "s.sock"))
    assert r.returncode == 1, r.stderr
    assert "must be 0700" in r.stderr and "Traceback" not in r.stderr
    log = data / "s" / "events.log"
    assert not log.exists() or b"terminal_opened" not in log.read_bytes()


async def test_run_tui_on_a_full_disk_says_why_it_waits_and_opens_once_it_can(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio
    import errno
    import os

    from agentshell.store import log as log_mod
    from agentshell.tui.app import AgentShellApp
    from tests.polling import until

    monkeypatch.setenv("HOME", str(tmp_path))
    sock = Path(tempfile.mkdtemp(prefix="as-", dir="/tmp")) / "t.sock"

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    shown: list[str] = []

    async def pilot(app: AgentShellApp) -> None:
        await until(lambda: app.backend.terminals(), what="the terminals")
        shown.extend(app.backend.terminals())

    real = log_mod.os.fdatasync
    monkeypatch.setattr(log_mod.os, "fdatasync", disk_full)
    running = asyncio.ensure_future(
        run.run_tui(session="f", data_dir=tmp_path / "data", socket_path=sock, headless_pilot=pilot)
    )
    err: list[str] = []

    def said() -> bool:
        err.append(capsys.readouterr().err)
        return "every command is held" in "".join(err)

    await until(said, timeout=30, what="why the start waits, said")
    assert not running.done() and not shown  # waiting, before the app shows
    monkeypatch.setattr(log_mod.os, "fdatasync", real)  # room again
    await asyncio.wait_for(running, 60)
    assert shown == ["main"]
