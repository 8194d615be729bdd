"""The append-only event log file: group commit, recovery scan, torn-tail cut.

Callers hand the log msgpack record bodies. Whoever owns the log takes every body
queued since the last round, frames them (one record frame, or batch frames, see
:mod:`agentshell.store.framing`), writes them with one ``write`` and makes them
durable with one ``os.fdatasync``, then acknowledges every caller waiting on that
round. So many concurrent callers share one fsync (group commit).

Who writes: a blocking caller that finds the log idle writes its round itself (no
hop to another thread). Callers arriving meanwhile park, each on its own pre-taken
raw lock; if any are waiting when that round is durable, the log goes to the
writer thread, which writes rounds back to back for as long as callers keep it
busy. A durable round wakes its parked callers in a chain (the owner releases the
first, each releases the next). The writer thread does that right after writing
the next round and before fsyncing it, so the wake-ups overlap that fsync instead
of standing between two rounds or competing with the write for the GIL.

* :meth:`EventLog.append` returns when the record is durable (thread-safe).
* :meth:`EventLog.append_async` is the asyncio form; it never blocks the event loop
  (the writer resolves the future through ``loop.call_soon_threadsafe``).
* :meth:`EventLog.append_buffered` queues without waiting or forcing an fsync, for
  bulk loads; :meth:`EventLog.flush` makes everything queued so far durable.

If a write or an fsync fails the log is marked failed: every caller whose record was
not yet durable, and every later one, gets :class:`LogClosedError`, and the fsync is
never retried (after a failed fsync the kernel may have dropped the dirty pages;
only re-reading the file tells the truth). Reopen the log to recover.

Opening runs the recovery scan (:func:`recover`): a torn tail is cut and its bytes
kept next to the log as ``events.log.broken``; corruption in the middle raises
:class:`LogCorruptionError` and nothing is cut. On a full disk there may be no room
for that copy: the tail (never acknowledged) is then cut without one, and the
report says so (``copy_error``), so that a session can always be opened again.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
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
    #: Why the cut bytes were not kept (no room on a full disk), else None.
    copy_error: str | None = None
    #: (offset, crc32) of the last good record read (0, 0 when none).
    last_record: tuple[int, int] = (0, 0)


#: Errors that mean "no room for the copy" (the cut goes on without it).
NO_ROOM = (errno.ENOSPC, errno.EDQUOT)


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
    # private like the log itself (it holds terminal output), whatever the umask
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with open(path, "rb") as src, os.fdopen(os.dup(fd), "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.fsync(fd)
    finally:
        os.close(fd)
    truncate_durably(path, end)
    return copy


def keep_and_cut(
    path: Path, end: int, suffix: str = ".broken", report: RecoveryReport | None = None
) -> Path | None:
    """Copy the bytes of ``path`` after ``end`` aside, then truncate ``path`` to ``end``.

    The copy is made durable before the cut. Returns the copy's path (None when
    there was nothing after ``end``, or no room for the copy: then the cut is made
    without one and ``report.copy_error`` says why).
    """
    size = path.stat().st_size
    if size <= end:
        return None
    copy = broken_copy_path(path, suffix)
    with open(path, "rb") as src:
        src.seek(end)
        cut = src.read()
    kept: Path | None = copy
    try:
        fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(cut)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.errno not in NO_ROOM:
            raise
        # a full disk: the unacknowledged tail goes without a copy, or the session
        # could not be opened again until space is freed
        with contextlib.suppress(OSError):
            os.unlink(copy)
        kept = None
        if report is not None:
            report.copy_error = f"no room for a copy ({exc.strerror or exc})"
    truncate_durably(path, end)
    return kept


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
        report.broken_path = keep_and_cut(path, result.end, report=report)
    yield from ()


class _Waiter:
    """A parked blocking caller (:meth:`EventLog.append`, :meth:`EventLog.flush`).

    ``lock`` is taken when the waiter is made and released when its round is done.
    The round's owner releases only the first waiter; each woken waiter releases
    ``next`` before it returns (a chain, see :meth:`_Round.finish`).
    """

    __slots__ = ("lock", "next")

    def __init__(self) -> None:
        self.lock = _allocate_lock()
        self.lock.acquire()
        self.next: _Waiter | None = None

    def wake(self) -> None:
        """Called by the woken waiter itself: pass the wake-up down the chain."""
        nxt = self.next
        if nxt is not None:
            nxt.lock.release()


class _Round:
    """The callers waiting on one write + fsync round.

    When the round's fdatasync returns, its owner links the parked waiters into a
    chain and releases the first; each woken one releases the next before it goes
    on. One thread making all the wake-ups while the woken ones queue for the GIL
    is slower (measured with 32 threads); in a chain each wake-up overlaps the
    previous waiter's own work, and the owner is free at once to write the next
    round. No Condition: a woken caller needs nothing but the GIL.
    """

    __slots__ = ("callbacks", "durable", "error", "waiters")

    def __init__(self) -> None:
        self.error: BaseException | None = None
        #: Someone waits for this round to be fsync'd (a waiter, a callback, a flush).
        self.durable = False
        self.waiters: list[_Waiter] = []
        #: (loop, future, the future's result) of each async caller
        self.callbacks: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Any]] = []

    def finish(self, error: BaseException | None) -> None:
        self.error = error
        waiters = self.waiters
        if waiters:
            for a, b in itertools.pairwise(waiters):
                a.next = b
            waiters[0].lock.release()  # the rest of the chain wakes each other
        if not self.callbacks:
            return
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
        for loop, fut, result in self.callbacks:
            by_loop.setdefault(loop, []).append((fut, result))
        for loop, futs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, futs, error)
            except RuntimeError:  # that loop is closed; nobody is waiting any more
                pass


def _resolve(futs: list[tuple[asyncio.Future[Any], Any]], error: BaseException | None) -> None:
    for fut, result in futs:
        if fut.done():
            continue
        if error is None:
            fut.set_result(result)
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
        #: True while the log is owned, by a leading caller or the writer thread.
        #: Only the owner writes, fsyncs and finishes rounds.
        self._writing = False
        #: Bytes were written without an fsync (buffered appends past the high water).
        self._unsynced = False
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._round = _Round()
        self._failed: BaseException | None = None
        #: When the log failed (time.time()), for messages.
        self.failed_at: float | None = None
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

    def enqueue_async(
        self, body: bytes, loop: asyncio.AbstractEventLoop, result: Any = None
    ) -> asyncio.Future[Any]:
        """Queue a record body; the returned future (of ``loop``) resolves to
        ``result`` when the record is durable.

        Never writes on the caller's thread: the writer thread does the round."""
        fut: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            self._check_open()
            self._pending.append(body)
            self._pending_bytes += len(body)
            r = self._round
            r.durable = True
            r.callbacks.append((loop, fut, result))
            self._ring()
        return fut

    def append(self, body: bytes | None, *, unlock: Any = None) -> None:
        """Append one record body; returns once it is durable (fdatasync'd).

        When nobody owns the log the caller writes and fsyncs the round itself (no
        hop to another thread); otherwise it parks until the round holding its
        record is durable. ``unlock``: a lock the caller holds, released once the
        record is queued (before any wait), also on errors. ``body=None`` queues
        nothing and waits for everything queued before (:meth:`flush`).
        """
        w = None
        try:
            with self._lock:
                if self._failed is not None or self._closing:
                    self._check_open()
                if body is not None:
                    self._pending.append(body)
                    self._pending_bytes += len(body)
                r = self._round
                r.durable = True
                if self._writing:
                    w = _Waiter()
                    r.waiters.append(w)
                else:
                    self._writing = True  # this caller writes the round itself
        finally:
            if unlock is not None:
                unlock.release()
        if w is None:
            self._lead()
        else:
            w.lock.acquire()  # released when the round is done
            w.wake()  # the next parked caller of the round
        if r.error is not None:
            raise LogClosedError(f"event log failed: {r.error}") from r.error

    def append_async(self, body: bytes) -> asyncio.Future[None]:
        """Append one record body without blocking the event loop: await the returned
        future, done when the record is durable (call it from the loop's thread)."""
        return self.enqueue_async(body, asyncio.get_running_loop())

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
        self.append(None)

    # ------------------------------------------------------------------- rounds

    def _round_once(self, done: _Round | None = None) -> tuple[bool, _Round | None]:
        """As the owner of the log: write what is queued as one round, fsync'd when
        someone waits for it (or on close).

        ``done``, the previous round (already durable), is acknowledged right after
        this round's write and before its fsync, so the wake-ups of its callers
        overlap the fsync instead of competing with this write for the GIL (about
        10% more appends/s with 32 threads, measured). Returns (False, None) after a
        failure (the log is then failed and no longer owned), else True and this
        round when it was fsync'd (for the caller to acknowledge), None when not.
        """
        with self._lock:
            bodies, self._pending = self._pending, []
            self._pending_bytes = 0
            r = self._round
            sync = r.durable or self._closing
            if sync:
                self._round = _Round()
        try:
            try:
                if bodies:
                    pieces, last, crc = frame_round(bodies)
                    start = self.size
                    self._write(b"".join(pieces))
                    self.last_frame = (start + last, crc)
                    self._unsynced = True
            finally:
                if done is not None:
                    done.finish(None)  # durable before this round's write began
            if sync:
                os.fdatasync(self._fd)
                self._unsynced = False
                self.fsyncs += 1
        except BaseException as exc:
            self._fail(exc, r)
            return False, None
        return True, r if sync else None

    def _more(self) -> bool:
        """Whether the owner has another round to write (caller holds ``_lock``)."""
        return bool(
            self._round.durable
            or self._pending_bytes >= BUFFER_HIGH_WATER
            or (self._closing and (self._pending or self._unsynced))
        )

    def _lead(self) -> None:
        """A caller owns the log: write one round (its own record's), then hand the
        log to the writer thread if more is waiting, else leave it idle."""
        ok, r = self._round_once()
        if not ok:
            return
        if r is not None:
            r.finish(None)
        with self._lock:
            if self._more() or self._closing:
                self._bell.release()  # the log goes to the writer thread
            else:
                self._writing = False

    def _run(self) -> None:
        """The writer thread: rounds while callers keep the log busy, async and
        buffered appends, and close."""
        lock = self._lock
        while True:
            self._bell.acquire()  # the log is ours
            done: _Round | None = None  # fsync'd, acknowledged after the next write
            while True:
                with lock:
                    more = self._failed is None and self._more()
                    if not more and done is None:
                        if self._failed is not None or self._closing:
                            return
                        self._writing = False
                        break
                if not more:
                    assert done is not None
                    done.finish(None)  # nothing to write next: acknowledge it now
                    done = None
                    continue  # callers may have queued meanwhile
                ok, done = self._round_once(done)
                if not ok:
                    return

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            self.size += n
            view = view[n:]

    def _fail(self, exc: BaseException, r: _Round) -> None:
        with self._lock:
            self.failed_at = time.time()
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
        self._thread.join()
        self._closed = True
        os.close(self._fd)

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
