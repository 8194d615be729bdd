from __future__ import annotations

import pytest

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
