"""`agentshell serve` stops, and says why, once the session's log cannot record."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path

import pytest

from agentshell.cli.cmd_serve import serve_session
from agentshell.store import log as log_mod
from tests.polling import until
from tests.server.conftest import short_dir
from tests.server.test_restart import cli


async def test_serve_stops_with_exit_1_when_the_log_fails(
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

    monkeypatch.setattr(log_mod.os, "fdatasync", disk_full)
    env = dict(os.environ, AGENTSHELL_DIR=str(data))
    code, _out, err = await cli(
        "agent", "add", "zed", "--session", "s", "--socket", str(sock), env=env
    )
    assert code == 1 and "No space left on device" in err  # the agent is told
    assert await asyncio.wait_for(served, 30) == 1  # and the server stops
    monkeypatch.undo()
    said = capsys.readouterr().err
    assert "the event log of session 's' stopped at" in said
    assert "nothing after that is recorded" in said and said.rstrip().endswith("stopped serving")
    assert not sock.exists() and not (data / "s" / "server.socket").exists()
