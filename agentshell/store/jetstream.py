"""A session's event log on NATS JetStream (the optional cluster backend).

The same :class:`~agentshell.store.session.SessionManager` API as a local session,
with the log and the snapshots in JetStream instead of a directory
(``pip install 'agentshell[cluster]'``; docs/cluster.md). Layout, per session ``S``
(``T`` = :func:`session_token` of ``S``, which is safe in subjects and stream names):

* stream ``AGENTSHELL_T``, one subject ``agentshell.T.events``, file storage,
  ``replicas`` copies (3 in a real cluster), no deletes or purges;
* each JetStream message is one group-commit round (or a piece of one, cut at
  about 1 MiB): the msgpack records of :mod:`agentshell.store.framing` back to back,
  headers ``Agentshell-First-Seq`` and ``Agentshell-Count``;
* every message is published with ``Nats-Expected-Last-Sequence`` = the stream
  sequence of the writer's previous message, so two writers can never interleave:
  the second one's publish is refused and its log stops
  (:class:`WriterConflictError`), nothing of it is stored. ``Nats-Msg-Id`` (the writer's
  own id and the first event seq) makes a publish retried after a timeout (a node
  lost, a leader election) land once;
* snapshots in the object store bucket ``AGENTSHELL_SNAP_T``, named
  ``snapshot-<stream seq>``: gzip(msgpack(envelope)) as on disk, with the stream
  sequence of the last message folded in instead of a file offset. Opening takes
  the newest snapshot that loads, verifies and matches the stream (the message at
  its stream sequence ends at its ``last_seq``), then folds the messages after it.

An append is acknowledged when JetStream has acknowledged its message, which is
after the write is durable only when the servers run with ``sync_interval:
always`` (the default fsyncs every 2 minutes: an acknowledged write can be lost
on power failure). Pass the servers' monitoring URLs (``monitor=``) to have that
checked on open (:func:`check_sync_always`); docs/cluster.md has the config.

The NATS client is asyncio; a session runs its own event loop in a thread, so the
blocking and the asyncio append (from any loop) work as for a local session.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import re
import threading
import time
import urllib.error
import uuid
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import msgpack  # type: ignore[import-untyped]

from agentshell.core import events as ev
from agentshell.core.errors import AgentShellError, LogClosedError, LogCorruptionError
from agentshell.core.events import FORMAT_VERSION
from agentshell.core.state import (
    SessionState,
    fold_batches,
    fold_records,
    new_state,
    state_from_plain,
    state_to_plain,
)
from agentshell.store.framing import MAX_RECORD, new_packer
from agentshell.store.jetstream_server import http_json
from agentshell.store.log import RecoveryReport, _Round, _Waiter
from agentshell.store.session import SessionManager, SessionNotFoundError, _no_gc, check_name

try:  # the cluster extra
    import nats
    import nats.errors
    import nats.js.api as js_api
    import nats.js.errors as js_errors

    HAVE_NATS = True
except ImportError:  # pragma: no cover - exercised where the extra is missing
    HAVE_NATS = False

T = TypeVar("T")

H_FIRST = "Agentshell-First-Seq"
H_COUNT = "Agentshell-Count"
#: On a fence message: who leads from there on.
H_LEADER = "Agentshell-Leader"
#: A round is cut into messages of at most about this much payload.
MESSAGE_BYTES = 1 << 20
#: One JetStream API request waits this long for its answer before it is retried
#: (a request to a node that just died gets none; a new leader answers the next).
ATTEMPT_TIMEOUT = 3.0
#: JetStream's error code for a publish whose Nats-Expected-Last-Sequence is stale.
WRONG_LAST_SEQUENCE = 10071
SNAPSHOT_VERSION = 1
_SNAP_NAME = re.compile(r"snapshot-(\d{12,})")


class JetStreamError(AgentShellError):
    """The NATS servers cannot be reached or refuse what a session needs."""


class SyncIntervalError(JetStreamError):
    """A server does not fsync every write (``sync_interval: always`` is missing)."""


class WriterConflictError(LogClosedError):
    """Another writer appended to the session's stream: this one stops."""


class _ServersGone(LogClosedError):
    """No quorum answered a publish for ``publish_deadline`` seconds."""


def require_nats() -> None:
    if not HAVE_NATS:
        raise JetStreamError(
            "sessions on NATS need the cluster extra: pip install 'agentshell[cluster]'"
        )


def session_token(name: str) -> str:
    """``name`` as one subject token and stream-name part: letters, digits and ``-``
    stay, anything else becomes ``_XX`` (hex), so different names stay different."""
    return "".join(
        c if c.isascii() and (c.isalnum() or c == "-") else f"_{ord(c):02X}" for c in name
    )


def stream_name(session: str) -> str:
    return f"AGENTSHELL_{session_token(session)}"


def events_subject(session: str) -> str:
    return f"agentshell.{session_token(session)}.events"


def snapshot_bucket(session: str) -> str:
    return f"AGENTSHELL_SNAP_{session_token(session)}"


def check_sync_always(monitor_urls: Collection[str]) -> None:
    """Raise :class:`SyncIntervalError` unless every server at ``monitor_urls`` (HTTP
    monitoring, ``http://host:8222``) reports JetStream with ``sync_always``."""
    for url in monitor_urls:
        try:
            varz = http_json(f"{url.rstrip('/')}/varz", timeout=5.0)
        except (OSError, ValueError, urllib.error.URLError) as exc:
            raise JetStreamError(f"cannot read {url}/varz to check sync_interval: {exc}")
        config = (varz.get("jetstream") or {}).get("config") or {}
        if not config:
            raise SyncIntervalError(f"{url}: JetStream is not enabled on this server")
        if not config.get("sync_always"):
            every = config.get("sync_interval")
            raise SyncIntervalError(
                f"{url}: JetStream fsyncs every {every / 1e9 if every else '?'} s, not on"
                " every write; an acknowledged event could be lost on power failure. Set"
                " 'jetstream { sync_interval: always }' in the server config (docs/cluster.md)"
            )


@dataclass(frozen=True)
class NatsTarget:
    """Where a session's JetStream lives and how to log in.

    ``url``: one or more server URLs, comma-separated. ``creds``: a credentials file
    (a NATS user per agent, docs/cluster.md); or ``token``; or ``user``/``password``.
    ``replicas``: copies of the stream (3 in a cluster). ``monitor``: HTTP monitoring
    URLs whose ``sync_always`` is checked on open. ``publish_deadline``: how long an
    append retries through a node loss or a leader election before the log stops.
    """

    url: str
    replicas: int = 1
    creds: str | None = None
    token: str | None = None
    user: str | None = None
    password: str | None = None
    monitor: tuple[str, ...] = ()
    timeout: float = 10.0
    publish_deadline: float = 30.0
    #: Subject prefix of this client's replies (``_INBOX_coder`` for an agent whose
    #: NATS user may subscribe only there); None: NATS's ``_INBOX``.
    inbox: str | None = None

    @property
    def servers(self) -> list[str]:
        return [u.strip() for u in self.url.split(",") if u.strip()]


class _Loop:
    """An asyncio loop in a daemon thread, with the NATS connection living on it."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name=f"agentshell-nats:{name}", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)
        if not self._thread.is_alive():
            self.loop.close()


async def _connect(target: NatsTarget) -> Any:
    opts: dict[str, Any] = {
        "servers": target.servers,
        "connect_timeout": min(target.timeout, 5.0),
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.25,
        "allow_reconnect": True,
    }
    if target.creds:
        opts["user_credentials"] = target.creds
    if target.token:
        opts["token"] = target.token
    if target.inbox:
        opts["inbox_prefix"] = target.inbox
    if target.user:
        opts["user"] = target.user
        opts["password"] = target.password or ""
    last: list[BaseException] = []

    async def note(exc: Exception) -> None:  # instead of a logged traceback per retry
        last[:] = [exc]

    opts["error_cb"] = note
    try:
        # reconnects go on for ever once connected; the first connect has a deadline
        return await asyncio.wait_for(nats.connect(**opts), target.timeout)
    except Exception as exc:
        why = last[0] if isinstance(exc, TimeoutError) and last else exc
        raise JetStreamError(f"cannot connect to NATS at {target.url}: {why}") from exc


def _transient(exc: BaseException) -> bool:
    """A JetStream API error worth retrying: no answer, no leader yet, no quorum."""
    if isinstance(exc, js_errors.APIError) and not isinstance(
        exc, js_errors.ServiceUnavailableError
    ):
        return getattr(exc, "code", None) in (503, 504)
    return isinstance(
        exc,
        nats.errors.TimeoutError
        | nats.errors.NoRespondersError
        | js_errors.NoStreamResponseError
        | js_errors.ServiceUnavailableError
        | nats.errors.ConnectionReconnectingError,
    )


async def retrying(make: Callable[[], Awaitable[T]], deadline: float) -> T:
    """``await make()``, again while it fails with a :func:`_transient` error (a node
    lost, a leader being elected), until ``deadline`` seconds have passed."""
    end = time.monotonic() + deadline
    delay = 0.05
    while True:
        try:
            return await make()
        except Exception as exc:
            if not _transient(exc) or time.monotonic() > end:
                raise
        await asyncio.sleep(delay)  # back off while the cluster elects a leader
        delay = min(delay * 2, 0.5)


def _decode_message(data: bytes, where: str, stream_seq: int, first: int) -> list[Any]:
    """The records of one message, checked: whole version-1 maps with seqs
    ``first``, ``first + 1``, ... (raises :class:`LogCorruptionError`). A fence
    (an empty message, see :meth:`JetStreamSessionManager.fence`) holds none."""
    if not data:
        return []
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=MAX_RECORD + 1)
    try:
        unpacker.feed(data)
        records = list(unpacker)
    except Exception as exc:
        raise LogCorruptionError(where, stream_seq, f"message is not valid msgpack ({exc})")
    if unpacker.tell() != len(data) or not records:
        raise LogCorruptionError(where, stream_seq, "message ends inside a record")
    for k, rec in enumerate(records):
        if type(rec) is not dict or rec.get("v") != FORMAT_VERSION:
            raise LogCorruptionError(where, stream_seq, f"record {k + 1}: not a version-1 event")
        if rec.get("s") != first + k:
            raise LogCorruptionError(
                where, stream_seq, f"record {k + 1} has seq {rec.get('s')}, expected {first + k}"
            )
    return records


class JetStreamLog:
    """The writer of one session's stream: group-commit rounds as JetStream messages.

    The same calls as :class:`~agentshell.store.log.EventLog` (``append``,
    ``enqueue_async``, ``append_buffered``, ``flush``, ``close``, ``failed``). One
    task on the session's loop publishes everything queued since its last round and,
    when the server has acknowledged it, wakes the round's callers. One round is in
    flight at a time (each publish names the sequence its predecessor got).
    """

    def __init__(
        self,
        loop: _Loop,
        js: Any,
        stream: str,
        subject: str,
        *,
        last_stream_seq: int,
        last_event_seq: int,
        publish_deadline: float = 30.0,
        timeout: float = 10.0,
        message_bytes: int = MESSAGE_BYTES,
    ) -> None:
        self._loop = loop
        self._js = js
        self.stream = stream
        self.subject = subject
        #: Stream sequence of the last message this writer knows is stored.
        self.last_stream_seq = last_stream_seq
        self._next_event = last_event_seq + 1
        #: In each message's Nats-Msg-Id: a retried publish is deduplicated against
        #: this writer's own earlier attempt only, never against another writer's
        #: message that happens to start at the same event seq.
        self.writer_id = uuid.uuid4().hex
        self.publish_deadline = publish_deadline
        self.timeout = timeout
        self.message_bytes = message_bytes
        self._lock = threading.Lock()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._round = _Round()
        self._rung = False
        self._failed: BaseException | None = None
        self.failed_at: float | None = None
        self._closing = False
        self._closed = False
        #: Messages published, publishes retried (after a timeout or no leader).
        self.publishes = 0
        self.retries = 0
        self._bell = asyncio.Event()
        self._task = loop.run(self._start())

    async def _start(self) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(self._run())

    # ------------------------------------------------------------------ enqueue

    @property
    def failed(self) -> BaseException | None:
        return self._failed

    def _check_open(self) -> None:
        failed = self._failed
        if failed is not None:
            # the same kind of error as the cause (a lost lease, another writer)
            kind = type(failed) if isinstance(failed, LogClosedError) else LogClosedError
            raise kind(
                f"stream {self.stream}: the log stopped ({failed}); reopen the session"
            ) from failed
        if self._closing:
            raise LogClosedError(f"stream {self.stream}: the log is closed")

    def _ring(self) -> None:
        """Wake the writer task (caller holds ``_lock``)."""
        if not self._rung:
            self._rung = True
            self._loop.loop.call_soon_threadsafe(self._bell.set)

    def enqueue_async(
        self, body: bytes, loop: asyncio.AbstractEventLoop, result: Any = None
    ) -> asyncio.Future[Any]:
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
        """Queue ``body`` (None: nothing) and return once the server acknowledged it
        (and everything queued before). ``unlock`` is released once it is queued."""
        try:
            with self._lock:
                self._check_open()
                if body is not None:
                    self._pending.append(body)
                    self._pending_bytes += len(body)
                r = self._round
                r.durable = True
                w = _Waiter()
                r.waiters.append(w)
                self._ring()
        finally:
            if unlock is not None:
                unlock.release()
        w.lock.acquire()
        w.wake()
        if r.error is not None:
            if isinstance(r.error, LogClosedError):
                raise type(r.error)(str(r.error)) from r.error
            raise LogClosedError(f"event log failed: {r.error}") from r.error

    def append_async(self, body: bytes) -> asyncio.Future[None]:
        return self.enqueue_async(body, asyncio.get_running_loop())

    def append_buffered(self, body: bytes) -> None:
        with self._lock:
            self._check_open()
            self._pending.append(body)
            self._pending_bytes += len(body)
            if self._pending_bytes >= self.message_bytes:
                self._ring()

    def flush(self) -> None:
        self.append(None)

    # ------------------------------------------------------------------- writer

    async def _run(self) -> None:
        while True:
            await self._bell.wait()
            self._bell.clear()
            with self._lock:
                self._rung = False
                bodies, self._pending = self._pending, []
                self._pending_bytes = 0
                r = self._round
                sync = r.durable or self._closing
                if sync:
                    self._round = _Round()
                closing = self._closing
                stopped = self._failed
            if stopped is not None:
                self._fail(stopped, r)
                return
            try:
                if bodies:
                    await self._publish_round(bodies)
            except BaseException as exc:
                self._fail(exc, r)
                return
            if sync:
                r.finish(None)
            if closing:
                return

    async def _publish_round(self, bodies: list[bytes]) -> None:
        start = 0
        while start < len(bodies):
            end, size = start, 0
            while end < len(bodies) and (
                end == start or size + len(bodies[end]) <= self.message_bytes
            ):
                size += len(bodies[end])
                end += 1
            await self._publish(b"".join(bodies[start:end]), end - start)
            start = end

    async def _publish(
        self, payload: bytes, count: int, extra: dict[str, str] | None = None
    ) -> None:
        first = self._next_event
        expected = self.last_stream_seq
        msg_id = f"{self.writer_id}:{first}" if count else f"{self.writer_id}:fence:{expected}"
        headers = {
            "Nats-Expected-Last-Sequence": str(expected),
            "Nats-Expected-Stream": self.stream,
            "Nats-Msg-Id": msg_id,
            H_FIRST: str(first),
            H_COUNT: str(count),
            **(extra or {}),
        }
        deadline = time.monotonic() + self.publish_deadline
        delay = 0.05
        attempt = 0
        while True:
            attempt += 1
            try:
                ack = await self._js.publish(
                    self.subject, payload, timeout=self.timeout, headers=dict(headers)
                )
                break
            except js_errors.APIError as exc:
                if exc.err_code == WRONG_LAST_SEQUENCE:
                    if attempt > 1 and await self._stored_by_us(expected + 1, msg_id):
                        ack = None  # an earlier attempt landed; its reply was lost
                        break
                    raise WriterConflictError(
                        f"stream {self.stream}: another writer appended after sequence"
                        f" {expected}; this session is no longer the writer (nothing of"
                        " this round was stored)"
                    ) from exc
                if exc.code not in (503, 504):
                    raise
                if time.monotonic() > deadline:
                    raise _ServersGone(
                        f"stream {self.stream}: no quorum for {self.publish_deadline:g} s ({exc})"
                    ) from exc
            except (
                nats.errors.TimeoutError,
                js_errors.NoStreamResponseError,
                nats.errors.NoRespondersError,
                nats.errors.ConnectionReconnectingError,
            ) as exc:
                if time.monotonic() > deadline:
                    raise _ServersGone(
                        f"stream {self.stream}: no answer for {self.publish_deadline:g} s ({exc!r})"
                    ) from exc
            self.retries += 1
            await asyncio.sleep(delay)  # back off while the cluster elects a leader
            delay = min(delay * 2, 0.5)
        if ack is not None and ack.seq != expected + 1 and not ack.duplicate:
            raise JetStreamError(
                f"stream {self.stream}: message stored at {ack.seq}, expected {expected + 1}"
            )
        self.last_stream_seq = expected + 1
        self._next_event = first + count
        self.publishes += 1

    def fence(self, holder: str) -> None:
        """Publish an empty message (header ``Agentshell-Leader``) right after the
        last message this writer knows, before any event: once it is stored, no
        earlier writer can append again (its next message names a sequence that is
        no longer the last). Raises :class:`WriterConflictError` when someone
        appended since this writer read the stream."""
        with self._lock:
            self._check_open()
            if self._pending:
                raise JetStreamError("fence before any append")
        fut = asyncio.run_coroutine_threadsafe(
            self._publish(b"", 0, {H_LEADER: holder}), self._loop.loop
        )
        fut.result()

    async def _stored_by_us(self, seq: int, msg_id: str) -> bool:
        try:
            msg = await self._js.get_msg(self.stream, seq)
        except Exception:
            return False
        return bool(msg.headers and msg.headers.get("Nats-Msg-Id") == msg_id)

    def stop(self, exc: BaseException) -> None:
        """Stop the log from another thread (the lease was lost): nothing queued from
        now on is published; appends not yet published fail with ``exc``."""
        with self._lock:
            if self._failed is None:
                self._failed = exc
                self.failed_at = time.time()
            self._ring()

    def _fail(self, exc: BaseException, r: _Round) -> None:
        with self._lock:
            self.failed_at = time.time()
            self._failed = exc
            current = self._round
            self._pending = []
            self._pending_bytes = 0
        r.finish(exc)
        if current is not r:
            current.finish(exc)

    # -------------------------------------------------------------------- close

    def close(self) -> None:
        """Publish what is queued, then stop the writer task."""
        if self._closed:
            return
        with self._lock:
            self._closing = True
            self._ring()
        with contextlib.suppress(Exception):
            self._loop.run(asyncio.wait_for(asyncio.shield(self._task), None))
        self._closed = True


@dataclass
class StreamSnapshot:
    """A snapshot in the session's object store bucket."""

    name: str
    stream_seq: int
    last_seq: int
    max_ts: float
    taken_at: float
    plain: dict[str, Any] = field(repr=False)

    def state(self) -> SessionState:
        return state_from_plain(self.plain)


class JetStreamSessionManager(SessionManager):
    """A session whose log and snapshots live in NATS JetStream (see the module).

    ``JetStreamSessionManager("s", "nats://127.0.0.1:4222")`` creates the session's
    stream or opens it (newest good snapshot + the messages after it). Everything a
    :class:`SessionManager` offers works the same; there is no session directory.
    ``log_path`` is a label (``nats:<stream>``) for messages, not a file.
    """

    def __init__(
        self,
        session_name: str = "default",
        nats_target: NatsTarget | str = "nats://127.0.0.1:4222",
        *,
        keep_snapshots: int = 3,
        create: bool = True,
    ) -> None:
        require_nats()
        self.session_name = check_name(session_name)
        self.target = NatsTarget(nats_target) if isinstance(nats_target, str) else nats_target
        self.stream = stream_name(session_name)
        self.subject = events_subject(session_name)
        self.bucket = snapshot_bucket(session_name)
        self.where = f"nats:{self.stream}"
        self.log_path = Path(self.where)
        self.keep_snapshots = keep_snapshots
        self._lock = threading.Lock()
        self._packer = new_packer()
        self.events_since_snapshot = 0
        self.recovery = RecoveryReport(self.log_path)
        self.snapshot_used: Path | str | None = None
        self.snapshots_skipped: list[str] = []
        if self.target.monitor:
            check_sync_always(self.target.monitor)
        self._loop = _Loop(self.stream)
        try:
            self._nc = self._loop.run(_connect(self.target))
            # API calls: short attempts, retried (_call) through leader elections
            self._js = self._nc.jetstream(timeout=min(self.target.timeout, ATTEMPT_TIMEOUT))
            last_stream = self._loop.run(self._ensure_stream(create))
            self._state, self._max_ts, last_stream = self._recover_stream(last_stream)
            self._next_seq = self._state["last_seq"] + 1
            self._log = JetStreamLog(
                self._loop,
                self._js,
                self.stream,
                self.subject,
                last_stream_seq=last_stream,
                last_event_seq=self._state["last_seq"],
                publish_deadline=self.target.publish_deadline,
                timeout=self.target.timeout,
            )
        except BaseException:
            self._shutdown()
            raise
        self._closed = False

    # ------------------------------------------------------------------- setup

    def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run a JetStream API call on the session's loop, retried through elections."""
        return self._loop.run(retrying(make, self.target.publish_deadline))

    async def _ensure_stream(self, create: bool) -> int:
        """The stream's last sequence, after creating it (and the snapshot bucket)."""
        try:
            info = await retrying(
                lambda: self._js.stream_info(self.stream), self.target.publish_deadline
            )
        except js_errors.NotFoundError:
            if not create:
                raise SessionNotFoundError(
                    f"no session {self.session_name!r} at {self.target.url} (no stream {self.stream})"
                )
            config = js_api.StreamConfig(
                name=self.stream,
                description=f"agentshell session {self.session_name}",
                subjects=[self.subject],
                storage=js_api.StorageType.FILE,
                num_replicas=self.target.replicas,
                retention=js_api.RetentionPolicy.LIMITS,
                max_msg_size=-1,
                duplicate_window=120.0,
                deny_delete=True,
                deny_purge=True,
            )
            try:
                info = await retrying(
                    lambda: self._js.add_stream(config), self.target.publish_deadline
                )
            except js_errors.BadRequestError as exc:  # another opener was first
                if exc.err_code != 10058:  # stream name already in use
                    raise JetStreamError(f"cannot create stream {self.stream}: {exc}") from exc
                info = await self._js.stream_info(self.stream)
        except (nats.errors.TimeoutError, js_errors.ServiceUnavailableError) as exc:
            raise JetStreamError(
                f"JetStream at {self.target.url} does not answer ({exc!r}): is JetStream enabled, and may this user use it?"
            ) from exc
        try:
            self._obs = await retrying(
                lambda: self._js.object_store(self.bucket), self.target.publish_deadline
            )
        except js_errors.BucketNotFoundError:
            self._obs = await retrying(self._create_bucket, self.target.publish_deadline)
        return int(info.state.last_seq)

    async def _create_bucket(self) -> Any:
        return await self._js.create_object_store(
            self.bucket,
            config=js_api.ObjectStoreConfig(
                description=f"agentshell snapshots of {self.session_name}",
                storage=js_api.StorageType.FILE,
                replicas=self.target.replicas,
            ),
        )

    # ---------------------------------------------------------------- recovery

    def _recover_stream(self, last_stream: int) -> tuple[SessionState, float, int]:
        snap: StreamSnapshot | None = None
        for got in self._iter_snapshots():
            if isinstance(got, str):
                self.snapshots_skipped.append(got)
                continue
            why = self._snapshot_fits(got, last_stream)
            if why is None:
                snap = got
                break
            self.snapshots_skipped.append(f"{self.bucket}/{got.name}: {why}")
        if snap is not None:
            try:
                return self._replay_after(snap.state(), snap, last_stream)
            except LogCorruptionError as exc:
                self.snapshots_skipped.append(f"{self.bucket}/{snap.name}: {exc}")
        return self._replay_after(new_state(self.session_name), None, last_stream)

    def _replay_after(
        self, state: SessionState, snap: StreamSnapshot | None, last_stream: int
    ) -> tuple[SessionState, float, int]:
        start = snap.stream_seq + 1 if snap is not None else 1
        max_ts = snap.max_ts if snap is not None else 0.0
        first = state["last_seq"] + 1
        batches = self._record_batches(start, last_stream, first)
        with _no_gc():
            stats = fold_batches(state, batches, max_ts)
        if stats.count:
            max_ts = stats.max_ts
        self.recovery = RecoveryReport(self.log_path, records=state["last_seq"], end=last_stream)
        self.snapshot_used = f"{self.bucket}/{snap.name}" if snap is not None else None
        return state, max_ts, last_stream

    def _record_batches(self, start: int, end: int, first_event: int) -> Iterator[list[Any]]:
        """The records of stream messages ``start..end``, one list per message, checked
        to run on from event seq ``first_event``."""
        expected = first_event
        for seq, data, headers in self._messages(start, end):
            got_first = int((headers or {}).get(H_FIRST, expected))
            if got_first != expected:
                raise LogCorruptionError(
                    self.where, seq, f"message starts at event {got_first}, expected {expected}"
                )
            records = _decode_message(data, self.where, seq, expected)
            expected += len(records)
            yield records

    def _messages(self, start: int, end: int) -> Iterator[tuple[int, bytes, dict[str, str] | None]]:
        """Stream messages ``start..end`` (stream sequences), read by an ephemeral
        pull consumer in batches.

        A consumer can land on a node that has just died (the cluster has not noticed
        yet): a consumer that cannot be made or stops delivering is dropped and a new
        one, under a new name, goes on from the next message, until nothing has come
        for ``publish_deadline`` seconds."""
        seq = start - 1
        gave_up = time.monotonic() + self.target.publish_deadline
        while seq < end:
            sub, name = self._reader_from(seq + 1, gave_up)
            try:
                while seq < end:
                    try:
                        msgs = self._loop.run(
                            sub.fetch(batch=min(256, end - seq), timeout=ATTEMPT_TIMEOUT)
                        )
                    except Exception as exc:
                        if not _transient(exc):
                            raise
                        if time.monotonic() > gave_up:
                            raise JetStreamError(
                                f"{self.where}: reading stopped at sequence {seq} of {end}"
                                f" ({exc!r})"
                            ) from None
                        break  # a new consumer from the next message
                    for m in msgs:
                        seq = m.metadata.sequence.stream
                        yield seq, m.data, m.headers
                    gave_up = time.monotonic() + self.target.publish_deadline
            finally:
                with contextlib.suppress(Exception):
                    self._loop.run(self._drop_consumer(sub, name), timeout=5)

    def _reader_from(self, start: int, gave_up: float) -> tuple[Any, str]:
        """A pull subscription on a new ephemeral consumer from stream seq ``start``."""
        delay = 0.05
        while True:
            name = f"read-{uuid.uuid4().hex[:16]}"
            config = js_api.ConsumerConfig(
                name=name,
                deliver_policy=js_api.DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=start,
                ack_policy=js_api.AckPolicy.NONE,
                filter_subject=self.subject,
                inactive_threshold=10.0,
                mem_storage=True,
                num_replicas=1,
            )

            async def bind(config: Any = config, name: str = name) -> Any:
                await self._js.add_consumer(self.stream, config=config)
                return await self._js.pull_subscribe_bind(
                    durable=None,
                    stream=self.stream,
                    name=name,
                    pending_msgs_limit=4096,
                    pending_bytes_limit=64 << 20,
                )

            try:
                return self._loop.run(asyncio.wait_for(bind(), ATTEMPT_TIMEOUT)), name
            except Exception as exc:
                if not (_transient(exc) or isinstance(exc, TimeoutError)):
                    raise
                if time.monotonic() > gave_up:
                    raise JetStreamError(
                        f"{self.where}: cannot read from sequence {start} ({exc!r})"
                    ) from exc
            time.sleep(delay)  # back off while the cluster elects leaders
            delay = min(delay * 2, 0.5)

    async def _drop_consumer(self, sub: Any, name: str) -> None:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
        await self._js.delete_consumer(self.stream, name)

    def _snapshot_fits(self, snap: StreamSnapshot, last_stream: int) -> str | None:
        if snap.stream_seq == 0:
            return None if snap.last_seq == 0 else "empty snapshot with events"
        if snap.stream_seq > last_stream:
            return f"the stream ends at {last_stream}, before the snapshot's {snap.stream_seq}"
        try:
            msg = self._call(lambda: self._js.get_msg(self.stream, snap.stream_seq))
        except Exception as exc:
            return f"message {snap.stream_seq} unreadable: {exc}"
        headers = msg.headers or {}
        try:
            last = int(headers[H_FIRST]) + int(headers[H_COUNT]) - 1
        except (KeyError, ValueError):
            return f"message {snap.stream_seq} is not a round of events"
        if last != snap.last_seq:
            return (
                f"message {snap.stream_seq} ends at event {last}, the snapshot at {snap.last_seq}"
            )
        return None

    # -------------------------------------------------------------- snapshots

    def _snapshot_names(self) -> list[str]:
        """Snapshot object names, newest (highest stream sequence) first."""

        async def names() -> list[str]:
            try:
                infos = await self._obs.list(ignore_deletes=True)
            except js_errors.NotFoundError:
                return []
            return [i.name for i in infos if not i.deleted]

        found = [n for n in self._call(names) if _SNAP_NAME.fullmatch(n)]
        return sorted(found, key=lambda n: int(n.split("-")[1]), reverse=True)

    def _iter_snapshots(self) -> Iterator[StreamSnapshot | str]:
        """Each snapshot newest first, or a string saying why it cannot be used."""
        for name in self._snapshot_names():
            try:
                got = self._call(lambda name=name: self._obs.get(name))  # type: ignore[misc]
                env = msgpack.unpackb(gzip.decompress(got.data), raw=False, strict_map_key=False)
                state_bytes = env["state"]
                if env.get("v") != SNAPSHOT_VERSION:
                    raise ValueError(f"not a version {SNAPSHOT_VERSION} snapshot")
                if hashlib.sha256(state_bytes).hexdigest() != env.get("checksum"):
                    raise ValueError("checksum mismatch")
                yield StreamSnapshot(
                    name=name,
                    stream_seq=int(env["stream_seq"]),
                    last_seq=int(env["last_seq"]),
                    max_ts=float(env["max_ts"]),
                    taken_at=float(env["taken_at"]),
                    plain=msgpack.unpackb(state_bytes, raw=False, strict_map_key=False),
                )
            except Exception as exc:  # any failure: do not use this snapshot
                yield f"{self.bucket}/{name}: unreadable ({exc})"

    def recover_log(self) -> list[str]:
        """After the log stopped: read the stream again and write after it.

        Only when the stop was the servers' (no quorum for longer than
        ``publish_deadline``): the state becomes what the stream holds (in place),
        as for a local session's failed fsync. When another writer took the session
        over (:class:`WriterConflictError`, a lost lease) or appended meanwhile,
        this raises :class:`LogClosedError` and the log stays stopped. An append
        that failed may be in the stream after all (its publish reached a server
        late): then it is in the state again, as on disk after a failed fsync."""
        with self._lock:
            self._check_open()
            old = self.writer
            failed = old.failed
            if failed is None:
                return []
            if isinstance(failed, LogClosedError) and not isinstance(failed, _ServersGone):
                raise LogClosedError(
                    f"{self.where}: not reopened: {failed} (another process leads the session)"
                )
            old.close()
            deadline = time.monotonic() + self.target.publish_deadline
            while True:
                log = self._reopen_after(old)
                try:
                    # a publish of the old writer that timed out may still land (it
                    # sat in the client's reconnect buffer): once this fence is
                    # stored, none can (they name an older last sequence)
                    log.fence(f"{self.where} reopened")
                    break
                except WriterConflictError:
                    log.close()
                    if time.monotonic() > deadline:
                        raise
            return self.open_notes()

    def _reopen_after(self, old: JetStreamLog) -> JetStreamLog:
        """Read the stream again (refusing when anyone but ``old`` appended after
        what ``old`` knew), make the state what it holds, and a new writer after it.
        Caller holds the lock."""
        self._loop.run(self._nc.flush(timeout=self.target.timeout))
        last_stream = self._loop.run(self._ensure_stream(False))
        for seq in range(old.last_stream_seq + 1, last_stream + 1):
            msg = self._call(lambda seq=seq: self._js.get_msg(self.stream, seq))  # type: ignore[misc]
            if not str((msg.headers or {}).get("Nats-Msg-Id", "")).startswith(old.writer_id + ":"):
                raise LogClosedError(
                    f"{self.where}: someone else appended while this writer was cut off"
                    f" (message {seq}); not reopened"
                )
        # messages of the old writer that landed after all are kept, as a write that
        # reached the disk before a failed fsync is
        self.snapshots_skipped = []
        state, max_ts, last_stream = self._recover_stream(last_stream)
        live = cast(dict[str, Any], self._state)
        live.clear()
        live.update(state)
        self._max_ts = max_ts
        self._next_seq = state["last_seq"] + 1
        self._log = JetStreamLog(
            self._loop,
            self._js,
            self.stream,
            self.subject,
            last_stream_seq=last_stream,
            last_event_seq=state["last_seq"],
            publish_deadline=self.target.publish_deadline,
            timeout=self.target.timeout,
        )
        return self._log

    def persist_snapshot(self) -> str:  # type: ignore[override]
        """Write a snapshot to the object store; returns ``bucket/name``."""
        with self._lock:
            plain = state_to_plain(self._state)
            last_seq = self._next_seq - 1
            max_ts = self._max_ts
            self._log.flush()
            stream_seq = self.writer.last_stream_seq
            self.events_since_snapshot = 0
        return self.write_stream_snapshot(plain, last_seq, stream_seq, max_ts)

    def write_stream_snapshot(
        self, plain: dict[str, Any], last_seq: int, stream_seq: int, max_ts: float
    ) -> str:
        state_bytes = msgpack.packb(plain, use_bin_type=True)
        env = {
            "v": SNAPSHOT_VERSION,
            "last_seq": last_seq,
            "stream_seq": stream_seq,
            "max_ts": max_ts,
            "taken_at": time.time(),
            "state": state_bytes,
            "checksum": hashlib.sha256(state_bytes).hexdigest(),
        }
        data = gzip.compress(msgpack.packb(env, use_bin_type=True), compresslevel=6, mtime=0)
        name = f"snapshot-{stream_seq:012d}"
        self._call(lambda: self._obs.put(name, data))
        for old in self._snapshot_names()[self.keep_snapshots :]:
            with contextlib.suppress(Exception):
                self._loop.run(self._obs.delete(old))
        return f"{self.bucket}/{name}"

    def replay_from_snapshot(self, ts: float) -> SessionState:
        """The state after the last event recorded at or before ``ts`` (see
        :meth:`SessionManager.replay_from_snapshot`)."""
        self.flush()
        last_stream = self.writer.last_stream_seq
        snap: StreamSnapshot | None = None
        for got in self._iter_snapshots():
            if (
                isinstance(got, StreamSnapshot)
                and got.max_ts <= ts
                and self._snapshot_fits(got, last_stream) is None
            ):
                snap = got
                break
        state = snap.state() if snap is not None else new_state(self.session_name)
        start = snap.stream_seq + 1 if snap is not None else 1

        def records() -> Iterator[Any]:
            for batch in self._record_batches(start, last_stream, state["last_seq"] + 1):
                yield from batch

        with _no_gc():
            fold_records(state, _until(records(), ts))
        return state

    # ------------------------------------------------------------------ reading

    def _message_holding(self, event_seq: int, last_stream: int) -> int:
        """The stream sequence of the message holding event ``event_seq`` (bisection
        on the messages' headers), or ``last_stream + 1`` past the end."""
        lo, hi = 1, last_stream
        found = last_stream + 1
        while lo <= hi:
            mid = (lo + hi) // 2
            msg = self._call(lambda mid=mid: self._js.get_msg(self.stream, mid))  # type: ignore[misc]
            first = int((msg.headers or {}).get(H_FIRST, 0))
            count = int((msg.headers or {}).get(H_COUNT, 0))
            if first + count - 1 < event_seq:
                lo = mid + 1
            else:
                found = mid
                hi = mid - 1
        return found

    def iter_events(
        self, after_seq: int = 0, types: Collection[str] | None = None
    ) -> Iterator[ev.Event]:
        """The stored events with seq > ``after_seq``, in order (only ``types`` when
        given); the first message read is found by bisection."""
        last_stream = self.writer.last_stream_seq
        start = self._message_holding(after_seq + 1, last_stream) if after_seq > 0 else 1
        if start > last_stream:
            return
        msg = self._call(lambda: self._js.get_msg(self.stream, start))
        first = int((msg.headers or {}).get(H_FIRST, 1))
        for batch in self._record_batches(start, last_stream, first):
            for rec in batch:
                if rec["s"] > after_seq and (types is None or rec["t"] in types):
                    yield ev.event_from_record(rec)

    @property
    def last_frame_at(self) -> int | None:
        """No file, so no frame offset to anchor a tail reader on."""
        return None

    @property
    def writer(self) -> JetStreamLog:
        assert isinstance(self._log, JetStreamLog)
        return self._log

    # ---------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Publish everything queued, then disconnect."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._log.close()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        nc = getattr(self, "_nc", None)
        if nc is not None:
            with contextlib.suppress(Exception):
                self._loop.run(nc.close(), timeout=10)
        self._loop.stop()

    def __repr__(self) -> str:
        return f"JetStreamSessionManager({self.session_name!r}, {self.target.url!r})"


def _until(records: Iterator[Any], ts: float) -> Iterator[Any]:
    for rec in records:
        if not rec["ts"] <= ts:
            return
        yield rec
