"""Reading a session's JetStream stream as it grows, without leading it.

:class:`StreamFollower` opens the session read-only (newest good snapshot + the
messages after it, as any open does) and then hands out the records of each message
appended since, in order and checked to run on one event after another. A standby
coordinator (:class:`~agentshell.store.jetstream_lease.Standby`) folds them into its
state until it takes over; a remote operator's view (``agentshell tui --nats``)
folds them and shows them live. Neither ever appends.
"""

from __future__ import annotations

from typing import Any

from agentshell.core.state import SessionState

from .jetstream import JetStreamSessionManager, NatsTarget


class StreamFollower:
    """The records appended to ``session_name``'s stream since the last :meth:`read_new`.

    Blocking calls (each runs on the session's own NATS loop); use from one thread."""

    def __init__(self, session_name: str, target: NatsTarget | str) -> None:
        self.session = JetStreamSessionManager(session_name, target, create=False)
        #: The last stream message read, and the seq of the next event expected.
        self.stream_seq = self.session.writer.last_stream_seq
        self.next_event = int(self.session.get_session_state()["last_seq"]) + 1

    def opened_state(self) -> SessionState:
        """The session as of the open (the snapshot + the messages after it)."""
        return self.session.get_session_state()

    def read_new(self) -> list[list[dict[str, Any]]]:
        """The records of every message appended since the last call (one list per
        message; empty when nothing was appended)."""
        s = self.session
        info = s._call(lambda: s._js.stream_info(s.stream))
        end = int(info.state.last_seq)
        if end <= self.stream_seq:
            return []
        batches = list(s._record_batches(self.stream_seq + 1, end, self.next_event))
        self.stream_seq = end
        self.next_event += sum(len(b) for b in batches)
        return batches

    def close(self) -> None:
        self.session.close()
