"""CLI messages when no server runs or the token is wrong: they name the socket and a fix."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from .conftest import Served, short_dir


def cli(*args: str, token: str = "x") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AGENTSHELL_TOKEN=token)
    return subprocess.run(
        [sys.executable, "-m", "agentshell", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_no_server_names_the_socket_and_how_to_start_one(tmp_path: Path) -> None:
    sock = short_dir() / "none.sock"
    r = cli("approvals", "--socket", str(sock))
    assert r.returncode == 1
    assert str(sock) in r.stderr and "agentshell serve" in r.stderr
    r = cli("run", "--socket", str(sock), "--agent", "bot", "--", "echo", "hi")
    assert r.returncode == 2 and r.stdout == ""
    assert str(sock) in r.stderr and "agentshell serve" in r.stderr


async def test_bad_token_says_so(served: Served) -> None:
    await served.coordinator.add_agent("bot", ["run"])
    p = await asyncio.to_thread(
        cli, "run", "--socket", str(served.socket), "--agent", "bot", "--", "echo", "hi"
    )
    assert p.returncode == 2
    assert "refused the token" in p.stderr and "AGENTSHELL_TOKEN" in p.stderr
    assert served.coordinator.approvals() == []
