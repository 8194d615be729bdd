"""Agents (and operators) on other machines: the agent protocol over NATS, beside
the Unix socket.

:class:`NatsListener` serves a :class:`~agentshell.server.server.Server`'s
connections through NATS (:mod:`agentshell.store.nats_pipe`): a client asks on the
session's subject ``agentshell.T.open`` with the subject it listens on, and gets the
one this connection's requests go to. From there a connection is exactly a socket
connection (the same frames, ``hello`` with agent id and token first, the same ops,
pushes and errors), handled by the same server code, with one difference: there is
no peer uid across machines, so the token in ``hello`` is the only proof of who
connects. Give each agent its own NATS user whose permissions allow only its own
subjects (docs/cluster.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

import msgpack  # type: ignore[import-untyped]

from agentshell.store.jetstream import NatsTarget, _connect, session_token
from agentshell.store.nats_pipe import PipeWriter, open_subject, subscribe_reader, up_subject

from .connection import Connection
from .nats_frames import FramePublisher
from .server import Server

log = logging.getLogger(__name__)


class NatsListener:
    """Serve ``server``'s session to clients reaching it through NATS at ``target``."""

    def __init__(
        self, server: Server, target: NatsTarget | str, session: str | None = None
    ) -> None:
        self.server = server
        self.target = NatsTarget(target) if isinstance(target, str) else target
        self.session = session or server.coordinator.session.session_name
        self.token = session_token(self.session)
        self.subject = open_subject(self.token)
        self._nc: Any = None
        self._sub: Any = None
        self._writers: set[PipeWriter] = set()
        self.opened = 0
        self.frames: FramePublisher | None = None

    async def start(self) -> None:
        self._nc = await _connect(self.target)
        self._sub = await self._nc.subscribe(self.subject, cb=self._on_open)
        self.frames = FramePublisher(self._nc, self.token, self.server.coordinator)
        await self.frames.start()
        await self._nc.flush()

    async def _on_open(self, msg: Any) -> None:
        try:
            req = msgpack.unpackb(msg.data, raw=False)
            down = req["down"]
            if not isinstance(down, str) or not down or " " in down:
                raise ValueError("'down' must be a subject")
        except Exception as exc:
            with contextlib.suppress(Exception):
                await msg.respond(msgpack.packb({"ok": False, "error": f"bad open request: {exc}"}))
            return
        conn_id = secrets.token_hex(12)
        up = up_subject(self.token, conn_id)
        reader = await subscribe_reader(self._nc, up, self.server.max_frame + 8)
        writer = PipeWriter(self._nc, down)
        self._writers.add(writer)
        self.opened += 1
        await msg.respond(msgpack.packb({"ok": True, "up": up}))
        task = asyncio.ensure_future(self._handle(reader.stream, writer))

        def done(_t: object) -> None:
            self._writers.discard(writer)
            reader.close()

        task.add_done_callback(done)

    async def _handle(self, reader: asyncio.StreamReader, writer: PipeWriter) -> None:
        """As the server handles a socket connection, less the peer-uid check."""
        server = self.server
        conn = Connection(server, reader, writer)  # type: ignore[arg-type]
        me = asyncio.current_task()
        if me is not None:
            server._handlers.add(me)
            me.add_done_callback(server._handlers.discard)
        server.connections.add(conn)
        try:
            await server._serve(conn)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:  # pragma: no cover - a bug must not take the listener down
            log.exception("NATS connection handler failed")
        finally:
            await server._cleanup(conn)

    async def close(self) -> None:
        """Stop taking connections and end the open ones."""
        if self.frames is not None:
            await self.frames.close()
            self.frames = None
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        for w in list(self._writers):
            w.close()
        for w in list(self._writers):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(w.wait_closed(), 2.0)
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None

    async def __aenter__(self) -> NatsListener:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
