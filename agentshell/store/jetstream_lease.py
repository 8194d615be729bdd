"""Who leads a session on JetStream: a lease (a KV key with a TTL, renewed), and a
standby that follows the stream and takes over when the lease runs out.

* The lease of session ``S`` is the key ``lease`` in the KV bucket
  ``AGENTSHELL_LEASE_T`` (``T`` = :func:`~agentshell.store.jetstream.session_token`),
  whose entries live ``ttl`` seconds. Taking it is ``create`` (refused while a live
  entry exists); the holder renews it every ``ttl / 3`` with ``update`` on the
  revision it holds, so a renewal after someone else took it is refused too.
* :func:`lead` takes the lease (or raises :class:`LeaseHeldError` naming the
  holder), opens the session and keeps renewing. A leader whose renewal fails (it
  was cut off for longer than the TTL and someone else took over) stops its log
  (:class:`LeaseLostError`): nothing more is acknowledged.
* Safety does not rest on clocks: the stream itself refuses a message from anyone
  but the last writer (``Nats-Expected-Last-Sequence``), so a stale leader that
  has not noticed yet cannot interleave with the new one.
* :class:`Standby` holds no lease and follows the stream (its ``state`` is the
  session's state as of the last event it read); :meth:`Standby.take_over` waits
  until the lease is free, takes it and returns the opened session, which replays
  anything the standby had not seen yet. What a coordinator does on open happens
  then as after a local crash: approved or executing commands come back
  interrupted, nothing is re-run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import time
from typing import Any

from agentshell.core.errors import AgentShellError, LogClosedError
from agentshell.core.state import SessionState, copy_state, fold_batches
from agentshell.store.jetstream import (
    JetStreamSessionManager,
    NatsTarget,
    WriterConflictError,
    _connect,
    _Loop,
    require_nats,
    retrying,
    session_token,
)
from agentshell.store.jetstream_follow import StreamFollower
from agentshell.store.session import check_name

try:
    import nats.js.api as js_api
    import nats.js.errors as js_errors
except ImportError:  # pragma: no cover - the cluster extra is missing
    pass

LEASE_KEY = "lease"
DEFAULT_TTL = 5.0


class LeaseHeldError(AgentShellError):
    """Someone else leads the session (holds a live lease)."""


class LeaseLostError(LogClosedError):
    """This leader's lease was taken over: its log stopped."""


def lease_bucket(session: str) -> str:
    return f"AGENTSHELL_LEASE_{session_token(session)}"


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class Lease:
    """The lease key of one session (all calls blocking, run on ``loop``)."""

    def __init__(
        self,
        session: str,
        target: NatsTarget,
        loop: _Loop,
        nc: Any,
        *,
        holder: str | None = None,
        ttl: float = DEFAULT_TTL,
    ) -> None:
        self.session = check_name(session)
        self.target = target
        self.bucket = lease_bucket(session)
        self.holder = holder or default_holder()
        self.ttl = ttl
        self._loop = loop
        self._js = nc.jetstream(timeout=target.timeout)
        self._kv: Any = None
        self.revision: int | None = None
        self.renewals = 0
        self._renewer: asyncio.Task[None] | None = None

    def _run(self, coro: Any) -> Any:
        return self._loop.run(coro)

    async def _bucket(self) -> Any:
        if self._kv is not None:
            return self._kv
        try:
            kv = await self._js.key_value(self.bucket)
            # the bucket's entry age is the lease's length: renew by it, whatever
            # ttl this holder was given (the first holder created the bucket)
            got = (await kv.status()).ttl
            if got:
                self.ttl = float(got)
            self._kv = kv
        except js_errors.BucketNotFoundError:
            self._kv = await self._js.create_key_value(
                js_api.KeyValueConfig(
                    bucket=self.bucket,
                    description=f"agentshell leader lease of {self.session}",
                    history=1,
                    ttl=self.ttl,
                    storage=js_api.StorageType.FILE,
                    replicas=self.target.replicas,
                )
            )
        return self._kv

    def _value(self) -> bytes:
        return json.dumps({"holder": self.holder, "taken_at": time.time()}).encode()

    async def _acquire(self) -> bool:
        kv = await retrying(self._bucket, self.target.publish_deadline)
        try:
            self.revision = await retrying(
                lambda: kv.create(LEASE_KEY, self._value()), self.target.publish_deadline
            )
        except js_errors.KeyWrongLastSequenceError:
            return False
        return True

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds a live one."""
        return bool(self._run(self._acquire()))

    async def _current(self) -> str | None:
        kv = await retrying(self._bucket, self.target.publish_deadline)
        try:
            entry = await kv.get(LEASE_KEY)
        except (js_errors.KeyNotFoundError, js_errors.KeyDeletedError):
            return None
        if not entry.value:
            return None
        return str(json.loads(entry.value).get("holder"))

    def current_holder(self) -> str | None:
        """Who holds the lease now (None when free)."""
        got = self._run(self._current())
        return None if got is None else str(got)

    async def _renew(self) -> bool:
        kv = await self._bucket()
        try:
            self.revision = await kv.update(LEASE_KEY, self._value(), last=self.revision)
        except js_errors.KeyWrongLastSequenceError:
            return False
        self.renewals += 1
        return True

    async def _retake(self) -> bool:
        """After a refused renewal: ``create`` again (True when the lease had just
        lapsed and nobody took it)."""
        kv = await self._bucket()
        try:
            self.revision = await kv.create(LEASE_KEY, self._value())
        except js_errors.KeyWrongLastSequenceError:
            return False
        return True

    def renew(self) -> bool:
        """Extend the lease; False when it is no longer ours."""
        return bool(self._run(self._renew()))

    def keep_renewing(self, on_lost: Any) -> None:
        """Renew every ``ttl / 3`` on the loop; call ``on_lost(reason)`` (once, from
        the loop's thread) when the lease is someone else's.

        A renewal that gets no answer (the KV stream electing a leader after a node
        loss) is tried again: while the KV answers nobody, nobody can take the lease
        either, and a standby that takes it after it lapsed fences the stream first,
        so this leader's next append is refused anyway. A refused renewal (the entry
        lapsed) takes the lease again if it is still free."""

        async def renewer() -> None:
            while True:
                await asyncio.sleep(self.ttl / 3)
                try:
                    ok = await asyncio.wait_for(self._renew(), self.ttl / 3)
                except Exception:
                    continue  # no answer: try again
                if ok:
                    continue
                try:
                    ok = await asyncio.wait_for(self._retake(), self.ttl / 3)
                except Exception:
                    continue
                if not ok:
                    on_lost(f"the lease of session {self.session!r} was taken over")
                    return

        async def start() -> asyncio.Task[None]:
            return asyncio.get_running_loop().create_task(renewer())

        self._renewer = self._run(start())

    async def stop_renewing(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(BaseException):
                await self._renewer
            self._renewer = None

    async def _release(self) -> None:
        await self.stop_renewing()
        if self.revision is None:
            return
        kv = await self._bucket()
        with contextlib.suppress(Exception):
            await kv.delete(LEASE_KEY, last=self.revision)
        self.revision = None

    def release(self) -> None:
        """Stop renewing and give the lease up (a standby takes over at once)."""
        self._run(self._release())


class LeadingSession(JetStreamSessionManager):
    """A session opened under its lease (see :func:`lead`); closing releases it."""

    lease: Lease | None = None
    _lease_loop: _Loop | None = None
    _lease_nc: Any = None

    def _lease_lost(self, reason: str) -> None:
        self.writer.stop(LeaseLostError(f"{reason}: this process no longer leads it"))

    def close(self) -> None:
        """Flush and close the session, then give the lease up."""
        lease, loop = self.lease, self._lease_loop
        try:
            if lease is not None and loop is not None:
                loop.run(lease.stop_renewing())
            super().close()
            if lease is not None:
                lease.release()
        finally:
            if loop is not None:
                with contextlib.suppress(Exception):
                    loop.run(self._lease_nc.close(), timeout=5)
                loop.stop()
            self.lease = self._lease_loop = None


def lead(
    session_name: str,
    target: NatsTarget | str,
    *,
    holder: str | None = None,
    ttl: float = DEFAULT_TTL,
    wait: float = 0.0,
    create: bool = True,
) -> LeadingSession:
    """Take the lease of ``session_name`` and open it as its writer.

    ``wait``: seconds to keep trying while another holder's lease is live (0:
    raise :class:`LeaseHeldError` at once)."""
    require_nats()
    target = NatsTarget(target) if isinstance(target, str) else target
    loop = _Loop(f"lease:{session_name}")
    try:
        nc = loop.run(_connect(target))
    except BaseException:
        loop.stop()
        raise
    lease = Lease(session_name, target, loop, nc, holder=holder, ttl=ttl)
    try:
        deadline = time.monotonic() + wait
        delay = 0.05
        while not lease.try_acquire():
            if time.monotonic() >= deadline:
                raise LeaseHeldError(
                    f"session {session_name!r} is led by {lease.current_holder() or '?'}"
                    f" (its lease lives {lease.ttl:g} s after its last renewal)"
                )
            time.sleep(delay)  # poll the lease (it expires server-side)
            delay = min(delay * 2, ttl / 10)
        sm = _open_fenced(session_name, target, lease, create)
    except BaseException:
        with contextlib.suppress(Exception):
            lease.release()
        with contextlib.suppress(Exception):
            loop.run(nc.close(), timeout=5)
        loop.stop()
        raise
    sm.lease, sm._lease_nc, sm._lease_loop = lease, nc, loop
    lease.keep_renewing(sm._lease_lost)
    return sm


def _open_fenced(
    session_name: str, target: NatsTarget, lease: Lease, create: bool
) -> LeadingSession:
    """Open the session and fence its stream (see :meth:`JetStreamLog.fence`); when
    the old leader appended meanwhile, read it again and fence again."""
    deadline = time.monotonic() + target.publish_deadline
    while True:
        sm = LeadingSession(session_name, target, create=create)
        try:
            sm.writer.fence(lease.holder)
            return sm
        except WriterConflictError:
            sm.close()
            if time.monotonic() > deadline:
                raise
        except BaseException:
            sm.close()
            raise


class Standby:
    """Follows a session's stream without leading it; :meth:`take_over` leads it.

    ``state`` / ``last_seq``: the session as of the last event read (updated by a
    task on the standby's own loop, about every ``poll`` seconds)."""

    def __init__(
        self,
        session_name: str,
        target: NatsTarget | str,
        *,
        holder: str | None = None,
        ttl: float = DEFAULT_TTL,
        poll: float = 0.1,
    ) -> None:
        require_nats()
        self.session_name = check_name(session_name)
        self.target = NatsTarget(target) if isinstance(target, str) else target
        self.holder = holder or default_holder()
        self.ttl = ttl
        self.poll = poll
        self._follower = StreamFollower(session_name, self.target)
        self._lock = threading.Lock()
        self.state: SessionState = self._follower.opened_state()
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._follow, name=f"agentshell-standby:{session_name}", daemon=True
        )
        self._thread.start()

    @property
    def last_seq(self) -> int:
        return int(self.state["last_seq"])

    def get_state(self) -> SessionState:
        """A copy of the followed state."""
        with self._lock:
            return copy_state(self.state)

    def _follow(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                batches = self._follower.read_new()
                if batches:
                    with self._lock:
                        fold_batches(self.state, batches)
            except Exception as exc:  # the cluster is failing over: try again
                self.error = exc

    def take_over(self, timeout: float | None = None) -> LeadingSession:
        """Wait until the lease is free (the leader released it, or stopped renewing
        it for ``ttl``), take it and open the session as its writer."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._stop.is_set():
                raise LeaseHeldError(f"stopped waiting to lead session {self.session_name!r}")
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                sm = lead(
                    self.session_name,
                    self.target,
                    holder=self.holder,
                    ttl=self.ttl,
                    wait=self.ttl if left is None else min(self.ttl, left),
                    create=False,
                )
                break
            except LeaseHeldError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
        self.close()
        return sm

    def cancel(self) -> None:
        """Make a waiting :meth:`take_over` give up (within one ``ttl``)."""
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self._follower.close()
