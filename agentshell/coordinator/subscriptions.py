"""Subscriptions: each subscriber's ordered, bounded stream of events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING

from agentshell.core import events as ev

if TYPE_CHECKING:
    from .writer import CoordinatorBase


class Subscription:
    """A subscriber's ordered stream of events (``async for event in sub``).

    ``types`` restricts it to those event types (None: everything). A subscriber that
    falls more than ``maxsize`` events behind is dropped: ``overflowed`` is set and
    iteration ends.
    """

    def __init__(
        self,
        owner: CoordinatorBase,
        types: Iterable[str] | None,
        maxsize: int,
        predicate: Callable[[ev.Event], bool] | None = None,
    ) -> None:
        self._owner = owner
        self.types = frozenset(types) if types is not None else None
        self.predicate = predicate
        self._queue: asyncio.Queue[ev.Event | None] = asyncio.Queue()
        self._maxsize = maxsize
        self.closed = False
        self.overflowed = False

    def _offer(self, event: ev.Event) -> None:
        if self.closed:
            return
        if self.predicate is not None:
            if not self.predicate(event):
                return
        elif self.types is not None and event.event_type not in self.types:
            return
        if self._queue.qsize() >= self._maxsize:
            self.overflowed = True
            self.close()
            return
        self._queue.put_nowait(event)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)
            self._owner._subscribers.discard(self)

    async def get(self) -> ev.Event | None:
        """The next event, or None once the subscription is closed."""
        if self.closed and self._queue.empty():
            return None
        return await self._queue.get()

    def get_nowait(self) -> ev.Event | None:
        """The next queued event if there is one (None when empty or closed)."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def __aiter__(self) -> AsyncIterator[ev.Event]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[ev.Event]:
        while True:
            e = await self.get()
            if e is None:
                return
            yield e
