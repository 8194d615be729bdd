"""The log-backend seam: what a session's event log must offer, whatever stores it.

Two backends implement it:

* the local file log (:class:`agentshell.store.log.EventLog`, the default: framed
  msgpack in ``events.log``, snapshots in ``snapshots/``), opened by
  :class:`agentshell.store.session.SessionManager`;
* NATS JetStream (:class:`agentshell.store.jetstream.JetStreamLog`: one stream per
  session, one message per group-commit round, snapshots in the object store),
  opened by :class:`agentshell.store.jetstream.JetStreamSessionManager`, a
  ``SessionManager`` whose recovery, snapshots and reading go to JetStream.

Both hand out the same session API (append, append_async, append_buffered, flush,
persist_snapshot, replay_from_snapshot, iter_events, state); the persistence tests
in ``tests/store/test_backends.py`` run once against each. :func:`open_session`
picks the backend from its arguments.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from agentshell.store.jetstream import NatsTarget
    from agentshell.store.session import SessionManager


class LogWriter(Protocol):
    """The writing half of a backend, as :class:`SessionManager` drives it.

    Bodies arrive in sequence order (the session assigns seqs under its lock). An
    append is acknowledged only when its record is durable: fdatasync'd (file), or
    acknowledged by JetStream running with ``sync_interval: always``. After a write
    failure the writer is failed for good (``failed``); reopen the session.
    """

    failed_at: float | None

    @property
    def failed(self) -> BaseException | None: ...

    def append(self, body: bytes | None, *, unlock: Any = None) -> None: ...

    def enqueue_async(
        self, body: bytes, loop: asyncio.AbstractEventLoop, result: Any = None
    ) -> asyncio.Future[Any]: ...

    def append_buffered(self, body: bytes) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


def open_session(
    session_name: str,
    persist_dir: str | os.PathLike[str] | None = None,
    *,
    nats: NatsTarget | str | None = None,
    create: bool = True,
    keep_snapshots: int = 3,
) -> SessionManager:
    """A session on the local file log (``persist_dir``), or on JetStream when
    ``nats`` (a URL or a :class:`NatsTarget`) is given."""
    if nats is not None:
        from agentshell.store.jetstream import JetStreamSessionManager

        return JetStreamSessionManager(
            session_name, nats, create=create, keep_snapshots=keep_snapshots
        )
    from agentshell.store.session import SessionManager

    return SessionManager(session_name, persist_dir, create=create, keep_snapshots=keep_snapshots)
