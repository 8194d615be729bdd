"""The session state: its frozen info records, :class:`SessionState`, and how a
reducer makes a changed info (:func:`replace_info`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypedDict

RECENT_COMMANDS = 100


#: How many recent edits per file are kept for conflict detection.
RECENT_EDITS_PER_FILE = 64


@dataclass(frozen=True, slots=True)
class AgentInfo:
    agent_id: str
    capabilities: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    registered_at: float = 0.0
    status: str = "registered"
    last_command: str = ""
    token_hash: str = ""


@dataclass(frozen=True, slots=True)
class CommandRecord:
    command: str
    agent_id: str
    exit_code: int | None
    terminal: str
    cwd: str
    duration: float
    timestamp: float
    seq: int
    approval_id: str = ""
    output: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalInfo:
    """A command waiting for (or holding) a decision.

    ``status``: queued, approved, executing, interrupted. Finished approvals
    (executed, failed, rejected, expired) leave ``pending_approvals``.
    """

    approval_id: str
    agent_id: str
    command: str
    terminal: str
    cwd: str
    queued_at: float
    seq: int
    status: str = "queued"
    expires_at: float | None = None
    risk: tuple[str, ...] = ()
    approved_command: str | None = None
    decided_by: str = ""
    #: The agent runs it itself once approved; the coordinator runs nothing.
    external: bool = False
    #: False: approve or reject only (the queue offers no edit).
    editable: bool = True
    #: Why nobody waits for its outcome ("" while its agent waits or may come back):
    #: withdrawn by its agent, or its connection closed and it did not come back.
    #: No rule approves it; the human deciding it is told nobody gets the output.
    withdrawn: str = ""


@dataclass(frozen=True, slots=True)
class ConflictInfo:
    conflict_id: str
    file_path: str
    agents: tuple[str, ...]
    ranges: tuple[tuple[int, int], ...]
    overlap: tuple[int, int]
    edit_ids: tuple[str, ...]
    detected_at: float
    seq: int


@dataclass(frozen=True, slots=True)
class TaskInfo:
    task_id: str
    description: str
    created_by: str
    created_at: float
    status: str = "open"
    assignee: str = ""
    suggested_agents: tuple[tuple[str, float], ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class RuleInfo:
    rule_id: str
    action: str
    kind: str
    pattern: str
    scope: str
    scope_value: str
    by: str
    created_at: float
    seq: int


@dataclass(frozen=True, slots=True)
class TerminalInfo:
    name: str
    cwd: str
    columns: int
    lines: int
    shell: str
    open: bool = True
    output_bytes: int = 0


@dataclass(frozen=True, slots=True)
class EditInfo:
    """A recent file edit, kept for conflict detection."""

    edit_id: str
    agent_id: str
    file_path: str
    ranges: tuple[tuple[int, int], ...]
    clock: dict[str, int]
    old_hash: str
    new_hash: str
    seq: int
    timestamp: float


@dataclass(frozen=True, slots=True)
class DocInfo:
    """A shared text document (OT): its text and revision; ops live in the log."""

    doc: str
    text: str = ""
    revision: int = 0
    clock: dict[str, int] = field(default_factory=dict)


class SessionState(TypedDict):
    session_id: str
    agents: dict[str, AgentInfo]
    current_working_dirs: dict[str, str]
    tasks: dict[str, TaskInfo]
    recent_commands: list[CommandRecord]
    pending_approvals: dict[str, ApprovalInfo]
    active_conflicts: dict[str, ConflictInfo]
    event_count: int
    created_at: float
    last_updated_at: float
    last_seq: int
    rules: dict[str, RuleInfo]
    terminals: dict[str, TerminalInfo]
    file_edits: dict[str, list[EditInfo]]
    docs: dict[str, DocInfo]
    clock: dict[str, int]


def new_state(session_id: str, created_at: float = 0.0) -> SessionState:
    return SessionState(
        session_id=session_id,
        agents={},
        current_working_dirs={},
        tasks={},
        recent_commands=[],
        pending_approvals={},
        active_conflicts={},
        event_count=0,
        created_at=created_at,
        last_updated_at=created_at,
        last_seq=0,
        rules={},
        terminals={},
        file_edits={},
        docs={},
        clock={},
    )


def copy_state(state: SessionState) -> SessionState:
    """A copy safe to hand out: containers are new, the frozen infos are shared."""
    return SessionState(
        session_id=state["session_id"],
        agents=dict(state["agents"]),
        current_working_dirs=dict(state["current_working_dirs"]),
        tasks=dict(state["tasks"]),
        recent_commands=list(state["recent_commands"]),
        pending_approvals=dict(state["pending_approvals"]),
        active_conflicts=dict(state["active_conflicts"]),
        event_count=state["event_count"],
        created_at=state["created_at"],
        last_updated_at=state["last_updated_at"],
        last_seq=state["last_seq"],
        rules=dict(state["rules"]),
        terminals=dict(state["terminals"]),
        file_edits={k: list(v) for k, v in state["file_edits"].items()},
        docs=dict(state["docs"]),
        clock=dict(state["clock"]),
    )


_SLOT_NAMES: dict[type, tuple[str, ...]] = {}


def replace_info(obj: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` for the frozen, slotted info classes, several times faster.

    Infos are shared between copies of the state, so a change always makes a new one.
    """
    cls = type(obj)
    names = _SLOT_NAMES.get(cls)
    if names is None:
        names = _SLOT_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    new = object.__new__(cls)
    set_ = object.__setattr__
    for name in names:
        set_(new, name, changes[name] if name in changes else getattr(obj, name))
    return new
