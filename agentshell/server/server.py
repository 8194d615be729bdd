"""The agent socket: a Unix-socket server in front of a :class:`Coordinator`.

See ``docs/protocol.md`` for the wire protocol. In short: frames are a 4-byte
big-endian length and a msgpack map; a connection must pass the peer-uid check
(SO_PEERCRED) and say ``hello`` (agent id + token, or ``role: "operator"`` + the
operator token) before anything but ``ping``; each request ``{id, op, ...}`` gets one
reply ``{id, ok: true, ...}`` or ``{id, ok: false, error: {code, message}}``; pushed
events are ``{push: "event", event: record}``. Requests of one connection are handled
concurrently (a long ``run`` does not hold up ``screen``); cheap ops are answered
inline. Bad input gets an error frame and never affects other connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import os
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agentshell.coordinator.coordinator import READ, RUN, Coordinator, Subscription
from agentshell.coordinator.results import CommandError, CoordinatorError
from agentshell.core import events as ev
from agentshell.core.errors import AgentShellError, PermissionDeniedError

from .framing import MAX_FRAME, FrameError, FrameTooLarge, encode, read_frame
from .paths import bind_private_socket, operator_token_path, peer_uid, write_private_file

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
#: A connection whose unsent output grows past this is too slow: it is dropped.
WRITE_HIGH_WATER = 32 << 20
#: Encoded push frames kept for reuse across connections (see Server.push_frame).
PUSH_CACHE = 256


class RequestError(AgentShellError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


REQUIRED: Any = object()


def field(req: dict[str, Any], name: str, kind: Any, default: Any = REQUIRED) -> Any:
    """``req[name]`` checked against ``kind`` (a type or tuple), or ``default``."""
    if name not in req or req[name] is None:
        if default is REQUIRED:
            raise RequestError("bad_request", f"missing field {name!r}")
        return default
    v = req[name]
    if isinstance(v, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise RequestError("bad_request", f"field {name!r} has the wrong type (bool)")
    if not isinstance(v, kind):
        want = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise RequestError("bad_request", f"field {name!r} must be {want}, got {type(v).__name__}")
    if isinstance(v, float) and not math.isfinite(v):
        raise RequestError("bad_request", f"field {name!r} must be finite")
    return v


def plain(v: Any) -> Any:
    """Dataclasses, tuples and sets as msgpack-ready values."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, tuple | list | set | frozenset):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


def frame_to_wire(frame: Any, terminal: str) -> dict[str, Any]:
    cursor = getattr(frame, "cursor", None)
    if cursor is not None and not isinstance(cursor, tuple | list):
        cursor = [getattr(cursor, "x", 0), getattr(cursor, "y", 0)]
    return {
        "terminal": terminal,
        "lines": [line.text for line in frame.lines],
        "cursor": list(cursor) if cursor is not None else None,
        "title": getattr(frame, "title", "") or "",
    }


class Connection:
    """One client connection: its identity, subscriptions and in-flight requests."""

    def __init__(self, server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
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


Handler = Callable[[Connection, dict[str, Any]], Awaitable[dict[str, Any]]]


class Server:
    """Serve ``coordinator`` on the Unix socket ``socket_path`` (see the module docstring)."""

    def __init__(
        self,
        coordinator: Coordinator,
        socket_path: str | os.PathLike[str],
        *,
        operator_token: str | None = None,
        max_frame: int = MAX_FRAME,
        push_backlog: int = 10_000,
    ) -> None:
        self.coordinator = coordinator
        self.socket_path = Path(socket_path)
        self.operator_token = operator_token or secrets.token_urlsafe(32)
        self.max_frame = max_frame
        self.push_backlog = push_backlog
        self.connections: set[Connection] = set()
        self._server: asyncio.AbstractServer | None = None
        self._agent_conns: dict[str, int] = {}
        self._status_tasks: set[asyncio.Task[Any]] = set()
        self.peer_uid_check = True
        self._handlers: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._bound = False
        self._screen_cache: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._push_cache: OrderedDict[int, tuple[ev.Event, bytes]] = OrderedDict()
        from . import ops

        self.ops: dict[str, Handler] = ops.OPS
        self.inline: dict[str, Callable[[Connection, dict[str, Any]], dict[str, Any]]] = ops.INLINE

    async def start(self) -> None:
        sock = bind_private_socket(self.socket_path)
        self._bound = True  # from here on the socket path (and its token file) are ours
        write_private_file(operator_token_path(self.socket_path), self.operator_token + "\n")
        self._server = await asyncio.start_unix_server(
            self._handle, sock=sock, limit=self.max_frame + 8
        )

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        self._closing = True
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            for t in conn.tasks:
                t.cancel()
            conn.close()
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=5.0)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
        if not self._bound:
            return  # never bound: the path may be another live server's, leave it alone
        self._bound = False
        for p in (self.socket_path, operator_token_path(self.socket_path)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -------------------------------------------------------------- connections

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(self, reader, writer)
        me = asyncio.current_task()
        if me is not None:
            self._handlers.add(me)
            me.add_done_callback(self._handlers.discard)
        sock = writer.get_extra_info("socket")
        if self.peer_uid_check:
            try:
                uid = peer_uid(sock)
            except OSError:
                uid = -1
            if uid != os.getuid():
                conn.error(
                    None, "peer_uid", f"connections are accepted only from uid {os.getuid()}"
                )
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(writer.drain(), 1.0)
                conn.close()
                return
        self.connections.add(conn)
        try:
            await self._serve(conn)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:  # pragma: no cover - a bug must not take the server down
            log.exception("connection handler failed")
        finally:
            await self._cleanup(conn)

    async def _serve(self, conn: Connection) -> None:
        while not conn.closed:
            try:
                req = await read_frame(conn.reader, self.max_frame)
            except asyncio.IncompleteReadError:
                return  # clean EOF, or the client vanished mid-frame
            except FrameTooLarge as exc:
                conn.error(None, exc.code, str(exc))
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.writer.drain(), 1.0)
                return  # the body was not read: the stream cannot be resynchronised
            except FrameError as exc:
                conn.error(None, exc.code, str(exc))
                continue
            self._dispatch(conn, req)

    def _dispatch(self, conn: Connection, req: dict[str, Any]) -> None:
        rid = req.get("id")
        if rid is not None and (isinstance(rid, bool) or not isinstance(rid, int | str)):
            conn.error(None, "bad_request", "id must be an integer or a string")
            return
        op = req.get("op")
        if not isinstance(op, str):
            conn.error(rid, "bad_request", "missing or non-string 'op'")
            return
        if conn.identity is None and op not in ("hello", "ping"):
            conn.error(rid, "unauthenticated", "say hello first")
            return
        inline = self.inline.get(op)
        if inline is not None:
            try:
                reply = inline(conn, req)
            except Exception as exc:
                self._fail(conn, rid, op, exc)
                return
            reply["id"] = rid
            reply["ok"] = True
            conn.send(reply)
            return
        handler = self.ops.get(op)
        if handler is None:
            conn.error(rid, "unknown_op", f"unknown op {op!r}")
            return
        task = asyncio.ensure_future(self._run(conn, rid, op, handler, req))
        conn.tasks.add(task)
        task.add_done_callback(conn.tasks.discard)

    async def _run(
        self, conn: Connection, rid: Any, op: str, handler: Handler, req: dict[str, Any]
    ) -> None:
        try:
            reply = await handler(conn, req)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._fail(conn, rid, op, exc)
            return
        reply["id"] = rid
        reply["ok"] = True
        conn.send(reply)

    def _fail(self, conn: Connection, rid: Any, op: str, exc: Exception) -> None:
        if isinstance(exc, RequestError):
            conn.error(rid, exc.code, str(exc))
        elif isinstance(exc, CommandError):
            extra: dict[str, Any] = {"approval_id": exc.approval_id}
            reason = getattr(exc, "reason", None)
            if reason is not None:
                extra["reason"] = reason
            conn.error(rid, exc.code, str(exc), **extra)
        elif isinstance(exc, CoordinatorError):
            conn.error(rid, exc.code, str(exc))
        elif isinstance(exc, PermissionDeniedError):
            conn.error(rid, "permission_denied", str(exc))
        elif isinstance(exc, AgentShellError | ValueError | TypeError):
            conn.error(rid, "bad_request", str(exc))
        else:
            log.exception("op %s failed", op)
            conn.error(rid, "internal", f"{type(exc).__name__}: {exc}")

    async def _cleanup(self, conn: Connection) -> None:
        conn.closed = True
        for t in list(conn.tasks):
            t.cancel()
        if conn.sub is not None:
            conn.sub.close()
        if conn.pump is not None:
            conn.pump.cancel()
        self.connections.discard(conn)
        with contextlib.suppress(Exception):
            conn.writer.close()
        if conn.identity is not None and not conn.is_operator:
            n = self._agent_conns.get(conn.identity, 1) - 1
            if n <= 0:
                self._agent_conns.pop(conn.identity, None)
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await self.coordinator.set_agent_status(conn.identity, "disconnected")
            else:
                self._agent_conns[conn.identity] = n

    async def agent_connected(self, agent_id: str) -> None:
        self._agent_conns[agent_id] = self._agent_conns.get(agent_id, 0) + 1
        if self._agent_conns[agent_id] == 1:
            await self.coordinator.set_agent_status(agent_id, "connected")

    def screen_wire(self, terminal: str) -> dict[str, Any]:
        """The wire form of a terminal's frame, reused while the frame is unchanged
        (frames are immutable: the same object means the same screen)."""
        frame = self.coordinator.screen(terminal)
        hit = self._screen_cache.get(terminal)
        if hit is not None and hit[0] is frame:
            return dict(hit[1])
        wire = frame_to_wire(frame, terminal)
        self._screen_cache[terminal] = (frame, wire)
        return dict(wire)

    def push_frame(self, e: ev.Event) -> bytes:
        """The encoded ``{"push": "event"}`` frame of ``e``, encoded once for every
        connection it goes to (events are immutable; a few recent ones are kept)."""
        hit = self._push_cache.get(e.seq)
        if hit is not None and hit[0] is e:
            return hit[1]
        data = encode({"push": "event", "event": e.to_record()}, self.max_frame)
        self._push_cache[e.seq] = (e, data)
        if len(self._push_cache) > PUSH_CACHE:
            self._push_cache.popitem(last=False)
        return data

    def on_push(self, conn: Connection, e: ev.Event) -> None:
        """Hook run for every event pushed to ``conn`` (the agent has now seen it)."""
        if conn.identity is not None and not conn.is_operator:
            self.coordinator.saw(conn.identity, e)


__all__ = [
    "PROTOCOL_VERSION",
    "READ",
    "RUN",
    "Connection",
    "RequestError",
    "Server",
    "field",
    "plain",
]
