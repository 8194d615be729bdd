"""Connect an :class:`~agentshell.client.client.AgentClient` to a session through
NATS instead of the Unix socket (the server side: :mod:`agentshell.server.nats_transport`).

``await connect_nats(url, "my_session", "coder", token)`` gives the same client, the
same calls and the same errors as ``AgentClient.connect(socket, "coder", token)``.
``inbox`` is the subject prefix the client listens under (its connection's subject
and its request replies): an agent whose NATS user may subscribe only to
``_INBOX_coder.>`` passes ``inbox="_INBOX_coder"``. A lost
connection is not dialled again (``reconnect_for`` is socket-only for now).
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from typing import Any

import msgpack  # type: ignore[import-untyped]

from agentshell.coordinator.wire import MAX_FRAME
from agentshell.core.errors import AgentShellError
from agentshell.store.jetstream import NatsTarget, _connect, session_token
from agentshell.store.nats_pipe import PipeWriter, open_subject, subscribe_reader

from .client import AgentClient


class NatsUnreachable(AgentShellError, ConnectionError):
    """No server of the session answers on NATS."""


class _NatsClient(AgentClient):
    """An AgentClient whose stream is a NATS pipe; closing also disconnects NATS."""

    _nc: Any = None

    async def close(self) -> None:
        await super().close()
        if self._nc is not None:
            nc, self._nc = self._nc, None
            with contextlib.suppress(Exception):
                await nc.close()


async def connect_nats(
    target: NatsTarget | str,
    session: str,
    agent_id: str | None = None,
    token: str | None = None,
    *,
    operator: bool = False,
    inbox: str = "_INBOX",
    timeout: float = 5.0,
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
        down = f"{inbox}.{secrets.token_hex(12)}"
        reader = await subscribe_reader(nc, down, MAX_FRAME + 8)
        try:
            msg = await nc.request(
                open_subject(session_token(session)),
                msgpack.packb({"down": down}),
                timeout=timeout,
            )
        except Exception as exc:
            raise NatsUnreachable(
                f"no server of session {session!r} answers through NATS at {target.url} ({exc!r})"
            ) from exc
        reply = msgpack.unpackb(msg.data, raw=False)
        if not reply.get("ok"):
            raise NatsUnreachable(
                f"session {session!r} refused the connection: {reply.get('error')}"
            )
        writer = PipeWriter(nc, reply["up"])
        c = _NatsClient(reader.stream, writer)  # type: ignore[arg-type]
        c._nc = nc
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
    return c
