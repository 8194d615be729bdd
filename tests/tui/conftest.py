from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agentshell.coordinator.coordinator import Coordinator
from agentshell.store.session import SessionManager
from agentshell.tui.app import AgentShellApp
from tests.tui.fakes import T0, FakeBackend
from tests.tui.scenario import build


@pytest.fixture
def backend() -> FakeBackend:
    b, _ = build()
    return b


@pytest.fixture
def app(backend: FakeBackend) -> AgentShellApp:
    return AgentShellApp(backend, clock=lambda: T0 + 60, notify_new=False)


@pytest.fixture
async def live_co(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Coordinator]:
    """A real coordinator on a real session, its shells started with a scratch $HOME."""
    # the shell must not depend on the user's ~/.bashrc (a pyenv rehash lock left by
    # a killed shell held every new interactive bash for 60 s)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    sm = SessionManager("t", tmp_path / "data")
    co = Coordinator(sm, project_dir=tmp_path, run_timeout=30)
    await co.start()
    try:
        yield co
    finally:
        await co.stop()
        sm.close()
