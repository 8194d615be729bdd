"""The append-only event log file: group commit, recovery scan, torn-tail cut.

Callers hand the log msgpack record bodies. Whoever owns the log takes every body
queued since the last round, frames them (one record frame, or batch frames, see
:mod:`agentshell.store.framing`), writes them with one ``write`` and makes them
durable with one ``os.fdatasync``, then acknowledges every caller waiting on that
round. So many concurrent callers share one fsync (group commit).

Leader/follower: a blocking caller that finds the log idle owns it and writes the
round itself (no hop to another thread); callers arriving meanwhile park, each on
its own pre-taken raw lock, released by the leader once their round is durable (no
shared Condition to re-acquire on wake-up). After a round, the leader hands the log
to a parked caller of the next round (releasing its lock with ``lead`` set), or, for
async callbacks and buffered bytes, to the writer thread. Before handing on, the
leader waits until as many callers are queued as its round released (at most about
one fdatasync), and the caller that completes the count writes the round itself: so
callers appending in a loop share one round instead of splitting into two
alternating halves.

* :meth:`EventLog.append` returns when the record is durable (thread-safe).
* :meth:`EventLog.append_async` is the asyncio form; it never blocks the event loop
  (the writer resolves the future through ``loop.call_soon_threadsafe``).
* :meth:`EventLog.append_buffered` queues without waiting or forcing an fsync, for
  bulk loads; :meth:`EventLog.flush` makes everything queued so far durable.

If a write or an fsync fails the log is marked failed: every waiting and later caller
gets :class:`LogClosedError` and the fsync is never retried (after a failed fsync the
kernel may have dropped the dirty pages; only re-reading the file tells the truth).
Reopen the log to recover.

Opening runs the recovery scan (:func:`recover`): a torn tail is cut and its bytes
kept next to the log as ``events.log.broken``; corruption in the middle raises
:class:`LogCorruptionError` and nothing is cut.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentshell.core.errors import LogClosedError
from agentshell.store.framing import ScanResult, frame_round, iter_record_batches

_allocate_lock = threading.Lock
_now = time.perf_counter
#: Longest a round's owner waits for the callers it released to queue again.
MAX_GATHER = 0.002
#: Buffered appends wake the writer once this many bytes are queued.
BUFFER_HIGH_WATER = 1 << 20


def fsync_dir(path: Path) -> None:
    """fsync a directory so a create/rename/truncate in it is durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class RecoveryReport:
    """What opening the log found: good records, where they end, what was cut."""

    path: Path
    records: int = 0
    end: int = 0
    cut_bytes: int = 0
    cut_reason: str | None = None
    broken_path: Path | None = None
    #: (offset, crc32) of the last good record read (0, 0 when none).
    last_record: tuple[int, int] = (0, 0)


def broken_copy_path(path: Path, suffix: str = ".broken") -> Path:
    """``events.log.broken``, or ``events.log.broken.N`` when that is taken."""
    candidate = path.with_name(path.name + suffix)
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}{suffix}.{n}")
        n += 1
    return candidate


def truncate_durably(path: Path, end: int) -> None:
    """Truncate ``path`` to ``end`` bytes and make the cut durable (file and directory)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, end)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(path.parent)


def copy_whole_and_cut(path: Path, end: int, suffix: str) -> Path:
    """Keep a durable copy of all of ``path`` (``path`` + ``suffix``, numbered when
    taken), then truncate ``path`` to ``end``. Returns the copy's path (for repair)."""
    copy = broken_copy_path(path, suffix)
    shutil.copyfile(path, copy)
    fd = os.open(copy, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    truncate_durably(path, end)
    return copy


def keep_and_cut(path: Path, end: int, suffix: str = ".broken") -> Path | None:
    """Copy the bytes of ``path`` after ``end`` aside, then truncate ``path`` to ``end``.

    The copy is made durable before the cut. Returns the copy's path (None when
    there was nothing after ``end``).
    """
    size = path.stat().st_size
    if size <= end:
        return None
    copy = broken_copy_path(path, suffix)
    with open(path, "rb") as src:
        src.seek(end)
        cut = src.read()
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, cut)
        os.fsync(fd)
    finally:
        os.close(fd)
    truncate_durably(path, end)
    return copy


def recover(
    path: Path, start: int = 0, first_number: int = 1, report: RecoveryReport | None = None
) -> Iterator[dict[str, Any]]:
    """Yield the log's records from byte ``start``; at the end cut a torn tail.

    Creates an empty log when there is none. Raises :class:`LogCorruptionError` on
    mid-file corruption (after yielding the good records before it; nothing is cut).
    Consume the iterator fully: the cut happens when it is exhausted. ``report`` is
    filled in as it goes.
    """
    return itertools.chain.from_iterable(recover_batches(path, start, first_number, report))


def recover_batches(
    path: Path, start: int = 0, first_number: int = 1, report: RecoveryReport | None = None
) -> Iterator[list[dict[str, Any]]]:
    """:func:`recover` handing out the records in lists (the bulk replay path)."""
    path = Path(path)
    if report is None:
        report = RecoveryReport(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.fsync(fd)
        os.close(fd)
        fsync_dir(path.parent)
        report.records, report.end = first_number - 1, start
        return iter(())
    result = ScanResult()
    batches = _read_batches(path, start, first_number, result)
    return itertools.chain(batches, _finish_recovery(path, result, report))


#: Recovery reads the log this many bytes at a time into one reused buffer (no
#: copy of the whole file in memory, no fresh pages to fault in per read).
READ_WINDOW = 4 << 20


def _read_batches(
    path: Path, start: int, first_number: int, result: ScanResult
) -> Iterator[list[dict[str, Any]]]:
    """:func:`iter_record_batches` over the file from ``start``, a window at a time.

    A window ends with a cut frame (or, when damaged, stops early): the next window
    starts at the end of the last good frame, and only the window that reaches the
    end of the file decides what a bad frame means (torn tail or corruption). A
    window that makes no progress (a frame bigger than a window, or damage) hands
    the whole rest of the file to one read, as without windows.
    """
    name = str(path)
    last_record = result.last_record
    with open(path, "rb", buffering=0) as f:
        size = os.fstat(f.fileno()).st_size
        pos, number = start, first_number
        view = memoryview(bytearray(READ_WINDOW if size - pos > READ_WINDOW else 0))
        while size - pos > READ_WINDOW:
            f.seek(pos)
            got = 0
            while got < READ_WINDOW:
                n = f.readinto(view[got:])
                if not n:
                    break
                got += n
            part = ScanResult()
            live: list[Any] = []
            for batch in iter_record_batches(view[:got], name, part, pos, number, window=True):
                raw = getattr(batch, "raw", None)
                if raw is not None:
                    live.append(raw)
                yield batch
            # The buffer is reused: bytes still kept by a consumer become a copy.
            for raw in live:
                if sys.getrefcount(raw) > 3 and isinstance(raw.data, memoryview):
                    raw.data = bytes(raw.data)
            del live
            if part.count >= number:
                last_record = part.last_record
            if part.end == pos:
                break
            pos, number = part.end, part.count + 1
        f.seek(pos)
        data = f.read()
    result.last_record = last_record
    yield from iter_record_batches(data, name, result, base=pos, first_number=number)
    if result.last_record == (0, 0):
        result.last_record = last_record


def _finish_recovery(
    path: Path, result: ScanResult, report: RecoveryReport
) -> Iterator[list[dict[str, Any]]]:
    report.records, report.end = result.count, result.end
    report.last_record = result.last_record
    if result.tail_reason is not None:
        report.cut_reason = result.tail_reason
        report.cut_bytes = result.data_size - result.end
        report.broken_path = keep_and_cut(path, result.end)
    yield from ()


class _Waiter:
    """A blocking caller of one round: :meth:`EventLog.enqueue` returns it.

    ``lock`` is taken when the waiter is made. The caller either leads (``lead``:
    it writes the round itself) or parks on ``lock`` (``sleeping``), which is
    released when its round is durable, or when the log is handed to it to write
    the next round (then ``lead`` is set first). A ``chained`` waiter (one that
    parks right away: :meth:`EventLog.append`, :meth:`EventLog.flush`) is woken in
    a chain: the round's leader releases the first one, each releases the next
    (see :meth:`_Round.finish`).
    """

    __slots__ = ("chained", "index", "lead", "lock", "log", "round", "sleeping")

    def __init__(self, log: EventLog, r: _Round, lock: Any, chained: bool) -> None:
        self.log = log
        self.round = r
        self.lock = lock
        self.lead = False
        self.sleeping = False
        self.chained = chained
        self.index = len(r.waiters)
        r.waiters.append(self)

    def wait(self) -> None:
        """Return once the record is durable (raise LogClosedError if the log failed)."""
        r = self.round
        if self.sleeping:
            self.lock.acquire()  # released when the round is done or the log is ours
            if not self.lead and self.chained:
                r.wake_after(self.index)
        if self.lead:
            self.log._lead_round()
        if r.error is not None:
            raise LogClosedError(f"event log failed: {r.error}") from r.error


class _Round:
    """The callers waiting on one write + fsync round.

    Each blocking caller parks on its own raw lock (taken when it enqueues). When
    the round's fdatasync returns, its leader releases the first chained waiter,
    and each woken one releases the next before it goes on: the wake-ups are spread
    over the woken threads instead of one thread making them all while the others
    queue for the GIL (measured faster with 32 threads). No Condition: a woken
    caller needs nothing but the GIL.
    """

    __slots__ = ("callbacks", "done", "durable", "error", "waiters")

    def __init__(self) -> None:
        self.done = False
        self.error: BaseException | None = None
        self.durable = False
        self.waiters: list[_Waiter] = []
        self.callbacks: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def wake_after(self, index: int) -> None:
        """Release the next chained, parked waiter after ``waiters[index]``."""
        waiters = self.waiters
        for i in range(index + 1, len(waiters)):
            w = waiters[i]
            if w.chained and not w.lead:
                w.lock.release()
                return

    def finish(self, error: BaseException | None) -> None:
        self.error = error
        self.done = True
        first = True
        for w in self.waiters:
            if w.lead:  # a leader is running, not parked
                continue
            if not w.chained:
                w.lock.release()
            elif first:
                w.lock.release()  # the rest of the chain wakes each other
                first = False
        if not self.callbacks:
            return
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for loop, fut in self.callbacks:
            by_loop.setdefault(loop, []).append(fut)
        for loop, futs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, futs, error)
            except RuntimeError:  # that loop is closed; nobody is waiting any more
                pass


def _resolve(futs: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for fut in futs:
        if fut.done():
            continue
        if error is None:
            fut.set_result(None)
        else:
            exc = LogClosedError(f"event log failed: {error}")
            exc.__cause__ = error
            fut.set_exception(exc)


class EventLog:
    """Append-only, framed, group-committed event log file (see the module docstring).

    ``EventLog(path)`` runs recovery and discards the records; a caller that needs
    them (the session manager) consumes :func:`recover` itself and passes
    ``recovered=True`` and the last good frame it found (``last_frame``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        recovered: bool = False,
        last_frame: tuple[int, int] = (0, 0),
    ) -> None:
        self.path = Path(path)
        self.report = RecoveryReport(self.path)
        if not recovered:
            for _ in recover(self.path, report=self.report):
                pass
            last_frame = self.report.last_record
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        #: Bytes written so far; (offset, crc32) of the last frame written.
        self.size = os.fstat(self._fd).st_size
        self.last_frame = last_frame
        self._lock = threading.Lock()
        #: Held while the writer thread sleeps; released to hand it the log.
        self._bell = threading.Lock()
        self._bell.acquire()
        #: True while the log is owned: by a leading caller or the writer thread
        #: writing a round, or by a finished round's owner gathering the next one.
        #: Only the owner writes, fsyncs and finishes rounds.
        self._writing = False
        #: While the owner gathers: its timer lock and how many waiters end the wait.
        self._gather_timer: Any = None
        self._gather_target = 0
        self._sync_time = 0.0005  # running estimate of one fdatasync, seconds
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._round = _Round()
        self._failed: BaseException | None = None
        self._closing = False
        self._closed = False
        self.fsyncs = 0
        self._thread = threading.Thread(
            target=self._run, name=f"agentshell-log:{self.path}", daemon=True
        )
        self._thread.start()

    # ------------------------------------------------------------------ enqueue

    def _check_open(self) -> None:
        if self._failed is not None:
            raise LogClosedError(
                f"{self.path}: the log stopped after a write/fsync failure "
                f"({self._failed}); reopen the session to recover"
            ) from self._failed
        if self._closing:
            raise LogClosedError(f"{self.path}: the log is closed")

    def _ring(self) -> None:
        """Hand the log to the writer thread if nobody owns it (caller holds ``_lock``)."""
        if not self._writing:
            self._writing = True
            self._bell.release()

    def _place(self, w: _Waiter, r: _Round) -> Any:
        """Decide (holding ``_lock``) whether the caller of ``w``, just queued in
        ``r``, writes the round or parks. Returns a gathering owner's timer lock to
        release (after ``_lock``) when this caller ends the gathering, else None."""
        if not self._writing:
            self._writing = w.lead = True
            return None
        timer = self._gather_timer
        if timer is not None and len(r.waiters) + len(r.callbacks) >= self._gather_target:
            self._gather_timer = None  # the log is this caller's now
            w.lead = True
            return timer
        w.sleeping = True
        return None

    def enqueue(self, body: bytes) -> _Waiter:
        """Queue a record body for durable append; ``.wait()`` on the result blocks
        until it is durable (the caller may write the round itself there: call it
        soon). Records are written in the order enqueued."""
        parked = _allocate_lock()
        parked.acquire()
        with self._lock:
            self._check_open()
            self._pending.append(body)
            self._pending_bytes += len(body)
            r = self._round
            r.durable = True
            w = _Waiter(self, r, parked, chained=False)
            timer = self._place(w, r)
        if timer is not None:
            timer.release()
        return w

    def enqueue_async(self, body: bytes, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """Queue a record body; the returned future (of ``loop``) resolves when durable.

        Never writes on the caller's thread: the writer thread does the round."""
        fut: asyncio.Future[None] = loop.create_future()
        timer = None
        with self._lock:
            self._check_open()
            self._pending.append(body)
            self._pending_bytes += len(body)
            r = self._round
            r.durable = True
            r.callbacks.append((loop, fut))
            if not self._writing:
                self._ring()
            elif (
                self._gather_timer is not None
                and len(r.waiters) + len(r.callbacks) >= self._gather_target
            ):
                timer, self._gather_timer = self._gather_timer, None
                self._bell.release()  # the log goes to the writer thread
        if timer is not None:
            timer.release()
        return fut

    def append(self, body: bytes, *, unlock: Any = None) -> None:
        """Append one record body; returns once it is durable (fdatasync'd).

        ``enqueue(body).wait()`` in one step: when nobody owns the log (or this
        caller completes a gathered round), the caller writes and fsyncs the round
        itself; otherwise it parks until the round holding its record is durable or
        the log is handed to it for the next round. ``unlock``: a lock the caller
        holds, released once the record is queued (before any wait), also on errors.
        """
        parked = _allocate_lock()
        parked.acquire()
        try:
            with self._lock:
                if self._failed is not None or self._closing:
                    self._check_open()
                self._pending.append(body)
                self._pending_bytes += len(body)
                r = self._round
                r.durable = True
                w = _Waiter(self, r, parked, chained=True)
                timer = self._place(w, r)
        finally:
            if unlock is not None:
                unlock.release()
        if timer is not None:
            timer.release()  # the gathering owner can return
        if w.sleeping:
            parked.acquire()  # released when the round is done or the log is ours
            if not w.lead:
                r.wake_after(w.index)  # the next parked caller of the round
        if w.lead:
            self._lead_round()
        if r.error is not None:
            raise LogClosedError(f"event log failed: {r.error}") from r.error

    async def append_async(self, body: bytes) -> None:
        """Append one record body without blocking the event loop; done when durable."""
        await self.enqueue_async(body, asyncio.get_running_loop())

    def append_buffered(self, body: bytes) -> None:
        """Queue a record body without waiting and without forcing an fsync.

        It becomes durable with the next durable append or :meth:`flush`.
        """
        with self._lock:
            self._check_open()
            self._pending.append(body)
            self._pending_bytes += len(body)
            if self._pending_bytes >= BUFFER_HIGH_WATER:
                self._ring()

    def flush(self) -> None:
        """Make every record queued so far durable."""
        parked = _allocate_lock()
        parked.acquire()
        with self._lock:
            self._check_open()
            r = self._round
            r.durable = True
            w = _Waiter(self, r, parked, chained=True)
            timer = self._place(w, r)
        if timer is not None:
            timer.release()
        w.wait()

    # ------------------------------------------------------------------- rounds

    def _round_once(self) -> int:
        """As the owner of the log: write what is queued as one round (fsync'd when
        someone waits for it) and finish it. Returns how many callers it released,
        -1 after a failure (the log is then failed and no longer owned)."""
        with self._lock:
            bodies, self._pending = self._pending, []
            self._pending_bytes = 0
            r = self._round
            sync = r.durable or self._closing
            if sync:
                self._round = _Round()
        try:
            if bodies:
                pieces, last, crc = frame_round(bodies)
                start = self.size
                self._write(b"".join(pieces))
                self.last_frame = (start + last, crc)
            if sync:
                t0 = _now()
                os.fdatasync(self._fd)
                self._sync_time += (_now() - t0 - self._sync_time) * 0.2
                self.fsyncs += 1
        except BaseException as exc:
            self._fail(exc, r)
            return -1
        if not sync:
            return 0
        r.finish(None)
        return len(r.waiters) + len(r.callbacks)

    def _hand_on(self, released: int, writer: bool) -> Any:
        """After a round that released ``released`` callers: give the log to whoever
        needs it next (caller holds ``_lock``). Returns True when the writer thread
        (``writer``) keeps it, a timer lock when the caller should gather (see
        :meth:`_gather`), else False (the log is no longer the caller's)."""
        r = self._round
        high = self._pending_bytes >= BUFFER_HIGH_WATER
        if (
            released > 1
            and len(r.waiters) + len(r.callbacks) < released
            and not (high or self._closing)
        ):
            timer = self._gather_timer = _allocate_lock()
            timer.acquire()
            self._gather_target = released
            return timer
        if r.durable or high or self._closing:
            for w in r.waiters:
                if w.sleeping:
                    w.lead = True  # the next round is this parked caller's to write
                    w.lock.release()
                    return False
            if r.callbacks or high or self._closing:
                if writer:
                    return True
                self._bell.release()  # the log goes to the writer thread
                return False
        # Nothing anyone waits for (callers that have not parked lead themselves).
        self._writing = False
        return False

    def _gather(self, timer: Any, writer: bool) -> bool:
        """Let the callers the last round released queue again before the next round.

        Without this, callers that append in a loop split into two groups that
        alternate rounds (each waits for the round in flight, then for its own). The
        owner waits (at most about one fdatasync) until as many callers are queued
        as the last round released; the caller that completes the count writes the
        round itself and releases ``timer``. Durability is unchanged: only the start
        of the next round moves. Returns True when the writer thread keeps the log.
        """
        timer.acquire(timeout=min(self._sync_time, MAX_GATHER))
        with self._lock:
            if self._gather_timer is not timer:
                return False  # a caller took the log over
            self._gather_timer = None
            return bool(self._hand_on(0, writer))

    def _lead_round(self) -> None:
        """A caller owns the log: write one round (its own record's), hand it on."""
        released = self._round_once()
        if released < 0:
            return
        with self._lock:
            timer = self._hand_on(released, writer=False)
        if timer is not False:
            self._gather(timer, writer=False)

    def _run(self) -> None:
        """The writer thread: rounds for async and buffered appends, and close."""
        lock = self._lock
        while True:
            self._bell.acquire()  # the log is ours
            while True:
                with lock:
                    if self._failed is not None or (
                        self._closing and not self._pending and not self._round.durable
                    ):
                        return
                released = self._round_once()
                if released < 0:
                    return
                with lock:
                    keep = self._hand_on(released, writer=True)
                if keep is not True and keep is not False:
                    keep = self._gather(keep, writer=True)
                if not keep:
                    break

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            self.size += n
            view = view[n:]

    def _fail(self, exc: BaseException, r: _Round) -> None:
        with self._lock:
            self._failed = exc
            current = self._round
            self._pending = []
            self._pending_bytes = 0
            self._writing = False
        r.finish(exc)
        if current is not r:
            current.finish(exc)

    # -------------------------------------------------------------------- close

    @property
    def failed(self) -> BaseException | None:
        """The error that stopped the log, if any."""
        return self._failed

    def close(self) -> None:
        """Write and fsync what is queued, stop the writer, close the file."""
        if self._closed:
            return
        with self._lock:
            self._closing = True
            self._ring()
            if self._gather_timer is not None:
                self._gather_timer.release()  # stop gathering now (it stays the owner's)
        self._thread.join()
        self._closed = True
        os.close(self._fd)

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
