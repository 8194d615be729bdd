"""Starting a coordinator where its log may not record yet (a full disk): say why it
waits, once, instead of waiting in silence."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

#: How often a waiting start looks whether it is held (seconds).
POLL = 0.5


async def start_saying_why(
    coordinator: Any,
    say: Callable[[str], None],
    *,
    stop: asyncio.Event | None = None,
    poll: float = POLL,
) -> bool:
    """``await coordinator.start()``; if it is held meanwhile (nothing can be recorded),
    ``say`` why, once. False when ``stop`` was set before the start finished (the
    start is then cancelled)."""
    starting = asyncio.ensure_future(coordinator.start())
    said = False
    while not starting.done():
        await asyncio.wait({starting}, timeout=poll)
        held = coordinator.writer.held
        if held is not None and not said:
            said = True
            say(held)
        if stop is not None and stop.is_set() and not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            return False
    await starting
    return True
