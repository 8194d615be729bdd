"""A second server (or a direct write) never touches a session another process serves."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
from pathlib import Path

from .conftest import short_dir
from .test_restart import AGENTSHELL, cli

SERVE = ["serve", "--no-user-rc"]


async def _serve(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    p = await asyncio.create_subprocess_exec(
        *AGENTSHELL, *SERVE, *args, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert p.stderr is not None
    line = await asyncio.wait_for(p.stderr.readline(), 60)
    assert b"serving" in line, line
    return p


async def _refused(env: dict[str, str], *args: str) -> str:
    p = await asyncio.create_subprocess_exec(
        *AGENTSHELL, *SERVE, *args, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(p.communicate(), 60)
    assert p.returncode == 1, err
    return err.decode()


async def test_a_refused_server_leaves_the_running_one_alone(tmp_path: Path) -> None:
    root = short_dir()
    data = tmp_path / "data"
    env = dict(os.environ, AGENTSHELL_DIR=str(data))
    sock, other = root / "run" / "a.sock", root / "run" / "b.sock"
    project = tmp_path / "proj"
    project.mkdir()
    server = await _serve(env, "--session", "s", "--socket", str(sock), "--project", str(project))
    try:
        record = data / "s" / "server.socket"
        # the same session on another socket: refused by the session lock, before any write
        err = await _refused(env, "--session", "s", "--socket", str(other))
        assert f"process {server.pid}" in err
        # another session on the same socket: refused, and the live socket is not removed
        err = await _refused(env, "--session", "t", "--socket", str(sock))
        assert "already listening" in err
        assert sock.exists() and record.read_text().strip() == str(sock)
        code, out, err = await cli("approvals", "--session", "s", env=env)
        assert code == 0 and "no pending approvals" in out, err
        # agent add with a socket that does not answer: refused, nothing written
        code, out, err = await cli(
            "agent", "add", "q", "--session", "s", "--socket", str(other), env=env
        )
        assert code == 1 and "nothing answers on" in err and not out.strip()
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.wait(), 30)
        shutil.rmtree(root, ignore_errors=True)
    assert not sock.exists()  # the server that bound it removed it on the way out
    # one writer all along: sequence numbers intact, one shell opened, no agent q
    code, out, err = await cli("check", "--session", "s", env=env)
    assert code == 0, out + err
    code, out, err = await cli("log", "--session", "s", "--json", env=env)
    types = [json.loads(line) for line in out.splitlines()]
    assert [e["type"] for e in types].count("terminal_opened") == 1, out
    assert not [e for e in types if e["type"] == "agent_registered"]


async def test_agent_list_and_remove_need_an_existing_session(tmp_path: Path) -> None:
    env = dict(os.environ, AGENTSHELL_DIR=str(tmp_path / "data"))
    for args in (["list"], ["remove", "bob"]):
        code, _, err = await cli("agent", *args, "--session", "typo", env=env)
        assert code == 1 and "no session" in err, err
    assert not (tmp_path / "data" / "typo").exists()


async def test_serve_says_what_opening_repaired_and_refuses_a_missing_shell(
    tmp_path: Path,
) -> None:
    root = short_dir()
    data = tmp_path / "data"
    env = dict(os.environ, AGENTSHELL_DIR=str(data))
    code, _, err = await cli("serve", "--session", "s", "--shell", "/nonexistent/sh", env=env)
    assert code == 2 and "not an executable shell" in err
    assert not (data / "s").exists()  # refused before the session was touched
    code, _, _ = await cli("agent", "add", "bot", "--session", "s", env=env)
    assert code == 0
    log = data / "s" / "events.log"
    with open(log, "ab") as f:
        f.write(b"\x00\x00\x00\x40\x12\x34")  # a crash in the middle of a frame header
    p = await asyncio.create_subprocess_exec(
        *AGENTSHELL,
        *SERVE,
        "--session",
        "s",
        "--socket",
        str(root / "run" / "s.sock"),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert p.stderr is not None
        first = (await asyncio.wait_for(p.stderr.readline(), 60)).decode()
        assert "unfinished record" in first and "cut 6 byte(s)" in first, first
        assert "events.log.broken" in first and "Nothing that was acknowledged" in first
        assert b"serving" in await asyncio.wait_for(p.stderr.readline(), 60)
    finally:
        p.send_signal(signal.SIGTERM)
        await asyncio.wait_for(p.wait(), 30)
        shutil.rmtree(root, ignore_errors=True)
