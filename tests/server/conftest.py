"""Fixtures: a real coordinator (real session log, real shell) behind a real socket."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentshell.client import AgentClient
from agentshell.coordinator.coordinator import Coordinator
from agentshell.server.server import Server
from agentshell.store.session import SessionManager


@dataclass
class Served:
    coordinator: Coordinator
    server: Server
    socket: Path
    session: SessionManager
    root: Path
    tokens: dict[str, str]

    async def agent(self, agent_id: str, caps: list[str] | None = None) -> AgentClient:
        if agent_id not in self.tokens:
            self.tokens[agent_id] = await self.coordinator.add_agent(
                agent_id, caps if caps is not None else ["read", "run", "type", "edit"]
            )
        return await AgentClient.connect(self.socket, agent_id, self.tokens[agent_id])

    async def operator(self) -> AgentClient:
        return await AgentClient.connect(self.socket, operator=True)


def short_dir() -> Path:
    # Unix socket paths are limited to ~107 bytes: keep them out of deep pytest dirs
    return Path(tempfile.mkdtemp(prefix="as-", dir="/tmp"))


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    root = short_dir()
    sm = SessionManager("t", tmp_path / "data")
    co = Coordinator(sm, project_dir=tmp_path, user_rc=False)
    server = Server(co, root / "run" / "t.sock")
    await co.start()
    await server.start()
    try:
        yield Served(co, server, server.socket_path, sm, root, {})
    finally:
        await server.close()
        await co.stop()
        sm.close()
        shutil.rmtree(root, ignore_errors=True)


async def until(cond: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``cond`` (sync or async) until truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        got = cond()
        if isinstance(got, Awaitable):
            got = await got
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)
