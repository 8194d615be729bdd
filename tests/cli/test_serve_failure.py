"""`agentshell serve` holds every command while the session's log cannot record, says
so, and goes on by itself once it can (the failed fsync is never retried: the log is
reopened from the file)."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
from pathlib import Path

import pytest

from agentshell.cli.cmd_serve import serve_session
from agentshell.store import log as log_mod
from tests.polling import until
from tests.server.conftest import short_dir
from tests.server.test_restart import cli


async def test_serve_holds_while_the_log_fails_and_goes_on_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no user rc in the shell
    data = tmp_path / "data"
    sock = short_dir() / "s.sock"
    served = asyncio.ensure_future(serve_session(data, "s", sock, tmp_path, None, user_rc=False))
    await until(lambda: (data / "s" / "server.socket").exists() or served.done(), what="serving")
    assert not served.done()

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    real = log_mod.os.fdatasync
    monkeypatch.setattr(log_mod.os, "fdatasync", disk_full)
    env = dict(os.environ, AGENTSHELL_DIR=str(data))
    adding = asyncio.ensure_future(
        cli("agent", "add", "zed", "--session", "s", "--socket", str(sock), env=env)
    )
    await until(lambda: "every command is held" in capsys.readouterr().err, what="held, said")
    assert not adding.done() and not served.done()  # held, not failed, still serving
    code, _out, err = await cli("approvals", "--socket", str(sock), env=env)
    assert code == 0 and "HELD: the event log cannot be written" in _out, (_out, err)
    monkeypatch.setattr(log_mod.os, "fdatasync", real)  # the disk has room again
    code, out, err = await asyncio.wait_for(adding, 60)
    assert code == 0 and out.strip(), err  # the agent's token: it was recorded
    await until(lambda: "records again" in capsys.readouterr().err, what="resumed, said")
    os.kill(os.getpid(), signal.SIGTERM)  # serve's own stop
    assert await asyncio.wait_for(served, 30) == 0
    assert not sock.exists() and not (data / "s" / "server.socket").exists()
