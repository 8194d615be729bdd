from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from agentshell.terminal import Terminal


async def until(cond: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``cond`` (yielding to the loop) until it holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.02)


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PS1": "$ ",
    }


@pytest.fixture
async def term(tmp_path: Path, shell_env: dict[str, str]) -> AsyncIterator[Terminal]:
    t = Terminal(
        shell="/bin/bash", cwd=tmp_path, columns=80, lines=24, env=shell_env, user_rc=False
    )
    await t.start()
    try:
        yield t
    finally:
        await t.close()
