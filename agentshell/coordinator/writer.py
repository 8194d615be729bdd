"""The writer: the one way anything changes a session.

:meth:`EventWriter.record` appends an event durably (``SessionManager.append_async``:
sequence number and fold at call time, returns once durable), then hands it, in the
order the events were *submitted*, to the listeners (the outcomes, the shared
documents) and to the broadcast. A caller's checks and its ``record`` call happen in
one step of the event loop (no ``await`` in between), so two racing decisions cannot
both pass a check.

It also writes a snapshot every ``snapshot_every`` events, in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentshell.core import events as ev

from .background import Background
from .subscriptions import Broadcast

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager

#: Events between automatic snapshots: a reopen replays at most about this many.
SNAPSHOT_EVERY = 100_000

Listener = Callable[[ev.Event], None]


class EventWriter:
    """Durable append + in-order delivery (see the module doc)."""

    def __init__(self, session: SessionManager, broadcast: Broadcast, background: Background):
        self.session = session
        self._broadcast = broadcast
        self._background = background
        self._on_submit: list[Listener] = []
        self._on_durable: list[Listener] = []
        self._submitted = 0
        self._next_delivery = 0
        self._ready: dict[int, ev.Event | None] = {}
        #: A snapshot is written every this many events (and when the coordinator stops).
        self.snapshot_every = SNAPSHOT_EVERY
        self._snapshotting: asyncio.Task[Any] | None = None

    def listen(self, *, submitted: Listener | None = None, durable: Listener | None = None) -> None:
        """Call ``submitted(e)`` as each event is submitted and ``durable(e)`` once it is
        durable (in submission order, before the broadcast), in the order registered."""
        if submitted is not None:
            self._on_submit.append(submitted)
        if durable is not None:
            self._on_durable.append(durable)

    async def record(self, event: ev.Event) -> ev.Event:
        """Append ``event`` durably, then deliver it (in submission order); the stored event."""
        ticket = self._submitted
        self._submitted += 1
        for f in self._on_submit:
            f(event)
        try:
            stored: ev.Event = await self.session.append_async(event)
        except BaseException:
            self._ready[ticket] = None
            self._deliver()
            raise
        self._ready[ticket] = stored
        self._deliver()
        if self.session.events_since_snapshot >= self.snapshot_every:
            self._snapshot_soon()
        return stored

    def _deliver(self) -> None:
        while self._next_delivery in self._ready:
            e = self._ready.pop(self._next_delivery)
            self._next_delivery += 1
            if e is not None:
                for f in self._on_durable:
                    f(e)
                self._broadcast.offer(e)

    def _snapshot_soon(self) -> None:
        """Write a snapshot in a thread (not on the loop): reopening then replays only
        the log after it. One at a time; a failure leaves the older snapshots."""
        if self._snapshotting is not None and not self._snapshotting.done():
            return
        self._snapshotting = self._background.spawn(asyncio.to_thread(self.write_snapshot))

    def write_snapshot(self) -> None:
        with contextlib.suppress(Exception):  # a full disk: the log itself says so
            self.session.persist_snapshot()

    async def snapshot_done(self) -> None:
        """Let a snapshot being written finish."""
        if self._snapshotting is not None:
            with contextlib.suppress(Exception):
                await self._snapshotting

    async def final_snapshot(self) -> None:
        """Write a snapshot if events came since the last one (the next open then reads
        it instead of the log since the last one)."""
        if self.session.events_since_snapshot and self.session.failure is None:
            await asyncio.to_thread(self.write_snapshot)
