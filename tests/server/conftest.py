"""Fixtures: a real coordinator (real session log, real shell) behind a real socket."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentshell.client import AgentClient
from agentshell.coordinator.coordinator import Coordinator
from agentshell.server.server import Server
from agentshell.store.session import SessionManager
from tests.polling import until  # noqa: F401  (re-exported for the tests here)


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
