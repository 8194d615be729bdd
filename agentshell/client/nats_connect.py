"""Connect an :class:`~agentshell.client.client.AgentClient` to a session through
NATS instead of the Unix socket (the server side: :mod:`agentshell.server.nats_transport`).

``await connect_nats(url, "my_session", "coder", token)`` gives the same client, the
same calls and the same errors as ``AgentClient.connect(socket, "coder", token)``.
``inbox`` is the subject prefix the client listens under (its connection's subject
and its request replies): an agent whose NATS user may subscribe only to
``_INBOX_coder.>`` passes ``inbox="_INBOX_coder"``.

A lost connection (the server stopped, its machine went away and nothing was heard
for a few seconds, a message lost in transit) is opened again for up to
``reconnect_for`` seconds, through whichever process serves the session by then (a
standby that took over): the client says hello and subscribes again, and a
``result`` it waits for goes on, as after a socket reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]

from agentshell.coordinator.wire import MAX_FRAME
from agentshell.core.errors import AgentShellError
from agentshell.store.jetstream import NatsTarget, _connect, session_token
from agentshell.store.nats_pipe import PipeReader, PipeWriter, open_subject, subscribe_reader

from .client import RECONNECT_FOR, AgentClient, ConnectionLost, ServerError


class NatsUnreachable(AgentShellError, ConnectionError):
    """No server of the session answers on NATS."""


async def _open_pipe(
    nc: Any, session: str, inbox: str, timeout: float, url: str
) -> tuple[PipeReader, PipeWriter]:
    down = f"{inbox}.{secrets.token_hex(12)}"
    reader = await subscribe_reader(nc, down, MAX_FRAME + 8)
    try:
        try:
            msg = await nc.request(
                open_subject(session_token(session)), msgpack.packb({"down": down}), timeout=timeout
            )
        except Exception as exc:
            raise NatsUnreachable(
                f"no server of session {session!r} answers through NATS at {url} ({exc!r})"
            ) from exc
        reply = msgpack.unpackb(msg.data, raw=False)
        if not reply.get("ok"):
            raise NatsUnreachable(
                f"session {session!r} refused the connection: {reply.get('error')}"
            )
    except BaseException:
        reader.close()
        raise
    return reader, PipeWriter(nc, reply["up"])


class _NatsClient(AgentClient):
    """An AgentClient whose stream is a NATS pipe; closing also disconnects NATS."""

    _nc: Any = None
    _pipe: PipeReader | None = None
    _where: tuple[str, str, float, str] = ("", "_INBOX", 5.0, "")

    async def close(self) -> None:
        await super().close()
        if self._pipe is not None:
            self._pipe.close()
        if self._nc is not None:
            nc, self._nc = self._nc, None
            with contextlib.suppress(Exception):
                await nc.close()

    async def _reconnect(self, lost: Exception) -> None:
        """Open a new pipe to whoever serves the session now, say hello again,
        subscribe again; give up after ``reconnect_for`` seconds."""
        session, inbox, timeout, url = self._where
        loop = asyncio.get_running_loop()
        end = loop.time() + self.reconnect_for
        delay = 0.1
        while not self._closed:
            try:
                if self._pipe is not None:
                    self._pipe.close()
                pipe, writer = await _open_pipe(self._nc, session, inbox, timeout, url)
                self._pipe, self._reader, self._writer = pipe, pipe.stream, writer  # type: ignore[assignment]
                self._reader_task = asyncio.ensure_future(self._read_loop())
                reply = await self._send("hello", self._hello)
                self._said_hello(reply)
                self.reconnects += 1
                if self._subscribed is not False:
                    await self._send("subscribe", {"types": self._subscribed})
                return
            except ServerError as exc:  # refused (a removed agent): no point retrying
                self._end(ConnectionLost(f"{lost}; reconnecting was refused: {exc}"))
                return
            except Exception as exc:
                why: Exception = exc
            if loop.time() + delay > end:
                self._end(
                    ConnectionLost(
                        f"{lost}; could not reconnect within {self.reconnect_for:g} s: {why}"
                    )
                )
                return
            await asyncio.sleep(delay)  # back off while a standby takes over
            delay = min(delay * 2, 1.0)


async def connect_nats(
    target: NatsTarget | str,
    session: str,
    agent_id: str | None = None,
    token: str | None = None,
    *,
    operator: bool = False,
    inbox: str = "_INBOX",
    timeout: float = 5.0,
    reconnect_for: float = RECONNECT_FOR,
) -> AgentClient:
    """Open a connection to ``session``'s server through NATS and say hello (as the
    agent ``agent_id`` with its token, or as the operator with the operator token)."""
    if operator:
        if token is None:
            raise ValueError("an operator connection over NATS needs the operator token")
        hello: dict[str, Any] = {"role": "operator", "token": token}
    else:
        if agent_id is None or token is None:
            raise ValueError("an agent connection needs agent_id and token")
        hello = {"agent": agent_id, "token": token}
    target = NatsTarget(target) if isinstance(target, str) else target
    if target.inbox is None and inbox != "_INBOX":
        target = dataclasses.replace(target, inbox=inbox)
    inbox = target.inbox or inbox
    nc = await _connect(target)
    try:
        pipe, writer = await _open_pipe(nc, session, inbox, timeout, target.url)
        c = _NatsClient(pipe.stream, writer)  # type: ignore[arg-type]
        c._nc, c._pipe = nc, pipe
        c._where = (session, inbox, timeout, target.url)
    except BaseException:
        with contextlib.suppress(Exception):
            await nc.close()
        raise
    try:
        said = await c.request("hello", **hello)
    except BaseException:
        await c.close()
        raise
    c._said_hello(said)
    # what a reconnect says; a label where the socket client keeps its path
    c._path, c._hello, c.reconnect_for = Path(f"nats:{session}"), hello, reconnect_for
    return c
