"""Run the operator's app on a session served elsewhere, through NATS (``tui --nats``)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

from agentshell.tui.app import AgentShellApp
from agentshell.tui.remote import RemoteBackend


def remote_attach_help(url: str, session: str) -> str:
    return (
        f"Agents attach through NATS at {url}\n"
        f"  AGENTSHELL_TOKEN=... agentshell run --nats {url} --session {session}"
        " --agent NAME -- make test"
    )


def _progress(done: int, total: int) -> None:
    print(
        f"\ragentshell: reading the session: event {done:,} of {total:,}", end="", file=sys.stderr
    )


async def run_remote_tui(
    *,
    session: str,
    target: Any,
    url: str,
    token: str,
    headless_pilot: Callable[[AgentShellApp], Awaitable[None]] | None = None,
    size: tuple[int, int] = (160, 48),
) -> None:
    """Follow ``session``'s stream, connect as its operator and run the app until
    the operator quits (``headless_pilot``: under ``App.run_test`` instead)."""
    backend = await RemoteBackend.open(target, session, token, progress=_progress)
    try:
        banner = f"session {session} · remote, through NATS at {url}"
        app = AgentShellApp(backend, banner=banner)
        app.attach_text = remote_attach_help(url, session)
        if headless_pilot is not None:
            async with app.run_test(size=size) as pilot:
                await headless_pilot(app)
                del pilot
        else:
            await app.run_async()
    finally:
        await backend.close()
