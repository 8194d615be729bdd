"""Session state and the pure reducer that folds events into it.

``apply_event(state, event)`` is the only function that changes a
:class:`SessionState`. It is deterministic (no clock, no randomness, no I/O): the
same events folded from the same starting state give the same state, which is what
makes replay and snapshot + tail replay exact. For speed it updates ``state`` in
place and returns it; callers that hand state out copy it first (``copy_state``).

``state_to_plain`` / ``state_from_plain`` convert to and from msgpack-ready values
for snapshots.

The modules, each importing only those above it in this list:

* ``model``: the info records, :class:`SessionState`, ``new_state``, ``copy_state``;
* one reducer module per event family: ``agents``, ``terminals`` (and the commands
  and directory changes in them), ``approvals``, ``rules``, ``edits`` (and
  conflicts), ``tasks``, ``docs`` (OT);
* ``records``: stored records read as events (:class:`RecordView`);
* ``reducer``: ``HANDLERS``, the one table from event type to reducer, and
  ``apply_event`` / ``fold`` / ``apply_record``;
* ``bulk``: the replay fast path (``fold_records``, ``fold_batches``);
* ``plain``: snapshots' plain values.

A new event type gets its reducer in its family's module, one line in
``reducer.HANDLERS`` and, when replay folds it often, a case in ``bulk``.
"""

from __future__ import annotations

from .bulk import FoldStats, fold_batches, fold_records
from .model import (
    RECENT_COMMANDS,
    RECENT_EDITS_PER_FILE,
    AgentInfo,
    ApprovalInfo,
    CommandRecord,
    ConflictInfo,
    DocInfo,
    EditInfo,
    RuleInfo,
    SessionState,
    TaskInfo,
    TerminalInfo,
    copy_state,
    new_state,
)
from .plain import state_from_plain, state_to_plain
from .records import RecordView, record_view
from .reducer import apply_event, apply_record, fold

__all__ = [
    "RECENT_COMMANDS",
    "RECENT_EDITS_PER_FILE",
    "AgentInfo",
    "ApprovalInfo",
    "CommandRecord",
    "ConflictInfo",
    "DocInfo",
    "EditInfo",
    "FoldStats",
    "RecordView",
    "RuleInfo",
    "SessionState",
    "TaskInfo",
    "TerminalInfo",
    "apply_event",
    "apply_record",
    "copy_state",
    "fold",
    "fold_batches",
    "fold_records",
    "new_state",
    "record_view",
    "state_from_plain",
    "state_to_plain",
]
