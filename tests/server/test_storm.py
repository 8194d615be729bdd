"""A storm of agents connecting at once: all served; a full backlog or a server still
starting is retried until the client's deadline, then said plainly."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

from agentshell.client import AgentClient
from agentshell.client.client import Backoff, ServerUnreachable, dial

from .conftest import short_dir
from .test_restart import start_server
from .test_restart_resume import stop_server


def stress() -> bool:
    return bool(os.environ.get("AGENTSHELL_STRESS"))


async def test_dial_waits_out_a_full_backlog_then_connects(tmp_path: Path) -> None:
    root = short_dir()
    path = root / "b.sock"
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lsock.bind(str(path))
        lsock.listen(1)  # nobody accepts yet: the third connect meets EAGAIN
        dials = [asyncio.ensure_future(dial(path, Backoff(20))) for _ in range(20)]
        await asyncio.sleep(0)
        await asyncio.wait(dials, timeout=0.3)
        assert sum(d.done() for d in dials) <= 2  # the rest are retrying, not failed
        accepted: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            lsock.settimeout(0.1)
            while not stop.is_set():
                try:
                    accepted.append(lsock.accept()[0])
                except TimeoutError:
                    continue

        t = threading.Thread(target=accept, daemon=True)
        t.start()
        socks = await asyncio.wait_for(asyncio.gather(*dials), 30)
        assert len(socks) == 20
        stop.set()
        t.join(5)
        for s in socks + accepted:
            s.close()
    finally:
        lsock.close()
        shutil.rmtree(root, ignore_errors=True)


async def test_a_backlog_that_stays_full_fails_with_a_message_that_says_so() -> None:
    root = short_dir()
    path = root / "b.sock"
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    held: list[socket.socket] = []
    try:
        lsock.bind(str(path))
        lsock.listen(0)
        for _ in range(4):  # fill it
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(str(path))
            except BlockingIOError:
                s.close()
                break
            held.append(s)
        with pytest.raises(ServerUnreachable) as err:
            await AgentClient.connect(path, "a", "t", retry_for=0.5)
        msg = str(err.value)
        assert "backlog stayed full" in msg and "within 0.5 s" in msg
        assert "Errno" not in msg
        assert isinstance(err.value.cause, BlockingIOError)
    finally:
        for s in held:
            s.close()
        lsock.close()
        shutil.rmtree(root, ignore_errors=True)


async def test_a_server_still_starting_is_waited_for(tmp_path: Path) -> None:
    """The client is started before the server: it connects once the socket is there."""
    root = short_dir()
    env = dict(os.environ, AGENTSHELL_DIR=str(tmp_path / "data"))
    sock = root / "run" / "s.sock"
    project = tmp_path / "p"
    project.mkdir()
    server = None
    try:
        early = asyncio.ensure_future(AgentClient.connect(sock, operator=False, **_no_token()))
        # no socket, no token yet: the attempt is retrying (FileNotFoundError), not failed
        await asyncio.sleep(0.2)
        assert not early.done()
        early.cancel()
        server = await start_server(sock, project, env)
        op = await AgentClient.connect(sock, operator=True)
        assert await op.ping()
        await op.close()
        await stop_server(server)
        server = None
        with pytest.raises(ServerUnreachable, match=r"no socket at|nobody is listening"):
            await AgentClient.connect(sock, "a", "t", retry_for=0.3)
    finally:
        if server is not None:
            await stop_server(server)
        shutil.rmtree(root, ignore_errors=True)


def _no_token() -> dict[str, object]:
    return {"agent_id": "nobody", "token": "x", "retry_for": 30.0}


async def storm(tmp_path: Path, n: int) -> None:
    """``n`` agents connect to a real `agentshell serve` in the same instant; each
    says hello, pings and proposes a command: every one is served."""
    root = short_dir()
    env = dict(os.environ, AGENTSHELL_DIR=str(tmp_path / "data"))
    sock = root / "run" / "s.sock"
    project = tmp_path / "p"
    project.mkdir()
    server = await start_server(sock, project, env)
    clients: list[AgentClient] = []
    try:
        op = await AgentClient.connect(sock, operator=True)
        tokens = await asyncio.gather(*(op.add_agent(f"a{i}", ["run", "read"]) for i in range(n)))

        async def one(i: int) -> AgentClient:
            c = await AgentClient.connect(sock, f"a{i}", tokens[i], retry_for=60)
            assert await c.ping()
            await c.propose(f"echo storm {i}")
            return c

        clients = list(await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), 180))
        assert len(clients) == n
        assert len(await op.approvals()) == n
        assert all(c.reconnects == 0 for c in clients)
        await op.close()
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        await stop_server(server)
        shutil.rmtree(root, ignore_errors=True)


async def test_a_storm_of_400_agents_at_once_is_served(tmp_path: Path) -> None:
    await storm(tmp_path, 400)


@pytest.mark.slow
@pytest.mark.skipif(not stress(), reason="set AGENTSHELL_STRESS=1 (make stress)")
async def test_a_storm_of_1000_agents_at_once_is_served(tmp_path: Path) -> None:
    await storm(tmp_path, 1000)
