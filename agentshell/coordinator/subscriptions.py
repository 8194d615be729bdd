"""The broadcast: every subscriber's ordered, bounded stream of the durable events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable

from agentshell.core import events as ev


class Subscription:
    """A subscriber's ordered stream of events (``async for event in sub``).

    ``types`` restricts it to those event types (None: everything). A subscriber that
    falls more than ``maxsize`` events behind is dropped: ``overflowed`` is set and
    iteration ends.
    """

    def __init__(
        self,
        owner: Broadcast,
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

    def offer(self, event: ev.Event) -> None:
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
            self._owner.discard(self)

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


class Broadcast:
    """The subscribers of a session, offered each event once it is durable, in order."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def subscribe(
        self,
        types: Iterable[str] | None = None,
        *,
        predicate: Callable[[ev.Event], bool] | None = None,
        maxsize: int = 10_000,
    ) -> Subscription:
        """A new :class:`Subscription` receiving every event offered from now on.

        ``types`` keeps only those event types; ``predicate`` (instead) decides per event.
        """
        sub = Subscription(self, types, maxsize, predicate)
        self._subscribers.add(sub)
        return sub

    def offer(self, event: ev.Event) -> None:
        for sub in list(self._subscribers):
            sub.offer(event)

    def discard(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    def close_all(self) -> None:
        for sub in list(self._subscribers):
            sub.close()

    def __len__(self) -> int:
        return len(self._subscribers)
