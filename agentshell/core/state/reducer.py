"""The reducer: one event folded into the session state.

``apply_event(state, event)`` is the only function that changes a
:class:`SessionState`. It looks the event's type up in :data:`HANDLERS`, the one
table that maps every event type to the reducer of its family (agents, terminals,
approvals, rules, edits, tasks, docs), then keeps the counters and the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentshell.core import events as ev
from agentshell.core.errors import InvalidEventError

from . import agents, approvals, docs, edits, rules, tasks, terminals
from .model import SessionState
from .records import record_view

Handler = Callable[[SessionState, Any], None]

#: Every event type and the reducer of its family (the only dispatch table).
HANDLERS: dict[str, Handler] = {
    "agent_registered": agents.registered,
    "agent_removed": agents.removed,
    "agent_status_changed": agents.status_changed,
    "command_executed": terminals.command_executed,
    "directory_changed": terminals.directory_changed,
    "file_edited": edits.file_edited,
    "conflict_detected": edits.conflict_detected,
    "conflict_resolved": edits.conflict_resolved,
    "approval_queued": approvals.queued,
    "approval_decided": approvals.decided,
    "approval_executed": approvals.executed,
    "approval_withdrawn": approvals.withdrawn,
    "rule_added": rules.added,
    "rule_revoked": rules.revoked,
    "task_created": tasks.created,
    "task_status_changed": tasks.status_changed,
    "terminal_opened": terminals.opened,
    "terminal_closed": terminals.closed,
    "terminal_resized": terminals.resized,
    "terminal_output": terminals.output,
    "terminal_input": terminals.input_sent,
    "doc_op": docs.doc_op,
}
assert set(HANDLERS) == set(ev.EVENT_TYPES), "every event type needs a reducer case"


def apply_event(state: SessionState, event: ev.Event) -> SessionState:
    """Fold one event into ``state`` (in place) and return it."""
    HANDLERS[event.event_type](state, event)
    state["event_count"] += 1
    state["last_seq"] = event.seq
    if state["event_count"] == 1 and not state["created_at"]:
        state["created_at"] = event.timestamp
    state["last_updated_at"] = event.timestamp
    if event.agent_id in state["agents"] or event.agent_id == ev.HUMAN:
        c = state["clock"]
        c[event.agent_id] = c.get(event.agent_id, 0) + 1
    return state


def fold(events: Any, state: SessionState) -> SessionState:
    """Fold an iterable of events into ``state`` in order."""
    for e in events:
        apply_event(state, e)
    return state


def apply_record(state: SessionState, record: dict[str, Any]) -> SessionState:
    """Fold one stored event record into ``state``: same result as
    ``apply_event(state, event_from_record(record))`` (takes over ``record["p"]``)."""
    if record["t"] not in HANDLERS:
        raise InvalidEventError(f"unknown event type {record['t']!r} in record")
    return apply_event(state, record_view(record))  # type: ignore[arg-type]
