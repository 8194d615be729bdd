"""Background tasks of the coordinator: spawned, tracked, cancelled together at stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class Background:
    """The coordinator's fire-and-forget tasks (terminal output, expiries, snapshots).

    ``loop`` is the event loop the coordinator runs on, set by ``Coordinator.start``
    (None before: nothing that needs a timer runs yet).
    """

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any] | asyncio.Future[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)  # type: ignore[assignment]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        for t in tasks:
            await cancelled(t)


async def cancelled(task: asyncio.Task[Any]) -> None:
    """Wait until ``task`` is done, cancelling it again while it is not.

    One ``cancel()`` is not always enough: Python 3.11's ``asyncio.wait_for`` swallows
    a cancellation that arrives as its inner future completes (the executor awaits a
    command's end that way), and the task then waits on its queue for ever.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.5)
    if not task.cancelled():
        with contextlib.suppress(Exception):
            task.result()
