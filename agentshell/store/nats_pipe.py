"""A byte stream over NATS subjects: an asyncio (reader, writer) pair whose bytes
travel as NATS messages, so the agent protocol (docs/protocol.md) runs over NATS
exactly as over the Unix socket (the server's and the client's NATS transports,
:mod:`agentshell.server.nats_transport`, :mod:`agentshell.client.nats_connect`).

* Opening is one request/reply on the session's subject ``agentshell.T.open``: the
  client sends the subject it listens on (its ``down`` subject, under its own inbox
  prefix) and gets back the one the server listens on for this connection (``up``).
* Each direction is a run of messages of at most :data:`CHUNK` bytes, numbered in
  the ``Agentshell-Seq`` header from 1. Core NATS may drop a message (a reconnect, a
  slow consumer): a gap in the numbers ends the stream at once, as a broken socket
  would, never a stream with bytes missing. ``Agentshell-Close`` ends it cleanly.
* A writer with nothing to say sends an empty message every :data:`KEEPALIVE`
  seconds; a reader that hears nothing for :data:`IDLE_TIMEOUT` ends its stream (the
  other side's process or machine is gone: no close message will ever come).

Lives in the store layer beside the other NATS plumbing (:mod:`.jetstream`) because
both the server and the client, sibling layers, use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

log = logging.getLogger(__name__)

H_SEQ = "Agentshell-Seq"
H_CLOSE = "Agentshell-Close"
#: Largest message payload written (below every server's max_payload).
CHUNK = 256 << 10
#: An idle writer sends an empty message this often (seconds) ...
KEEPALIVE = 1.0
#: ... and a reader that hears nothing for this long ends its stream.
IDLE_TIMEOUT = 5.0


def open_subject(token: str) -> str:
    """Where a session's server takes connection requests (``token``: the session's
    :func:`~agentshell.store.jetstream.session_token`)."""
    return f"agentshell.{token}.open"


def up_subject(token: str, conn_id: str) -> str:
    return f"agentshell.{token}.conn.{conn_id}"


def frames_subject(token: str) -> str:
    """Where the session's leader publishes its terminals' frames (core NATS)."""
    return f"agentshell.{token}.frames"


def frames_sync_subject(token: str) -> str:
    """Where a viewer asks the leader for a key frame of every terminal."""
    return f"agentshell.{token}.frames.sync"


class PipeWriter:
    """The writing end: ``write`` queues bytes, one task publishes them in order.

    Offers what the server's connections and the client use of an
    ``asyncio.StreamWriter`` (``write``, ``drain``, ``close``, ``wait_closed``,
    ``is_closing``, ``get_extra_info``) and is its own ``transport``
    (``get_write_buffer_size``)."""

    def __init__(self, nc: Any, subject: str, keepalive: float = KEEPALIVE) -> None:
        self.nc = nc
        self.subject = subject
        self.keepalive = keepalive
        self._queue: deque[bytes] = deque()
        self._buffered = 0
        self._seq = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self.error: BaseException | None = None
        self._task = asyncio.ensure_future(self._send())

    @property
    def transport(self) -> PipeWriter:
        return self

    def is_closing(self) -> bool:
        return self._closing

    def get_write_buffer_size(self) -> int:
        return self._buffered

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return self.subject
        return default

    def write(self, data: bytes) -> None:
        if self._closing:
            return
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            self._queue.append(bytes(view[start : start + CHUNK]))
        self._buffered += len(data)
        self._idle.clear()
        self._wake.set()

    async def drain(self) -> None:
        await self._idle.wait()
        if self.error is not None:
            raise ConnectionResetError(f"NATS pipe {self.subject}: {self.error}")

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._wake.set()

    async def wait_closed(self) -> None:
        with contextlib.suppress(BaseException):
            await asyncio.shield(self._task)

    async def _publish(self, data: bytes, headers: dict[str, str]) -> None:
        self._seq += 1
        headers[H_SEQ] = str(self._seq)
        await self.nc.publish(self.subject, data, headers=headers)

    async def _send(self) -> None:
        try:
            while True:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.keepalive)
                except TimeoutError:
                    await self._publish(b"", {})  # still here
                    continue
                self._wake.clear()
                while self._queue:
                    data = self._queue.popleft()
                    await self._publish(data, {})
                    self._buffered -= len(data)
                self._idle.set()
                if self._closing:
                    await self._publish(b"", {H_CLOSE: "1"})
                    with contextlib.suppress(Exception):
                        await self.nc.flush(timeout=2)
                    return
        except Exception as exc:  # the NATS connection is gone or refused a message
            self.error = exc
            self._closing = True
            self._queue.clear()
            self._buffered = 0
            self._idle.set()


class PipeReader:
    """Feeds a subscription's messages, in order, into an ``asyncio.StreamReader``."""

    def __init__(self, limit: int, idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.stream = asyncio.StreamReader(limit=limit)
        self._next = 1
        self.idle_timeout = idle_timeout
        self._heard = asyncio.get_running_loop().time()
        self._watchdog = asyncio.ensure_future(self._watch())
        self.ended = False
        #: Why the stream ended early (a gap), else None.
        self.broken: str | None = None
        self.sub: Any = None
        self._unsub: asyncio.Future[None] | None = None

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.ended:
            await asyncio.sleep(self.idle_timeout / 4)
            if not self.ended and loop.time() - self._heard > self.idle_timeout:
                self.broken = f"nothing heard for {self.idle_timeout:g} s (the other side is gone)"
                self._end()

    async def on_message(self, msg: Any) -> None:
        if self.ended:
            return
        self._heard = asyncio.get_running_loop().time()
        headers = msg.headers or {}
        try:
            seq = int(headers.get(H_SEQ, "0"))
        except ValueError:
            seq = 0
        if seq != self._next:
            self.broken = f"message {seq} arrived where {self._next} was due (lost in transit)"
            log.warning("NATS pipe: %s; closing it", self.broken)
            self._end()
            return
        self._next += 1
        if headers.get(H_CLOSE):
            self._end()
            return
        if msg.data:
            self.stream.feed_data(msg.data)

    def close(self) -> None:
        """Stop listening (the connection is closed from this side)."""
        if not self.ended:
            self._end()

    def _end(self) -> None:
        self.ended = True
        self.stream.feed_eof()
        if self._watchdog is not asyncio.current_task():
            self._watchdog.cancel()
        if self.sub is not None:
            sub, self.sub = self.sub, None
            self._unsub = asyncio.ensure_future(_unsubscribe(sub))


async def _unsubscribe(sub: Any) -> None:
    with contextlib.suppress(Exception):
        await sub.unsubscribe()


async def subscribe_reader(
    nc: Any, subject: str, limit: int, idle_timeout: float = IDLE_TIMEOUT
) -> PipeReader:
    """A :class:`PipeReader` fed by a new subscription to ``subject``."""
    reader = PipeReader(limit, idle_timeout)
    reader.sub = await nc.subscribe(
        subject, cb=reader.on_message, pending_msgs_limit=1 << 20, pending_bytes_limit=1 << 28
    )
    return reader
