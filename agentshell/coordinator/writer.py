"""The writer: the one way anything changes a session.

:meth:`EventWriter.record` appends an event durably (``SessionManager.append_async``:
sequence number and fold at call time, returns once durable), then hands it, in the
order the events were *submitted*, to the listeners (the outcomes, the shared
documents) and to the broadcast. A caller's checks and its ``record`` call happen in
one step of the event loop (no ``await`` in between), so two racing decisions cannot
both pass a check.

It also writes a snapshot every ``snapshot_every`` events, in a thread.

When the log stops (a write or fsync failed: a full disk) the writer *holds*: every
``record`` waits instead of failing, so nothing that must be recorded first happens
(a command is queued, decided and started only once its event is durable: with the
log stopped, none runs unrecorded). ``held`` says why, for the operator's banner.
Terminal output and input cannot wait (a shell does not stop for a disk): while
held they are not recorded (``LogClosedError``; the human's keys still reach the
shell, to free space). Once the disk has room again the writer reopens the log from
the file (:meth:`SessionManager.recover_log`: the failed fsync is never retried),
keeps the held events the file already has, records the others in their order and
goes on by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from agentshell.core import events as ev
from agentshell.core.errors import LogClosedError

from .background import Background
from .subscriptions import Broadcast

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager

#: Events between automatic snapshots: a reopen replays at most about this many.
SNAPSHOT_EVERY = 100_000

Listener = Callable[[ev.Event], None]

log = logging.getLogger(__name__)

#: Seconds between looks whether a held log can go on (the disk has room again).
RECOVERY_POLL = 0.5
#: Free bytes the disk must have before a held log is reopened and written again.
ROOM_NEEDED = 1 << 20
#: Events that are not held when the log stops (a shell does not wait for a disk).
NOT_HELD = frozenset(("terminal_output", "terminal_input"))


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
        #: Why events are held (the log stopped), else None.
        self.held: str | None = None
        #: What the last recovery from a stopped log said (for the operator).
        self.resumed_notes: list[str] = []
        #: Times the writer went on after a stopped log.
        self.recoveries = 0
        self._held: dict[int, tuple[ev.Event, asyncio.Future[ev.Event]]] = {}
        self._in_flight = 0
        self._durable_seq = 0
        self._recovering: asyncio.Task[None] | None = None
        self._stopped = False
        self.room_needed = ROOM_NEEDED

    def listen(self, *, submitted: Listener | None = None, durable: Listener | None = None) -> None:
        """Call ``submitted(e)`` as each event is submitted and ``durable(e)`` once it is
        durable (in submission order, before the broadcast), in the order registered."""
        if submitted is not None:
            self._on_submit.append(submitted)
        if durable is not None:
            self._on_durable.append(durable)

    async def record(self, event: ev.Event) -> ev.Event:
        """Append ``event`` durably, then deliver it (in submission order); the stored event.

        While the log is stopped it waits until the event is recorded (see the
        module doc); terminal output and input raise LogClosedError instead."""
        return await self.submit(event)

    def submit(self, event: ev.Event) -> Coroutine[Any, Any, ev.Event]:
        """Submit ``event`` now (seq and fold at this call, in call order) and return
        what to await for it to be durable and delivered: ``await writer.submit(e)`` is
        ``await writer.record(e)``. Several submits in a row, then awaiting each, share
        one fsync round; the returned coroutine must be awaited (delivery waits for it)."""
        ticket = self._submitted
        self._submitted += 1
        for f in self._on_submit:
            f(event)
        pending: asyncio.Future[ev.Event] | BaseException
        if self.held is not None:
            pending = LogClosedError(self.held)
        else:
            try:
                pending = self.session.append_async(event)
            except BaseException as exc:  # the log stopped, a bad event
                pending = exc
            else:
                self._in_flight += 1
        return self._finish(ticket, event, pending)

    async def _finish(
        self, ticket: int, event: ev.Event, pending: asyncio.Future[ev.Event] | BaseException
    ) -> ev.Event:
        try:
            try:
                if isinstance(pending, BaseException):
                    raise pending
                try:
                    stored: ev.Event = await pending
                finally:
                    self._in_flight -= 1
            except LogClosedError:
                if self._stopped or event.event_type in NOT_HELD:
                    raise
                if self.held is None and self.session.failure is None:
                    raise  # the session is closed, not failed
                stored = await self._hold(ticket, event)
        except BaseException:
            self._ready[ticket] = None
            self._deliver()
            raise
        self._ready[ticket] = stored
        self._deliver()
        if self.session.events_since_snapshot >= self.snapshot_every:
            self._snapshot_soon()
        return stored

    async def record_all(self, events: list[ev.Event]) -> list[ev.Event]:
        """Record ``events`` as one step: all submitted at once, in order, then awaited:
        one fsync round instead of one each. While the log holds they go one by one
        (a held event is not folded: a later one may depend on it)."""
        if self.holding:
            return [await self.record(e) for e in events]
        return await finish_all([self.submit(e) for e in events])

    def _deliver(self) -> None:
        while self._next_delivery in self._ready:
            e = self._ready.pop(self._next_delivery)
            self._next_delivery += 1
            if e is not None:
                if e.seq > self._durable_seq:
                    self._durable_seq = e.seq
                for f in self._on_durable:
                    f(e)
                self._broadcast.offer(e)

    # ------------------------------------------------------------------ held

    @property
    def holding(self) -> bool:
        """True while events cannot be recorded (held, or the log just stopped)."""
        return self.held is not None or self.session.failure is not None

    def _hold_note(self) -> str:
        failed = self.session.failure
        at = time.strftime("%H:%M:%S")
        why = f"{failed}" if failed is not None else "the event log stopped"
        return (
            f"the event log cannot be written since {at} ({why}): every command is held"
            " (nothing runs unrecorded) until it can; free disk space and the session"
            " goes on by itself"
        )

    async def _hold(self, ticket: int, event: ev.Event) -> ev.Event:
        if self.held is None:
            self.held = self._hold_note()
            log.error("%s", self.held)
        fut: asyncio.Future[ev.Event] = asyncio.get_running_loop().create_future()
        self._held[ticket] = (event, fut)
        if self._recovering is None or self._recovering.done():
            self._recovering = self._background.spawn(self._recover())
        return await fut

    def _room(self) -> bool:
        where = getattr(self.session, "session_dir", None)
        if where is None:  # a log kept elsewhere (JetStream): its servers have the disks
            return True
        try:
            st = os.statvfs(where)
        except OSError:
            return False
        return st.f_bavail * st.f_frsize >= self.room_needed

    async def _recover(self) -> None:
        """Wait for room, reopen the log from the file, record what is held, in order."""
        while self._held and not self._stopped:
            await asyncio.sleep(RECOVERY_POLL)
            if self._in_flight or not self._room():
                continue  # appends of the failed round still resolving / no room yet
            try:
                # on the loop: the live state is swapped in place, nobody may read it
                # half-way (the replay since the last snapshot is short)
                notes = self.session.recover_log()
            except Exception as exc:  # reading the log failed: try again later
                self.held = f"{self._hold_note()}; reopening the log failed: {exc}"
                continue
            try:  # what the file holds counts once a new fsync made it durable
                await asyncio.to_thread(self.session.flush)
            except LogClosedError:
                continue
            after = self._durable_seq
            found = await asyncio.to_thread(self._recorded_since, after)
            tickets = sorted(self._held)
            futures: list[tuple[int, asyncio.Future[ev.Event]]] = []
            for t in tickets:
                event, _ = self._held[t]
                stored = found.get(event.event_id)
                if stored is not None:
                    self._held.pop(t)[1].set_result(stored)
                    continue
                try:  # in ticket order, without an await between: seqs follow it
                    futures.append((t, self.session.append_async(event)))
                except LogClosedError:
                    break
                except Exception as exc:  # no longer applies (decided meanwhile...)
                    self._held.pop(t)[1].set_exception(exc)
            for t, f in futures:
                try:
                    stored_event = await f
                except LogClosedError:
                    continue  # stays held: the disk filled again
                except Exception as exc:
                    self._held.pop(t)[1].set_exception(exc)
                    continue
                self._held.pop(t)[1].set_result(stored_event)
            if not self._held and self.session.failure is None:
                self.held = None
                self.recoveries += 1
                self.resumed_notes = notes
                log.warning(
                    "the event log records again%s", "; " + "; ".join(notes) if notes else ""
                )

    def _recorded_since(self, after: int) -> dict[str, ev.Event]:
        """The events in the log after seq ``after``, by event id (read again)."""
        return {e.event_id: e for e in self.session.iter_events(after)}

    def stop_holding(self) -> None:
        """The coordinator stops: what is held fails (LogClosedError), nothing more waits."""
        self._stopped = True
        held, self._held = self._held, {}
        for _, fut in held.values():
            if not fut.done():
                fut.set_exception(LogClosedError(self.held or "the coordinator stopped"))

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


async def finish_all(pending: list[Coroutine[Any, Any, ev.Event]]) -> list[ev.Event]:
    """Await each submitted event in order, every one of them even when one fails or
    the wait is cancelled (delivery waits for them all), then raise the first error."""
    out: list[ev.Event] = []
    error: BaseException | None = None
    for p in pending:
        try:
            out.append(await p)
        except BaseException as exc:
            if error is None:
                error = exc
    if error is not None:
        raise error
    return out
