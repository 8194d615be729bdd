"""CLI messages when no server runs or the token is wrong: they name the socket and a fix."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.polling import until

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


def _never_retrieved(calls: list[dict[str, object]]) -> list[str]:
    return [str(c.get("message")) for c in calls if "never retrieved" in str(c.get("message"))]


@contextlib.contextmanager
def _loop_errors() -> Iterator[list[dict[str, object]]]:
    """What the running loop's exception handler is handed meanwhile (the contexts)."""
    loop = asyncio.get_running_loop()
    calls: list[dict[str, object]] = []
    old = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: calls.append(ctx))
    try:
        yield calls
    finally:
        loop.set_exception_handler(old)


async def test_a_frame_too_large_leaves_no_unretrieved_future(served: Served) -> None:
    import gc

    import pytest

    from agentshell.coordinator.wire import MAX_FRAME, FrameTooLarge

    with _loop_errors() as calls:
        c = await served.agent("big")
        with pytest.raises(FrameTooLarge):
            await c.report_edit("x.py", "", "x" * (MAX_FRAME + 10))
        assert await c.ping()  # the connection lives on
        await c.close()
        del c
        gc.collect()
        await asyncio.sleep(0)
        assert _never_retrieved(calls) == []


async def test_futures_failed_when_the_server_drops_us_log_nothing(served: Served) -> None:
    """The server refuses an oversized frame and closes: the pending request raises
    ConnectionLost, and a future nobody awaits any more is not logged at GC."""
    import gc
    import struct

    import pytest

    from agentshell.client import AgentClient
    from agentshell.client.client import ConnectionLost
    from agentshell.coordinator.wire import MAX_FRAME

    loop = asyncio.get_running_loop()
    with _loop_errors() as calls:
        await (await served.agent("big")).close()  # registered; this one does not reconnect
        c = await AgentClient.connect(served.socket, "big", served.tokens["big"], reconnect_for=0)
        orphan: asyncio.Future[dict[str, object]] = loop.create_future()
        c._pending[10_000] = orphan  # a request whose caller is gone
        waiting = asyncio.ensure_future(c.run("echo waiting", timeout=30))
        await until(lambda: served.coordinator.state["pending_approvals"], what="queued")
        c._writer.write(struct.pack(">I", MAX_FRAME + 1))  # no body follows
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(waiting, 10)
        assert orphan.done()
        assert any(e.get("code") == "frame_too_large" for e in c.push_errors)
        await c.close()
        del c, orphan, waiting
        gc.collect()
        await asyncio.sleep(0)
        assert _never_retrieved(calls) == []
