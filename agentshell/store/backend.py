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
picks the backend from its arguments. The writing half of a backend,
:class:`LogWriter`, lives in :mod:`agentshell.store.writer` (below the session that
drives it; this module, which opens sessions, is above it) and is re-exported here.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from agentshell.store.writer import LogWriter

if TYPE_CHECKING:
    from agentshell.store.jetstream import NatsTarget
    from agentshell.store.session import SessionManager


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


__all__ = ["LogWriter", "open_session"]
