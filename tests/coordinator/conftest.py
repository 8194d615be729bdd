"""Fixtures: a real Coordinator (real session log, real shells), no socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from agentshell.coordinator.coordinator import Coordinator, Subscription
from agentshell.core import events as ev
from agentshell.store.session import SessionManager
from tests.polling import until  # noqa: F401  (re-exported for the tests here)

ALL = ["read", "run", "type", "edit"]


async def next_event(sub: Subscription, timeout: float = 15.0) -> ev.Event:
    e = await asyncio.wait_for(sub.get(), timeout)
    assert e is not None, "subscription closed"
    return e


async def collect(sub: Subscription, n: int, timeout: float = 15.0) -> list[ev.Event]:
    return [await next_event(sub, timeout) for _ in range(n)]


def logged(session: SessionManager, types: Iterable[str]) -> list[ev.Event]:
    """The durable events of ``types`` as the log file holds them."""
    want = set(types)
    return [e for e in session.iter_events() if e.event_type in want]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = tmp_path / "proj"
    p.mkdir()
    return p


@pytest.fixture
async def co(tmp_path: Path, project: Path) -> AsyncIterator[Coordinator]:
    sm = SessionManager("t", tmp_path / "data")
    c = Coordinator(sm, project_dir=project, run_timeout=30, user_rc=False)
    await c.start()
    try:
        yield c
    finally:
        await stop(c)
        sm.close()


async def stop(c: Coordinator, timeout: float = 30.0) -> None:
    """``c.stop()``, failing with every pending task's stack when it hangs."""
    task = asyncio.ensure_future(c.stop())
    done, _ = await asyncio.wait([task], timeout=timeout)
    if not done:
        for t in asyncio.all_tasks():
            if t is not asyncio.current_task():
                t.print_stack(limit=12)
        raise AssertionError("Coordinator.stop() hung")
    task.result()
