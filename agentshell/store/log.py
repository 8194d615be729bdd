"""The append-only event log file: group commit, recovery scan, torn-tail cut.

One writer thread owns the file. Callers hand it msgpack record bodies; it frames
nothing itself (callers frame outside any lock), takes every frame queued since its
last round, writes them with one ``write`` and makes them durable with one
``os.fdatasync``, then acknowledges every caller waiting on that round. So many
concurrent callers share one fsync (group commit). Each waiting caller parks on its
own raw lock, released by the writer after the fdatasync (no shared Condition to
re-acquire on wake-up), and before a round the writer lets the callers the last round
released queue again (at most about one fdatasync long), so callers appending in a
loop share one round instead of splitting into two alternating halves.

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
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentshell.core.errors import LogClosedError
from agentshell.store.framing import ScanResult, _crc32, _pack_header, frame, iter_record_batches

_allocate_lock = threading.Lock
_now = time.perf_counter
#: Longest the writer holds a round back for callers to come back (see _gather).
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
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read()
    result = ScanResult()
    # chain (not `yield from`): no generator frame per record on the replay path.
    records = itertools.chain.from_iterable(
        iter_record_batches(data, str(path), result, base=start, first_number=first_number)
    )
    return itertools.chain(records, _finish_recovery(path, result, report))


def _finish_recovery(
    path: Path, result: ScanResult, report: RecoveryReport
) -> Iterator[dict[str, Any]]:
    report.records, report.end = result.count, result.end
    report.last_record = result.last_record
    if result.tail_reason is not None:
        report.cut_reason = result.tail_reason
        report.cut_bytes = result.data_size - result.end
        report.broken_path = keep_and_cut(path, result.end)
    yield from ()


class _Round:
    """The callers waiting on one write + fsync round of the writer thread.

    Each blocking caller parks on its own raw lock (taken when it enqueues); the
    writer releases them all when the round's fdatasync returns. No Condition: a
    woken caller needs nothing but the GIL, so a round of many callers wakes without
    a convoy on a shared lock.
    """

    __slots__ = ("callbacks", "done", "durable", "error", "waiters")

    def __init__(self) -> None:
        self.done = False
        self.error: BaseException | None = None
        self.durable = False
        self.waiters: list[Any] = []
        self.callbacks: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def finish(self, error: BaseException | None) -> None:
        self.error = error
        self.done = True
        for lock in self.waiters:
            lock.release()
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


class _Waiter:
    """What :meth:`EventLog.enqueue` returns: ``.wait()`` until the record is durable."""

    __slots__ = ("_lock", "_round")

    def __init__(self, lock: Any, r: _Round) -> None:
        self._lock = lock
        self._round = r

    def wait(self) -> None:
        self._lock.acquire()  # released by the writer when the round is done
        error = self._round.error
        if error is not None:
            raise LogClosedError(f"event log failed: {error}") from error


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
    ``recovered=True``.
    """

    def __init__(self, path: str | os.PathLike[str], *, recovered: bool = False) -> None:
        self.path = Path(path)
        self.report = RecoveryReport(self.path)
        if not recovered:
            for _ in recover(self.path, report=self.report):
                pass
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.size = os.fstat(self._fd).st_size
        self._lock = threading.Lock()
        #: The writer sleeps on this (held) lock when idle; a caller releases it once.
        self._bell = threading.Lock()
        self._bell.acquire()
        self._writer_idle = False
        #: While gathering, callers ring the bell once this many wait on the round.
        self._wake_at = 1
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

    def _wake_writer(self) -> None:
        """Ring the writer's bell if it sleeps (caller holds ``_lock``)."""
        if self._writer_idle:
            self._writer_idle = False
            self._bell.release()

    def enqueue(self, body: bytes) -> _Waiter:
        """Queue a record body for durable append; ``.wait()`` on the result blocks
        until it is durable. Records are written in the order enqueued."""
        parked = _allocate_lock()
        parked.acquire()
        return _Waiter(parked, self._queue_durable(frame(body), parked=parked))

    def enqueue_async(self, body: bytes, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """Queue a record body; the returned future (of ``loop``) resolves when durable."""
        fut: asyncio.Future[None] = loop.create_future()
        self._queue_durable(frame(body), callback=(loop, fut))
        return fut

    def _queue_durable(
        self,
        data: bytes,
        *,
        parked: Any = None,
        callback: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None,
    ) -> _Round:
        """Queue a framed record in the current round with its waiter (a parked lock
        or a loop callback), waking the writer when enough waiters have gathered."""
        with self._lock:
            self._check_open()
            self._pending.append(data)
            self._pending_bytes += len(data)
            r = self._round
            r.durable = True
            if parked is not None:
                r.waiters.append(parked)
            if callback is not None:
                r.callbacks.append(callback)
            if self._writer_idle and len(r.waiters) + len(r.callbacks) >= self._wake_at:
                self._writer_idle = False
                self._bell.release()
        return r

    def append(self, body: bytes) -> None:
        """Append one record body; returns once it is durable (fdatasync'd).

        Same as ``enqueue(body).wait()`` (and ``_queue_durable``), spelled out inline:
        with many threads appending,
        the time each holds the GIL between its wake-up and parking again is what
        bounds the rate.
        """
        data = _pack_header(len(body), _crc32(body)) + body
        parked = _allocate_lock()
        parked.acquire()
        with self._lock:
            if self._failed is not None or self._closing:
                self._check_open()
            self._pending.append(data)
            self._pending_bytes += len(data)
            r = self._round
            r.durable = True
            r.waiters.append(parked)
            if self._writer_idle and len(r.waiters) + len(r.callbacks) >= self._wake_at:
                self._writer_idle = False
                self._bell.release()
        parked.acquire()  # released by the writer when the round is done
        if r.error is not None:
            raise LogClosedError(f"event log failed: {r.error}") from r.error

    async def append_async(self, body: bytes) -> None:
        """Append one record body without blocking the event loop; done when durable."""
        await self.enqueue_async(body, asyncio.get_running_loop())

    def append_buffered(self, body: bytes) -> None:
        """Queue a record body without waiting and without forcing an fsync.

        It becomes durable with the next durable append or :meth:`flush`.
        """
        data = frame(body)
        with self._lock:
            self._check_open()
            self._pending.append(data)
            self._pending_bytes += len(data)
            if self._pending_bytes >= BUFFER_HIGH_WATER:
                self._wake_writer()

    def flush(self) -> None:
        """Make every record queued so far durable."""
        parked = _allocate_lock()
        parked.acquire()
        with self._lock:
            self._check_open()
            r = self._round
            r.durable = True
            r.waiters.append(parked)
            self._wake_writer()
        _Waiter(parked, r).wait()

    # ------------------------------------------------------------------- writer

    def _run(self) -> None:
        lock = self._lock
        bell = self._bell
        released = 0  # callers the last round acknowledged
        sync_time = 0.0005  # running estimate of one fdatasync, seconds
        while True:
            with lock:
                while not (
                    self._round.durable or self._closing or self._pending_bytes >= BUFFER_HIGH_WATER
                ):
                    self._writer_idle = True
                    lock.release()
                    bell.acquire()
                    lock.acquire()
                if released > 1 and not self._closing:
                    self._gather(released, min(sync_time, MAX_GATHER))
                frames, self._pending = self._pending, []
                self._pending_bytes = 0
                r = self._round
                if r.durable or self._closing:
                    self._round = _Round()
                    sync = True
                else:
                    sync = False
                closing = self._closing
            try:
                if frames:
                    self._write(b"".join(frames))
                if sync:
                    t0 = _now()
                    os.fdatasync(self._fd)
                    sync_time += (_now() - t0 - sync_time) * 0.2
                    self.fsyncs += 1
            except BaseException as exc:
                self._fail(exc, r)
                return
            if sync:
                released = len(r.waiters) + len(r.callbacks)
                r.finish(None)
            if closing:
                with lock:
                    if not self._pending:
                        return

    def _gather(self, expected: int, timeout: float) -> None:
        """Let the callers the last round released come back before the next round.

        Called by the writer holding ``_lock``. Without this, callers that append in
        a loop split into two groups that alternate rounds (each waits for the
        round in flight, then for its own); waiting until as many callers are queued
        as the last round released (at most ``timeout``, about one fdatasync) merges
        them into one round per fdatasync. Durability is unchanged: only the start
        of the next round moves.
        """
        r = self._round
        if (
            len(r.waiters) + len(r.callbacks) >= expected
            or self._pending_bytes >= BUFFER_HIGH_WATER
        ):
            return
        lock = self._lock
        self._wake_at = expected
        self._writer_idle = True
        lock.release()
        rang = self._bell.acquire(timeout=timeout)
        lock.acquire()
        if not rang:
            if self._writer_idle:
                self._writer_idle = False  # nobody rang
            else:
                self._bell.acquire()  # rung between the timeout and here: take it
        self._wake_at = 1

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
            self._wake_writer()
        self._thread.join()
        self._closed = True
        os.close(self._fd)

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
