"""``SessionManager``: one session's event log, live state and snapshots.

Files: ``{persist_dir}/{session_name}/events.log`` and ``.../snapshots/``.

Every change is an event: :meth:`SessionManager.append` assigns the next sequence
number, folds the event into the live state with the pure reducer and returns once
the event is durable (group commit, see :mod:`agentshell.store.log`). Opening an
existing session loads the newest good snapshot and replays only the log after it;
a torn tail is cut (kept as ``events.log.broken``), mid-file corruption raises
:class:`LogCorruptionError`.

The records before a snapshot's offset are not re-read on open (that is what makes
recovery time independent of log length); ``agentshell check`` verifies the whole
file, and :meth:`SessionManager.iter_events` reads it all.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import itertools
import os
import re
import threading
import time
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any, cast

from agentshell.core import events as ev
from agentshell.core.errors import (
    AgentShellError,
    InvalidEventError,
    InvalidNameError,
    LogClosedError,
    SessionLockedError,
)
from agentshell.core.ranges import changed_line_ranges
from agentshell.core.state import (
    AgentInfo,
    CommandRecord,
    SessionState,
    apply_event,
    copy_state,
    fold_batches,
    fold_records,
    new_state,
    state_to_plain,
)
from agentshell.store.framing import (
    BATCH_FLAG,
    HEADER,
    HEADER_SIZE,
    ScanResult,
    iter_records,
    new_packer,
    pack_body,
)
from agentshell.store.lock import SessionLock
from agentshell.store.log import EventLog, RecoveryReport, recover_batches
from agentshell.store.snapshots import (
    Snapshot,
    SnapshotError,
    iter_good_snapshots,
    write_snapshot,
)
from agentshell.store.tail import records_after_seq
from agentshell.store.writer import LogWriter

LOG_NAME = "events.log"
SNAPSHOT_DIR = "snapshots"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


class SessionNotFoundError(AgentShellError, FileNotFoundError):
    """There is no session (no event log) at the given place."""


class SessionOpenError(AgentShellError, OSError):
    """The session's directory, lock, log or snapshots cannot be created or read
    (a data directory under a missing or read-only path, permissions, I/O errors)."""


def _open_error(session_dir: Path, exc: OSError) -> SessionOpenError:
    where = f": {exc.filename}" if exc.filename else ""
    return SessionOpenError(
        f"cannot open the session at {session_dir}: {exc.strerror or exc}{where}"
    )


def check_name(name: str, what: str = "session name") -> str:
    """Return ``name`` when it is a plain name (letters, digits, ``_.-``, no leading dot)."""
    if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name):
        raise InvalidNameError(
            f"{what} {name!r} is not a plain name: use 1-128 letters, digits, '_', '.', '-' "
            "(no path separators, not starting with a dot)"
        )
    return name


def default_persist_dir() -> Path:
    env = os.environ.get("AGENTSHELL_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("agentshell")) / "sessions"


def _snapshot_fits(snap: Snapshot, log_path: Path) -> str | None:
    """Why ``snap`` does not belong to the log at ``log_path`` (None when it does)."""
    if snap.last_seq == 0:
        return None if snap.log_offset == 0 else "empty snapshot with an offset"
    start, crc = snap.last_record
    try:
        with open(log_path, "rb") as f:
            f.seek(start)
            head = f.read(HEADER_SIZE)
    except OSError as exc:
        return f"log unreadable: {exc}"
    if len(head) < HEADER_SIZE:
        return "log is shorter than the snapshot's offset"
    length, got_crc = HEADER.unpack(head)
    if got_crc != crc or start + HEADER_SIZE + (length & ~BATCH_FLAG) != snap.log_offset:
        return "the log's record at the snapshot's offset differs"
    return None


class SessionManager:
    """A session: durable event log + live state + snapshots (thread-safe).

    ``SessionManager(session_name="s", persist_dir="./sessions")`` creates the
    session or opens it (recovering state from the newest good snapshot plus the log
    after it). Use it as a context manager or call :meth:`close`.
    """

    #: The file log here; JetStream's writer in a JetStreamSessionManager.
    _log: LogWriter
    #: The snapshot opening started from (a file; ``bucket/name`` on JetStream).
    snapshot_used: Path | str | None

    def __init__(
        self,
        session_name: str = "default",
        persist_dir: str | os.PathLike[str] | None = None,
        *,
        keep_snapshots: int = 3,
        create: bool = True,
    ) -> None:
        self.session_name = check_name(session_name)
        base = Path(persist_dir) if persist_dir is not None else default_persist_dir()
        self.session_dir = base / session_name
        self.log_path = self.session_dir / LOG_NAME
        self.snapshot_dir = self.session_dir / SNAPSHOT_DIR
        self.keep_snapshots = keep_snapshots
        if not create and not self.log_path.exists():
            raise SessionNotFoundError(f"no session at {self.session_dir} (no {LOG_NAME})")
        self._lock = threading.Lock()
        self._packer = new_packer()  # used under _lock only
        #: Events appended since the last snapshot this manager wrote (or since open).
        self.events_since_snapshot = 0
        try:
            self.session_dir.mkdir(parents=True, exist_ok=True)
            # the one writer across processes, taken before recovery may cut a torn tail
            self._session_lock = SessionLock(self.session_dir)
        except OSError as exc:  # (SessionLockedError is no OSError: it passes as it is)
            raise _open_error(self.session_dir, exc) from exc
        except SessionLockedError as exc:
            if exc.pid != os.getpid():
                raise  # another process holds it: its message says who and what to do
            raise SessionLockedError(
                f"session {session_name!r} ({self.session_dir}) is already open in this"
                " process: a SessionManager for it has not been closed. Close the first"
                " one (close(), or open it in a `with` block) or reuse it",
                exc.pid,
            ) from None
        try:
            self.snapshot_dir.mkdir(exist_ok=True)
            #: What opening found (records replayed, torn tail cut, snapshot used).
            self.recovery = RecoveryReport(self.log_path)
            self.snapshot_used = None
            self.snapshots_skipped: list[str] = []
            self._state, self._max_ts, last_frame = self._recover()
            self._next_seq = self._state["last_seq"] + 1
            self._log = EventLog(self.log_path, recovered=True, last_frame=last_frame)
        except BaseException as exc:
            self._session_lock.release()
            if isinstance(exc, OSError) and not isinstance(exc, AgentShellError):
                raise _open_error(self.session_dir, exc) from exc
            raise
        self._closed = False

    def open_notes(self) -> list[str]:
        """What opening repaired or skipped, in words for the operator (empty when
        the session opened cleanly): a cut torn tail, snapshots not used."""
        notes = []
        r = self.recovery
        if r.cut_bytes:
            kept = f", kept in {r.broken_path}" if r.broken_path is not None else ""
            if r.copy_error is not None:
                kept = f", not kept: {r.copy_error} (the disk is full)"
            notes.append(
                f"{self.log_path}: the log ended in an unfinished record ({r.cut_reason}:"
                f" a crash mid-write); cut {r.cut_bytes} byte(s){kept}. Nothing that was"
                " acknowledged is lost."
            )
        notes += [f"snapshot not used: {why}" for why in self.snapshots_skipped]
        return notes

    @classmethod
    def open_existing(cls, path: str | os.PathLike[str], **kwargs: Any) -> SessionManager:
        """Open the session whose directory is ``path`` (it must hold an event log)."""
        p = Path(path)
        if not (p / LOG_NAME).is_file():
            raise SessionNotFoundError(f"no session at {p} (no {LOG_NAME} there)")
        return cls(p.name, p.parent, create=False, **kwargs)

    # ---------------------------------------------------------------- recovery

    def _recover(self) -> tuple[SessionState, float, tuple[int, int]]:
        snap: Snapshot | None = None
        for got in iter_good_snapshots(self.snapshot_dir):
            if isinstance(got, SnapshotError):
                self.snapshots_skipped.append(str(got))
                continue
            why = _snapshot_fits(got, self.log_path) if self.log_path.exists() else "no log"
            if why is None:
                snap = got
                break
            self.snapshots_skipped.append(f"{got.path}: {why}")
        if snap is not None:
            try:
                return self._replay_tail(snap.state(), snap.log_offset, snap.max_ts, snap)
            except _SeqMismatch as exc:
                self.snapshots_skipped.append(f"{snap.path}: {exc}")
        return self._replay_tail(new_state(self.session_name), 0, 0.0, None)

    def _replay_tail(
        self, state: SessionState, offset: int, max_ts: float, snap: Snapshot | None
    ) -> tuple[SessionState, float, tuple[int, int]]:
        report = RecoveryReport(self.log_path)
        expected = state["last_seq"] + 1
        first = expected
        last_record = snap.last_record if snap is not None else (0, 0)
        batches = recover_batches(self.log_path, offset, first_number=first, report=report)
        with _no_gc():
            stats = fold_batches(state, batches, max_ts)
        if stats.count:
            if stats.first_seq != first or stats.last_seq != first + stats.count - 1:
                raise _SeqMismatch(
                    f"the log after byte {offset} holds sequence numbers "
                    f"{stats.first_seq}..{stats.last_seq}, expected {first}.."
                )
            last_record = report.last_record
            max_ts = stats.max_ts
        self.recovery = report
        self.snapshot_used = snap.path if snap is not None else None
        return state, max_ts, last_record

    # ------------------------------------------------------------------ append

    def _check_open(self) -> None:
        if self._closed:
            raise LogClosedError(f"session {self.session_name!r} is closed")

    def _prepare(self, event: ev.Event) -> tuple[ev.Event, bytes]:
        """Assign the seq, encode, fold. Caller holds the lock and enqueues ``body``."""
        self._check_open()
        failed = self._log.failed
        if failed is not None:
            raise LogClosedError(f"{self.log_path}: log stopped after {failed}; reopen")
        e = event.with_seq(self._next_seq)
        body = pack_body(e.to_record(), self._packer)
        try:
            apply_event(self._state, e)
        except AgentShellError:
            raise
        except Exception as exc:
            raise InvalidEventError(f"{e.event_type}: cannot be applied: {exc}") from exc
        self._next_seq += 1
        self.events_since_snapshot += 1
        if e.timestamp > self._max_ts:
            self._max_ts = e.timestamp
        return e, body

    def append(self, event: ev.Event) -> ev.Event:
        """Assign the next seq, fold into the state, write; return once durable."""
        self._lock.acquire()
        try:
            e, body = self._prepare(event)
        except BaseException:
            self._lock.release()
            raise
        # queued in seq order under the lock, which append releases before it waits
        self._log.append(body, unlock=self._lock)
        return e

    def append_async(self, event: ev.Event) -> asyncio.Future[ev.Event]:
        """Like :meth:`append` without blocking the event loop.

        Call it from the loop's thread: the seq is assigned and the event folded into
        the state *at call time*, in call order; the returned future resolves (to the
        event carrying its seq) once the event is durable. The event is written even
        if the future is never awaited or is cancelled.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            e, body = self._prepare(event)
            fut: asyncio.Future[ev.Event] = self._log.enqueue_async(body, loop, e)
        return fut

    @property
    def failure(self) -> BaseException | None:
        """The error that stopped the event log (a failed write or fsync), else None."""
        return self._log.failed

    def failure_note(self) -> str | None:
        """What to tell the operator once the log has stopped (None while it works)."""
        failed = self.failure
        if failed is None:
            return None
        at = self._log.failed_at
        when = time.strftime("%H:%M:%S", time.localtime(at)) if at is not None else "?"
        return (
            f"the event log of session {self.session_name!r} stopped at {when} ({failed}):"
            " nothing after that is recorded. Fix the cause (free disk space), then"
            " reopen the session; opening cuts the unfinished write"
        )

    def recover_log(self) -> list[str]:
        """After the log stopped (a failed write or fsync): reopen it from disk.

        The fsync is not retried: the file is read again (the newest good snapshot
        and the log after it, as opening does), a torn tail is cut (without a copy
        when the disk has no room), the live state becomes what the file holds
        (in place: the same dict) and a new log writes after it. Events that were
        folded but not recorded are gone from the state; the caller re-submits
        what it still wants recorded. Returns what recovery repaired, in words
        (as :meth:`open_notes`). Raises (and stays failed) when reading fails."""
        with self._lock:
            self._check_open()
            old = self._log
            if old.failed is None:
                return []
            old.close()
            self.snapshots_skipped = []
            state, max_ts, last_frame = self._recover()
            live = cast(dict[str, Any], self._state)
            live.clear()
            live.update(state)
            self._max_ts = max_ts
            self._next_seq = state["last_seq"] + 1
            self._log = EventLog(self.log_path, recovered=True, last_frame=last_frame)
            return self.open_notes()

    def append_buffered(self, event: ev.Event) -> ev.Event:
        """Like :meth:`append` but without waiting for durability (bulk loads);
        :meth:`flush` (or any later durable append) makes it durable."""
        with self._lock:
            e, body = self._prepare(event)
            self._log.append_buffered(body)
        return e

    def flush(self) -> None:
        """Make every event appended so far durable."""
        self._log.flush()

    def record_event(
        self,
        event_type: str,
        agent_id: str = ev.SYSTEM,
        payload: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> ev.Event:
        """Validate, append and return an event built from a type name and payload.

        Raises :class:`InvalidEventError` (and writes nothing) when the type is
        unknown, the payload has the wrong shape or a value msgpack cannot store.
        """
        return self.append(ev.make_event(event_type, payload, agent_id=agent_id, **kwargs))

    # ------------------------------------------------------------ convenience

    @property
    def state(self) -> SessionState:
        """The live state (do not mutate; :meth:`get_session_state` gives a copy)."""
        return self._state

    @property
    def last_seq(self) -> int:
        return self._next_seq - 1

    def get_session_state(self) -> SessionState:
        with self._lock:
            return copy_state(self._state)

    def get_cwd(self, agent_id: str) -> str:
        return self._state["current_working_dirs"].get(agent_id, "/")

    def set_cwd(self, agent_id: str, path: str) -> ev.Event:
        return self.record_event("directory_changed", agent_id, {"path": path})

    def record_file_edit(
        self, file_path: str, agent_id: str, old_content: str, new_content: str
    ) -> ev.Event:
        """Record an edit: SHA-256 of both contents and the changed line ranges."""
        old_ranges, new_ranges = changed_line_ranges(old_content, new_content)
        return self.record_event(
            "file_edited",
            agent_id,
            {
                "file_path": file_path,
                "old_hash": hashlib.sha256(
                    old_content.encode("utf-8", "surrogatepass")
                ).hexdigest(),
                "new_hash": hashlib.sha256(
                    new_content.encode("utf-8", "surrogatepass")
                ).hexdigest(),
                "ranges": old_ranges,
                "new_ranges": new_ranges,
                "lines_added": sum(b - a for a, b in new_ranges),
                "lines_removed": sum(b - a for a, b in old_ranges),
            },
        )

    def list_agents(self) -> dict[str, AgentInfo]:
        """The active agents, ``{agent_id: AgentInfo}`` in registration order (a new
        dict): every registered agent not removed since (``agent_removed``); one
        that is not connected now is listed with its ``status``."""
        with self._lock:
            return dict(self._state["agents"])

    def get_recent_commands(self, limit: int = 10) -> list[CommandRecord]:
        """The last ``limit`` executed commands, oldest first."""
        if limit <= 0:
            return []
        return list(self._state["recent_commands"][-limit:])

    # -------------------------------------------------------------- snapshots

    def persist_snapshot(self) -> Path:
        """Write a snapshot of the current state (durable events only); return its path."""
        with self._lock:
            plain = state_to_plain(self._state)
            last_seq = self._next_seq - 1
            max_ts = self._max_ts
            # Everything folded so far durable, and nothing else queued meanwhile (the
            # lock keeps other appends out): the log ends exactly after record
            # last_seq, at a frame boundary (a written round may hold many records).
            self._log.flush()
            offset = self._file_log.size
            last_record = self._file_log.last_frame
            self.events_since_snapshot = 0
        return write_snapshot(
            self.snapshot_dir,
            plain,
            last_seq=last_seq,
            log_offset=offset,
            last_record=last_record,
            max_ts=max_ts,
            keep=self.keep_snapshots,
        )

    def replay_from_snapshot(self, ts: float) -> SessionState:
        """The state after the last event recorded at or before ``ts``.

        Events are taken in log order up to the first one with a later timestamp.
        Starts from the newest good snapshot whose events are all at or before
        ``ts`` and replays the log after it; with no such snapshot, from the start.
        """
        self.flush()
        snap: Snapshot | None = None
        for got in iter_good_snapshots(self.snapshot_dir):
            if (
                isinstance(got, Snapshot)
                and got.max_ts <= ts
                and _snapshot_fits(got, self.log_path) is None
            ):
                snap = got
                break
        state = snap.state() if snap is not None else new_state(self.session_name)
        offset = snap.log_offset if snap is not None else 0
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            data = f.read()
        records = iter_records(data, str(self.log_path), ScanResult(), base=offset)
        with _no_gc():
            fold_records(state, itertools.takewhile(lambda r: bool(r["ts"] <= ts), records))
        return state

    # -------------------------------------------------------------- reading

    def iter_events(
        self, after_seq: int = 0, types: Collection[str] | None = None
    ) -> Iterator[ev.Event]:
        """The stored (durable) events with seq > ``after_seq``, in order (only those
        of ``types``, event type names, when given). Reading starts near
        ``after_seq``: the events after a recent seq come without reading the log
        from its start."""
        yield from read_events(self.log_path, after_seq, types=types, anchor=self.last_frame_at)

    @property
    def last_frame_at(self) -> int | None:
        """The file offset of the last frame written to the log (None while empty):
        a frame boundary readers starting mid-file can trust."""
        log = self._file_log
        return log.last_frame[0] if log.size else None

    @property
    def _file_log(self) -> EventLog:
        """The file log (what the file-specific parts use; a JetStream session
        replaces those parts)."""
        assert isinstance(self._log, EventLog)
        return self._log

    # ------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Make everything durable and close the log."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._log.close()
        finally:
            self._session_lock.release()

    def __enter__(self) -> SessionManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SessionManager({self.session_name!r}, {str(self.session_dir.parent)!r})"


class _SeqMismatch(AgentShellError):
    pass


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic GC during a bulk replay.

    Replay allocates millions of short-lived acyclic objects; the collector's
    repeated passes over them cost about a fifth of replay time and find nothing.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_events(
    log_path: Path,
    after_seq: int = 0,
    result: ScanResult | None = None,
    types: Collection[str] | None = None,
    *,
    anchor: int | None = None,
) -> Iterator[ev.Event]:
    """Events of the log file at ``log_path`` with seq > ``after_seq`` (read-only; a
    torn tail just ends it), only those of ``types`` when given (the others are not
    turned into events).

    With ``after_seq`` and ``anchor`` (the offset of the writer's last frame)
    reading starts near that event, not at byte 0
    (:func:`agentshell.store.tail.records_after_seq`; ``result`` then counts from
    there)."""
    if not log_path.is_file():
        raise SessionNotFoundError(f"no event log at {log_path}")
    if after_seq > 0:
        records: Iterable[dict[str, Any]] = records_after_seq(
            log_path, after_seq, result, anchor=anchor
        )
    else:
        records = iter_records(log_path.read_bytes(), str(log_path), result)
    for rec in records:
        if types is None or rec["t"] in types:
            yield ev.event_from_record(rec)
