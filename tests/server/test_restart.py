"""A SIGKILLed `agentshell serve` restarts with its queue intact and re-runs nothing."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
from pathlib import Path

from agentshell.client import AgentClient

from .conftest import short_dir, until

AGENTSHELL = [sys.executable, "-m", "agentshell"]


async def cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    p = await asyncio.create_subprocess_exec(
        *AGENTSHELL, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(p.communicate(), 60)
    return p.returncode or 0, out.decode(), err.decode()


async def start_server(
    sock: Path, project: Path, env: dict[str, str], *extra: str
) -> asyncio.subprocess.Process:
    p = await asyncio.create_subprocess_exec(
        *AGENTSHELL,
        "serve",
        "--session",
        "s",
        "--socket",
        str(sock),
        "--project",
        str(project),
        "--no-user-rc",
        *extra,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    assert p.stderr is not None
    said = []
    while True:  # notes of the open (a torn tail cut) come first
        line = await asyncio.wait_for(p.stderr.readline(), 60)
        said.append(line)
        if b"serving" in line or not line or len(said) > 20:
            break
    assert b"serving" in line, said
    return p


async def test_sigkill_restart_keeps_queue_and_reruns_nothing(tmp_path: Path) -> None:
    root = short_dir()
    env = dict(os.environ, AGENTSHELL_DIR=str(tmp_path / "data"))
    sock = root / "run" / "s.sock"
    project = tmp_path / "proj"
    project.mkdir()
    server = None
    try:
        code, token, _ = await cli(
            "agent", "add", "bot", "--session", "s", "-c", "read,run", env=env
        )
        assert code == 0
        token = token.strip()
        server = await start_server(sock, project, env)
        agent = await AgentClient.connect(sock, "bot", token)
        op = await AgentClient.connect(sock, operator=True)
        queued = await agent.propose("touch queued-marker")
        second = await agent.propose("touch approved-marker")
        # keep the shell busy so the approved command cannot start yet
        await op.request("send_input", terminal="main", data=b"sleep 60\n")

        async def busy() -> bool:
            return not (await agent.screen()).at_prompt

        await until(busy, what="the shell to be busy")
        await op.approve(second)
        assert [a["status"] for a in await op.approvals()] == ["queued", "approved"]
        server.send_signal(signal.SIGKILL)
        await server.wait()
        await agent.close()
        await op.close()

        server = await start_server(sock, project, env)
        code, out, err = await cli("approvals", "--json", "--socket", str(sock), env=env)
        assert code == 0, err
        items = {a["approval_id"]: a for a in json.loads(out)}
        assert items[queued]["status"] == "queued"
        assert items[second]["status"] == "interrupted"
        # nothing ran, before or after the restart
        assert not (project / "queued-marker").exists()
        assert not (project / "approved-marker").exists()
        # the interrupted one needs a new decision; a new one runs in a fresh shell in the project
        code, _, err = await cli(
            "reject", second, "--reason", "stale", "--socket", str(sock), env=env
        )
        assert code == 0, err
        runner = await asyncio.create_subprocess_exec(
            *AGENTSHELL,
            "run",
            "--socket",
            str(sock),
            "--agent",
            "bot",
            "--",
            "(echo from-run; exit 5)",
            env=dict(env, AGENTSHELL_TOKEN=token),
            stdout=asyncio.subprocess.PIPE,
        )
        op = await AgentClient.connect(sock, operator=True)

        async def new_one() -> str | None:
            for a in await op.approvals():
                if a["approval_id"] not in (queued, second):
                    return str(a["approval_id"])
            return None

        aid = await until(new_one, timeout=30, what="agentshell run's approval")
        await op.approve(aid)
        out_b, _ = await asyncio.wait_for(runner.communicate(), 60)
        assert runner.returncode == 5 and b"from-run" in out_b
        rej = await asyncio.create_subprocess_exec(
            *AGENTSHELL,
            "run",
            "--socket",
            str(sock),
            "--agent",
            "bot",
            "--",
            "echo nope",
            env=dict(env, AGENTSHELL_TOKEN=token),
            stderr=asyncio.subprocess.PIPE,
        )

        async def newest() -> str | None:
            ids = [
                a["approval_id"]
                for a in await op.approvals()
                if a["approval_id"] not in (queued, aid)
            ]
            return ids[0] if ids else None

        rid = await until(newest, timeout=30, what="second run's approval")
        await op.reject(rid, "not now")
        _, err_b = await asyncio.wait_for(rej.communicate(), 60)
        assert rej.returncode == 126 and b"not now" in err_b
        await op.close()
    finally:
        if server is not None and server.returncode is None:
            server.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(server.wait(), 20)
            except TimeoutError:
                server.kill()
                await server.wait()
        shutil.rmtree(root, ignore_errors=True)
