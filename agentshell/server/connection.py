"""One client connection of the agent socket: its identity, subscriptions, in-flight
requests and the frames written back to it, and :class:`Host`, what it and the ops
may ask of the server they run in (see ``docs/protocol.md``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from agentshell.coordinator.coordinator import Coordinator, Subscription
from agentshell.core import events as ev
from agentshell.core.errors import PermissionDeniedError

from .framing import FrameTooLarge, encode

log = logging.getLogger(__name__)

#: A connection whose unsent output grows past this is too slow: it is dropped.
WRITE_HIGH_WATER = 32 << 20


class Host(Protocol):
    """What a connection and the ops may ask of the server they run in."""

    @property
    def coordinator(self) -> Coordinator: ...

    @property
    def operator_token(self) -> str: ...

    @property
    def max_frame(self) -> int: ...

    @property
    def push_backlog(self) -> int: ...

    async def agent_connected(self, agent_id: str) -> None:
        """Count one more connection of ``agent_id`` (the first marks it connected)."""

    def screen_wire(self, terminal: str) -> dict[str, Any]:
        """The wire form of ``terminal``'s current frame."""

    def push_frame(self, e: ev.Event) -> bytes:
        """The encoded ``{"push": "event"}`` frame of ``e``."""

    def on_push(self, conn: Connection, e: ev.Event) -> None:
        """Run for every event pushed to ``conn``."""


class Connection:
    """One client connection: its identity, subscriptions and in-flight requests."""

    def __init__(self, server: Host, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.identity: str | None = None  # agent id, or "human" for the operator
        self.role = ""
        self.tasks: set[asyncio.Task[Any]] = set()
        self.sub: Subscription | None = None
        self.pump: asyncio.Task[None] | None = None
        self.event_types: frozenset[str] | None = None
        self.all_events = False
        self.docs: set[str] = set()
        #: Approvals this connection proposed or waits on (released when it closes).
        self.watching: set[str] = set()
        self.closed = False

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def send(self, obj: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            data = encode(obj, self.server.max_frame)
        except FrameTooLarge as exc:
            data = encode(
                {
                    "id": obj.get("id"),
                    "ok": False,
                    "error": {"code": "reply_too_large", "message": str(exc)},
                }
            )
        except Exception as exc:
            data = encode(
                {
                    "id": obj.get("id"),
                    "ok": False,
                    "error": {"code": "internal", "message": f"cannot encode reply: {exc}"},
                }
            )
        self.send_frame(data)

    def send_frame(self, data: bytes) -> None:
        """Write an encoded frame (drops a connection that stopped reading)."""
        if self.closed:
            return
        transport = self.writer.transport
        if transport.is_closing():
            self.closed = True
            return
        self.writer.write(data)
        if transport.get_write_buffer_size() > WRITE_HIGH_WATER:
            log.warning("dropping a connection that does not read its replies")
            self.close()

    def error(self, rid: Any, code: str, message: str, **extra: Any) -> None:
        err: dict[str, Any] = {"code": code, "message": message}
        err.update(extra)
        self.send({"id": rid, "ok": False, "error": err})

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            self.writer.close()

    def watch(self, approval_id: str) -> None:
        """This connection waits to hear how ``approval_id`` ends (an agent's)."""
        if self.is_operator or approval_id in self.watching:
            return
        if len(self.watching) >= 1024:  # a long-lived connection: forget ended ones
            pending = self.server.coordinator.session.state["pending_approvals"]
            self.watching = {a for a in self.watching if a in pending}
        self.watching.add(approval_id)
        self.server.coordinator.watch(approval_id, self)

    def unwatch(self, approval_id: str) -> None:
        if approval_id in self.watching:
            self.watching.discard(approval_id)
            self.server.coordinator.unwatch(approval_id, self)

    def unwatch_all(self) -> None:
        """The connection closed: it waits for nothing any more."""
        for aid in self.watching:
            self.server.coordinator.unwatch(aid, self)
        self.watching.clear()

    # --------------------------------------------------------------- permissions

    def need(self, permission: str) -> str:
        assert self.identity is not None
        if not self.is_operator:
            self.server.coordinator.require(self.identity, permission)
        return self.identity

    def need_operator(self) -> None:
        if not self.is_operator:
            raise PermissionDeniedError("only the operator may do this")

    # ---------------------------------------------------------------- events

    def wants(self, e: ev.Event) -> bool:
        if e.event_type == "doc_op" and getattr(e, "doc", None) in self.docs:
            return True
        if e.event_type == "conflict_detected" and self.identity in getattr(e, "agents", ()):
            return True  # conflicts reach the agents they name, subscribed or not
        if self.all_events:
            return True
        return self.event_types is not None and e.event_type in self.event_types

    def ensure_pump(self) -> None:
        if self.sub is not None:
            return
        self.sub = self.server.coordinator.subscribe(
            predicate=self.wants, maxsize=self.server.push_backlog
        )
        self.pump = asyncio.ensure_future(self._pump(self.sub))

    async def _pump(self, sub: Subscription) -> None:
        async for e in sub:
            self.server.on_push(self, e)
            try:
                data = self.server.push_frame(e)
            except Exception:  # too large or unencodable: send() makes the error frame
                self.send({"push": "event", "event": e.to_record()})
            else:
                self.send_frame(data)
        if sub.overflowed:
            self.send(
                {
                    "push": "error",
                    "error": {
                        "code": "lagged",
                        "message": "too far behind: events were dropped; subscribe again",
                    },
                }
            )
            self.sub = None
            self.all_events = False
            self.event_types = None


__all__ = ["WRITE_HIGH_WATER", "Connection", "Host"]
