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
import logging
import os
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agentshell.coordinator.coordinator import READ, RUN, Coordinator
from agentshell.core import events as ev

from . import ops
from .connection import WRITE_HIGH_WATER, Connection
from .framing import MAX_FRAME, FrameError, FrameTooLarge, encode, read_frame
from .paths import bind_private_socket, operator_token_path, peer_uid, write_private_file
from .protocol import (
    PROTOCOL_VERSION,
    RequestError,
    expected,
    field,
    frame_to_wire,
    plain,
    wire_error,
)

log = logging.getLogger(__name__)

#: Encoded push frames kept for reuse across connections (see Server.push_frame).
PUSH_CACHE = 256
#: Connections accepted per wake-up of the listening socket: the rest of a storm
#: waits in the backlog while the loop serves the connections it already has.
ACCEPT_BATCH = 64


def system_backlog(default: int = 4096) -> int:
    """The longest listen backlog the system takes (``net.core.somaxconn``)."""
    try:
        with open("/proc/sys/net/core/somaxconn") as f:
            return max(128, int(f.read().strip()))
    except (OSError, ValueError):
        return default


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
        #: The listen backlog in use (the system maximum once started).
        self.backlog = 0
        self._screen_cache: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._push_cache: OrderedDict[int, tuple[ev.Event, bytes]] = OrderedDict()
        self.ops: dict[str, Handler] = ops.OPS
        self.inline: dict[str, Callable[[Connection, dict[str, Any]], dict[str, Any]]] = ops.INLINE

    async def start(self) -> None:
        sock = bind_private_socket(self.socket_path)
        self._bound = True  # from here on the socket path (and its token file) are ours
        write_private_file(operator_token_path(self.socket_path), self.operator_token + "\n")
        # asyncio accepts up to ``backlog`` connections per wake-up and passes the
        # same number to listen(): serve with a small batch, then listen again with
        # the system's maximum, so that a storm of agents (a restart with a
        # thousand reconnecting) waits in the kernel's queue, not refused, while
        # accepting never holds the loop for long
        self._server = await asyncio.start_unix_server(
            self._handle, sock=sock, limit=self.max_frame + 8, backlog=ACCEPT_BATCH
        )
        self.backlog = system_backlog()
        sock.listen(self.backlog)

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
        if not expected(exc):
            log.exception("op %s failed", op)
        conn.send({"id": rid, "ok": False, "error": wire_error(exc)})

    async def _cleanup(self, conn: Connection) -> None:
        conn.closed = True
        for t in list(conn.tasks):
            t.cancel()
        if conn.sub is not None:
            conn.sub.close()
        if conn.pump is not None:
            conn.pump.cancel()
        self.connections.discard(conn)
        conn.unwatch_all()
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
    "PUSH_CACHE",
    "READ",
    "RUN",
    "WRITE_HIGH_WATER",
    "Connection",
    "RequestError",
    "Server",
    "field",
    "plain",
]
