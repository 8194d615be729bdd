"""Session state and the pure reducer that folds events into it.

``apply_event(state, event)`` is the only function that changes a
:class:`SessionState`. It is deterministic (no clock, no randomness, no I/O): the
same events folded from the same starting state give the same state, which is what
makes replay and snapshot + tail replay exact. For speed it updates ``state`` in
place and returns it; callers that hand state out copy it first (``copy_state``).

``state_to_plain`` / ``state_from_plain`` convert to and from msgpack-ready values
for snapshots.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
from collections import _count_elements, deque  # type: ignore[attr-defined]
from dataclasses import dataclass, field
from typing import Any, TypedDict

from agentshell.core import events as ev
from agentshell.core.clock import merge
from agentshell.core.errors import InvalidEventError

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


# ------------------------------------------------------------------------ reducer

_SLOT_NAMES: dict[type, tuple[str, ...]] = {}


def _replace(obj: Any, **changes: Any) -> Any:
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


def _agent_registered(s: SessionState, e: Any) -> None:
    old = s["agents"].get(e.agent_id)
    s["agents"][e.agent_id] = AgentInfo(
        agent_id=e.agent_id,
        capabilities=tuple(e.capabilities),
        metadata=dict(e.metadata),
        name=e.name or (old.name if old else ""),
        registered_at=old.registered_at if old else e.timestamp,
        status=old.status if old else "registered",
        last_command=old.last_command if old else "",
        token_hash=e.token_hash or (old.token_hash if old else ""),
    )
    s["current_working_dirs"].setdefault(e.agent_id, "/")


def _agent_removed(s: SessionState, e: Any) -> None:
    s["agents"].pop(e.agent_id, None)


def _agent_status(s: SessionState, e: Any) -> None:
    a = s["agents"].get(e.agent_id)
    if a is not None:
        s["agents"][e.agent_id] = _replace(a, status=e.status)


def _command_record(e: Any) -> CommandRecord:
    return CommandRecord(
        command=e.command,
        agent_id=e.agent_id,
        exit_code=e.exit_code,
        terminal=e.terminal,
        cwd=e.cwd,
        duration=e.duration,
        timestamp=e.timestamp,
        seq=e.seq,
        approval_id=e.approval_id,
        output=e.output[-4096:],
    )


def _command_executed(s: SessionState, e: Any) -> None:
    rec = _command_record(e)
    cmds = s["recent_commands"]
    cmds.append(rec)
    if len(cmds) > RECENT_COMMANDS:
        del cmds[: len(cmds) - RECENT_COMMANDS]
    a = s["agents"].get(e.agent_id)
    if a is not None:
        s["agents"][e.agent_id] = _replace(a, last_command=e.command)


def _directory_changed(s: SessionState, e: Any) -> None:
    if e.terminal:
        t = s["terminals"].get(e.terminal)
        if t is not None:
            s["terminals"][e.terminal] = _replace(t, cwd=e.path)
    else:
        s["current_working_dirs"][e.agent_id] = e.path


def _edit_info(e: Any) -> EditInfo:
    return EditInfo(
        edit_id=e.event_id,
        agent_id=e.agent_id,
        file_path=e.file_path,
        ranges=tuple((int(a), int(b)) for a, b in e.ranges),
        clock=dict(e.clock),
        old_hash=e.old_hash,
        new_hash=e.new_hash,
        seq=e.seq,
        timestamp=e.timestamp,
    )


def _file_edited(s: SessionState, e: Any) -> None:
    edits = s["file_edits"].setdefault(e.file_path, [])
    edits.append(_edit_info(e))
    if len(edits) > RECENT_EDITS_PER_FILE:
        del edits[: len(edits) - RECENT_EDITS_PER_FILE]


def _conflict_detected(s: SessionState, e: Any) -> None:
    s["active_conflicts"][e.conflict_id] = ConflictInfo(
        conflict_id=e.conflict_id,
        file_path=e.file_path,
        agents=tuple(e.agents),
        ranges=tuple((int(a), int(b)) for a, b in e.ranges),
        overlap=(int(e.overlap[0]), int(e.overlap[1])),
        edit_ids=tuple(e.edit_ids),
        detected_at=e.timestamp,
        seq=e.seq,
    )


def _conflict_resolved(s: SessionState, e: Any) -> None:
    s["active_conflicts"].pop(e.conflict_id, None)


def _approval_info(e: Any) -> ApprovalInfo:
    return ApprovalInfo(
        approval_id=e.approval_id,
        agent_id=e.agent_id,
        command=e.command,
        terminal=e.terminal,
        cwd=e.cwd,
        queued_at=e.timestamp,
        seq=e.seq,
        expires_at=e.expires_at,
        risk=tuple(e.risk),
    )


def _approval_queued(s: SessionState, e: Any) -> None:
    s["pending_approvals"][e.approval_id] = _approval_info(e)
    a = s["agents"].get(e.agent_id)
    if a is not None:
        s["agents"][e.agent_id] = _replace(a, status="waiting")


_FINAL_DECISIONS = frozenset(("rejected", "expired"))


def _approval_decided(s: SessionState, e: Any) -> None:
    p = s["pending_approvals"].get(e.approval_id)
    if p is None:
        return
    if e.decision in _FINAL_DECISIONS:
        _approval_done(s, e.approval_id)
        return
    s["pending_approvals"][e.approval_id] = _replace(
        p,
        status=e.decision,
        approved_command=e.command if e.command is not None else p.approved_command,
        decided_by=e.by,
    )


def _approval_executed(s: SessionState, e: Any) -> None:
    p = s["pending_approvals"].get(e.approval_id)
    if p is None:
        return
    if e.status == "executing":
        s["pending_approvals"][e.approval_id] = _replace(p, status="executing")
    else:
        _approval_done(s, e.approval_id)


def _approval_done(s: SessionState, approval_id: str) -> None:
    """An approval ended: it leaves the queue, and its shared text goes with it (no op
    is accepted on it any more; a long session would keep one per command ever)."""
    del s["pending_approvals"][approval_id]
    s["docs"].pop(ev.approval_doc(approval_id), None)


def _rule_added(s: SessionState, e: Any) -> None:
    s["rules"][e.rule_id] = RuleInfo(
        rule_id=e.rule_id,
        action=e.action,
        kind=e.kind,
        pattern=e.pattern,
        scope=e.scope,
        scope_value=e.scope_value,
        by=e.by,
        created_at=e.timestamp,
        seq=e.seq,
    )


def _rule_revoked(s: SessionState, e: Any) -> None:
    s["rules"].pop(e.rule_id, None)


def _task_created(s: SessionState, e: Any) -> None:
    s["tasks"][e.task_id] = TaskInfo(
        task_id=e.task_id,
        description=e.description,
        created_by=e.created_by,
        created_at=e.timestamp,
        suggested_agents=tuple((str(a), float(sc)) for a, sc in e.suggested_agents),
    )


def _task_status(s: SessionState, e: Any) -> None:
    t = s["tasks"].get(e.task_id)
    if t is not None:
        s["tasks"][e.task_id] = _replace(
            t, status=e.status, assignee=e.assignee or t.assignee, note=e.note
        )


def _terminal_opened(s: SessionState, e: Any) -> None:
    old = s["terminals"].get(e.terminal)
    s["terminals"][e.terminal] = TerminalInfo(
        name=e.terminal,
        cwd=e.cwd,
        columns=e.columns,
        lines=e.lines,
        shell=e.shell,
        output_bytes=old.output_bytes if old else 0,
    )


def _terminal_closed(s: SessionState, e: Any) -> None:
    t = s["terminals"].get(e.terminal)
    if t is not None:
        s["terminals"][e.terminal] = _replace(t, open=False)


def _terminal_resized(s: SessionState, e: Any) -> None:
    t = s["terminals"].get(e.terminal)
    if t is not None:
        s["terminals"][e.terminal] = _replace(t, columns=e.columns, lines=e.lines)


def _terminal_output(s: SessionState, e: Any) -> None:
    t = s["terminals"].get(e.terminal)
    if t is not None:
        s["terminals"][e.terminal] = _replace(t, output_bytes=t.output_bytes + len(e.data))


def _ignore(s: SessionState, e: Any) -> None:
    return None


def _doc_op(s: SessionState, e: Any) -> None:
    from agentshell.core import ot  # local: ot is a sibling pure module

    d = s["docs"].get(e.doc) or DocInfo(doc=e.doc)
    s["docs"][e.doc] = DocInfo(
        doc=e.doc,
        text=ot.apply(d.text, ot.from_wire(e.op)),
        revision=e.revision,
        clock=merge(d.clock, e.clock),
    )


_HANDLERS = {
    "agent_registered": _agent_registered,
    "agent_removed": _agent_removed,
    "agent_status_changed": _agent_status,
    "command_executed": _command_executed,
    "directory_changed": _directory_changed,
    "file_edited": _file_edited,
    "conflict_detected": _conflict_detected,
    "conflict_resolved": _conflict_resolved,
    "approval_queued": _approval_queued,
    "approval_decided": _approval_decided,
    "approval_executed": _approval_executed,
    "rule_added": _rule_added,
    "rule_revoked": _rule_revoked,
    "task_created": _task_created,
    "task_status_changed": _task_status,
    "terminal_opened": _terminal_opened,
    "terminal_closed": _terminal_closed,
    "terminal_resized": _terminal_resized,
    "terminal_output": _terminal_output,
    "terminal_input": _ignore,
    "doc_op": _doc_op,
}
assert set(_HANDLERS) == set(ev.EVENT_TYPES), "every event type needs a reducer case"


def apply_event(state: SessionState, event: ev.Event) -> SessionState:
    """Fold one event into ``state`` (in place) and return it."""
    _HANDLERS[event.event_type](state, event)
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


# --------------------------------------------------------------- plain conversion

_INFO_TYPES: dict[str, Any] = {
    "agents": AgentInfo,
    "tasks": TaskInfo,
    "pending_approvals": ApprovalInfo,
    "active_conflicts": ConflictInfo,
    "rules": RuleInfo,
    "terminals": TerminalInfo,
    "docs": DocInfo,
}


def _plain(v: Any) -> Any:
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: _plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, tuple | list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def state_to_plain(state: SessionState) -> dict[str, Any]:
    """msgpack-ready dict of ``state`` (for snapshots)."""
    return {k: _plain(v) for k, v in state.items()}


def _tuples(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_tuples(x) for x in v)
    return v


def _info(cls: Any, d: dict[str, Any]) -> Any:
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in d:
            continue
        val = d[f.name]
        kwargs[f.name] = _tuples(val) if isinstance(val, list) else val
    return cls(**kwargs)


def state_from_plain(d: dict[str, Any]) -> SessionState:
    """Inverse of :func:`state_to_plain`."""
    s = new_state(d["session_id"], d.get("created_at", 0.0))
    for key, cls in _INFO_TYPES.items():
        s[key] = {k: _info(cls, v) for k, v in d.get(key, {}).items()}  # type: ignore[literal-required]
    s["current_working_dirs"] = dict(d.get("current_working_dirs", {}))
    s["recent_commands"] = [_info(CommandRecord, c) for c in d.get("recent_commands", [])]
    s["file_edits"] = {
        path: [_info(EditInfo, e) for e in edits] for path, edits in d.get("file_edits", {}).items()
    }
    s["event_count"] = d.get("event_count", 0)
    s["last_updated_at"] = d.get("last_updated_at", 0.0)
    s["last_seq"] = d.get("last_seq", 0)
    s["clock"] = dict(d.get("clock", {}))
    # a snapshot written before ended approvals dropped their shared text still has it
    for doc in list(s["docs"]):
        approval_id = ev.approval_of_doc(doc)
        if approval_id is not None and approval_id not in s["pending_approvals"]:
            del s["docs"][doc]
    return s


class RecordView:
    """Attribute access to a stored record, for the reducer's handlers.

    Replay folds records without building event dataclasses: the record's payload
    map becomes the view's ``__dict__`` with the header added (``event_type``,
    ``seq``, ``event_id``, ``timestamp``, ``agent_id``, ``clock``). A payload field
    missing from an older record reads as the event class's default.
    """

    event_type: str
    seq: int
    event_id: str
    timestamp: float
    agent_id: str
    clock: dict[str, int]

    def __getattr__(self, name: str) -> Any:
        cls = ev.EVENT_TYPES[self.__dict__["event_type"]]
        for f in dataclasses.fields(cls):
            if f.name == name:
                if f.default is not dataclasses.MISSING:
                    return f.default
                if f.default_factory is not dataclasses.MISSING:
                    return f.default_factory()
        raise AttributeError(name)


def record_view(record: dict[str, Any]) -> RecordView:
    """A :class:`RecordView` of ``record`` (takes over ``record["p"]``)."""
    p = record["p"]
    p["event_type"] = record["t"]
    p["seq"] = record["s"]
    p["event_id"] = record["i"]
    p["timestamp"] = record["ts"]
    p["agent_id"] = record["a"]
    p["clock"] = record["c"]
    v = object.__new__(RecordView)
    v.__dict__ = p
    return v


def apply_record(state: SessionState, record: dict[str, Any]) -> SessionState:
    """Fold one stored event record into ``state``: same result as
    ``apply_event(state, event_from_record(record))`` (takes over ``record["p"]``)."""
    if record["t"] not in _HANDLERS:
        raise InvalidEventError(f"unknown event type {record['t']!r} in record")
    return apply_event(state, record_view(record))  # type: ignore[arg-type]


@dataclass
class FoldStats:
    """What :func:`fold_records` folded: count, first/last seq, largest timestamp."""

    count: int = 0
    first_seq: int = 0
    last_seq: int = 0
    max_ts: float = 0.0


#: Slow-path event types whose handlers read or replace AgentInfo / TerminalInfo:
#: the bulk fold writes its deferred agent / terminal changes back before them.
_AGENT_EVENTS = frozenset(("agent_registered", "agent_removed", "agent_status_changed"))
_APPROVAL_EVENTS = frozenset(("approval_queued", "approval_decided", "approval_executed"))
_TERMINAL_EVENTS = frozenset(
    ("terminal_opened", "terminal_closed", "terminal_resized", "directory_changed")
)


class _BulkFold:
    """The working representation of :func:`fold_records`.

    The hot event types (terminal output, commands, cwd changes, file edits,
    approvals) are folded into cheap mutable forms; the frozen infos are built once,
    by the same constructors :func:`apply_event` uses, when the fold ends (or, for
    agent and terminal infos, before a slow-path event that reads them):

    * ``cmds``: the last ``RECENT_COMMANDS`` command records, a bounded deque (as
      ``(seq, raw)`` when the list has a ``raw``, like the edits below);
    * ``edits``: per file, the last ``RECENT_EDITS_PER_FILE`` edits, as ``(seq,
      raw)`` when the list of records has a ``raw`` (the bytes it was decoded from,
      see ``RecordBatch`` in the store: the few edits still kept at the end are
      decoded again), else as ``(event_id, agent, ranges, clock, old_hash,
      new_hash, seq, timestamp)`` (what :class:`EditInfo` takes). Either way the
      record itself is freed right away, not thousands of records later (cold);
    * ``approvals``: approvals queued during this fold, as
      ``[fields, status, approved_command, decided_by]`` (``fields`` what
      :class:`ApprovalInfo` takes, in its order), in queue order (decided or
      finished ones change or leave in place, as in ``pending_approvals``);
    * ``last_command`` / ``waiting``: deferred ``AgentInfo`` changes;
    * ``output``: bytes of terminal output per terminal not yet added to its info.
    """

    __slots__ = (
        "approvals",
        "clock_from",
        "cmds",
        "edits",
        "last_command",
        "output",
        "state",
        "stopped_at",
        "waiting",
    )

    def __init__(self, state: SessionState) -> None:
        self.state = state
        self.cmds: deque[Any] = deque(maxlen=RECENT_COMMANDS)
        self.edits: dict[str, deque[tuple[Any, ...]]] = {}
        self.approvals: dict[str, list[Any]] = {}
        self.last_command: dict[str, str] = {}
        self.waiting: dict[str, None] = {}
        self.output: dict[str, int] = {}
        #: Progress in the list being folded (see _fold_list).
        self.clock_from = 0
        self.stopped_at = 0

    def flush_agents(self) -> None:
        agents = self.state["agents"]
        for a, cmd in self.last_command.items():
            info = agents.get(a)
            if info is not None:
                if a in self.waiting:
                    agents[a] = _replace(info, last_command=cmd, status="waiting")
                else:
                    agents[a] = _replace(info, last_command=cmd)
        for a in self.waiting:
            info = agents.get(a)
            if info is not None and a not in self.last_command:
                agents[a] = _replace(info, status="waiting")
        self.last_command.clear()
        self.waiting.clear()

    def flush_terminals(self) -> None:
        terminals = self.state["terminals"]
        for name, n in self.output.items():
            t = terminals[name]
            terminals[name] = _replace(t, output_bytes=t.output_bytes + n)
        self.output.clear()

    def flush_cmds(self) -> None:
        if self.cmds:
            out = self.state["recent_commands"]
            again: dict[int, dict[int, dict[str, Any]]] = {}
            out.extend(_command_record(record_view(_again(r, again))) for r in self.cmds)
            if len(out) > RECENT_COMMANDS:
                del out[: len(out) - RECENT_COMMANDS]
            self.cmds.clear()

    def flush_edits(self) -> None:
        if not self.edits:
            return
        file_edits = self.state["file_edits"]
        again: dict[int, dict[int, dict[str, Any]]] = {}  # id(raw) -> seq -> record
        for path, items in self.edits.items():
            lst = file_edits.setdefault(path, [])
            for item in items:
                if len(item) == 2:  # (seq, raw): the record is decoded again
                    lst.append(_edit_info(record_view(_again(item, again))))
                    continue
                i, a, ranges, clock, old, new, seq, ts = item
                lst.append(
                    EditInfo(
                        edit_id=i,
                        agent_id=a,
                        file_path=path,
                        ranges=tuple((int(x), int(y)) for x, y in ranges),
                        clock=dict(clock),
                        old_hash=old,
                        new_hash=new,
                        seq=seq,
                        timestamp=ts,
                    )
                )
            if len(lst) > RECENT_EDITS_PER_FILE:
                del lst[: len(lst) - RECENT_EDITS_PER_FILE]
        self.edits.clear()

    def flush_approvals(self) -> None:
        if self.approvals:
            pending = self.state["pending_approvals"]
            for aid, (f, status, command, by) in self.approvals.items():
                pending[aid] = ApprovalInfo(
                    approval_id=f[0],
                    agent_id=f[1],
                    command=f[2],
                    terminal=f[3],
                    cwd=f[4],
                    queued_at=f[5],
                    seq=f[6],
                    status=status,
                    expires_at=f[7],
                    risk=tuple(f[8]),
                    approved_command=command,
                    decided_by=by,
                )
            self.approvals.clear()

    def flush(self) -> None:
        """Write everything deferred into the state (the fold can go on after)."""
        self.flush_agents()
        self.flush_terminals()
        self.flush_cmds()
        self.flush_edits()
        self.flush_approvals()


def _again(item: Any, again: dict[int, dict[int, dict[str, Any]]]) -> dict[str, Any]:
    """The record of a kept ``(seq, raw)`` (decoded again, once per raw; ``again``
    caches them by ``id(raw)``), or ``item`` itself when it is a record."""
    if type(item) is dict:
        return item
    seq, raw = item
    by_seq = again.get(id(raw))
    if by_seq is None:
        by_seq = again[id(raw)] = {r["s"]: r for r in raw.decode()}
    return by_seq[seq]


def fold_records(state: SessionState, records: Any, max_ts: float = 0.0) -> FoldStats:
    """Fold stored records in order: the replay fast path (a bulk fold).

    Same result as :func:`apply_record` on each, in the same order (takes over each
    record's payload map), but the common event types go into the mutable working
    form of :class:`_BulkFold` and their frozen infos are built once at the end, so
    a record costs a few dict operations. ``state`` is complete when this returns,
    also when it raises (then it holds every record before the bad one). Returns
    the count, the first and last seq and the largest timestamp seen (starting
    from ``max_ts``). :func:`fold_batches` is the same for records in lists.
    """
    if isinstance(records, list):
        return fold_batches(state, (records,), max_ts)
    it = iter(records)
    chunks = iter(lambda: list(itertools.islice(it, _CHUNK)), [])
    return fold_batches(state, chunks, max_ts)


#: Records per list when fold_records cuts a flat iterable up (a few cache-sized lists).
_CHUNK = 128
_get_a = operator.itemgetter("a")
_get_ts = operator.itemgetter("ts")


def fold_batches(state: SessionState, batches: Any, max_ts: float = 0.0) -> FoldStats:
    """:func:`fold_records` over an iterable of lists of records (as the log's bulk
    reader hands them out).

    Per list, the agent clock counts and the largest timestamp are taken in one
    C-level pass each; the per-record loop only dispatches on the event type. A
    list with a record missing its agent or timestamp is folded one record at a
    time (which raises what :func:`apply_record` would, at the same record).
    """
    work = _BulkFold(state)
    stats = FoldStats(max_ts=max_ts)
    agents = state["agents"]
    clock = state["clock"]
    human = ev.HUMAN
    n = 0
    first: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    try:
        for batch in batches:
            if not batch:
                continue
            try:
                counts: dict[str, int] = {}
                _count_elements(counts, map(_get_a, batch))
                top = max(map(_get_ts, batch))
            except Exception:
                # A record without agent or timestamp (or an odd timestamp): exactly
                # as the per-event fold, one by one.
                for rec in batch:
                    rec["a"]  # raise before folding, as apply_record does
                    if rec["ts"] > max_ts:
                        max_ts = rec["ts"]
                    _fold_list(work, [rec], None)  # counts the clock too
                    if first is None:
                        first = rec
                    n += 1
                    last = rec
                continue
            try:
                _fold_list(work, batch, counts)
            except BaseException:
                # Stopped at batch[k]: everything before it is folded (and counted).
                k = work.stopped_at
                _count_clock(agents, clock, human, batch[work.clock_from : k])
                if k:
                    first = first or batch[0]
                    top = max(map(_get_ts, batch[:k]))
                    max_ts = top if top > max_ts else max_ts
                    n += k
                    last = batch[k - 1]
                raise
            if first is None:
                first = batch[0]
            if top > max_ts:
                max_ts = top
            n += len(batch)
            last = batch[-1]
    finally:
        work.flush()
        if first is not None and last is not None:
            if state["event_count"] == 0 and not state["created_at"]:
                state["created_at"] = first["ts"]
            state["event_count"] += n
            state["last_seq"] = last["s"]
            state["last_updated_at"] = last["ts"]
            stats.count, stats.first_seq, stats.last_seq = n, first["s"], last["s"]
            stats.max_ts = max_ts
    return stats


def _count_clock(
    agents: dict[str, Any], clock: dict[str, int], human: str, recs: Any, counts: Any = None
) -> None:
    """Count the events of ``recs`` (or the given agent ``counts``) into the clock:
    an event counts for its agent when the agent is registered (or is the human)."""
    if counts is None:
        counts = {}
        _count_elements(counts, map(_get_a, recs))
    for a, k in counts.items():
        if a in agents or a == human:
            clock[a] = clock.get(a, 0) + k


def _fold_list(work: _BulkFold, batch: list[dict[str, Any]], counts: Any) -> None:
    """Fold the records of ``batch`` in order, timestamps aside (the caller's).

    The clock is counted from ``counts`` (the agent counts of the whole batch) or,
    when an agent registers or leaves in the batch (or ``counts`` is None),
    piecewise. On an error at ``batch[k]`` the exception carries on with
    ``work.stopped_at = k`` and ``work.clock_from`` = the first record whose clock
    is not counted yet (the caller counts up to ``k``).
    """
    state = work.state
    agents = state["agents"]
    cwds = state["current_working_dirs"]
    terminals = state["terminals"]
    pending = state["pending_approvals"]
    docs = state["docs"]
    clock = state["clock"]
    human = ev.HUMAN
    cmds_append = work.cmds.append
    edits = work.edits
    approvals = work.approvals
    last_command = work.last_command
    waiting = work.waiting
    output = work.output
    final = _FINAL_DECISIONS
    handlers = _HANDLERS
    agent_events = _AGENT_EVENTS
    work.clock_from = 0
    raw = getattr(batch, "raw", None)
    rec: dict[str, Any] | None = None
    it = iter(batch)
    try:
        while True:
            try:
                for rec in it:
                    t = rec["t"]
                    p = rec["p"]
                    if t == "terminal_output":
                        term = p["terminal"]
                        if term in terminals:
                            output[term] = output.get(term, 0) + len(p["data"])
                    elif t == "command_executed":
                        cmd = p["command"]
                        cmds_append(rec if raw is None else (rec["s"], raw))
                        a = rec["a"]
                        if a in agents:
                            last_command[a] = cmd
                    elif t == "directory_changed" and not p.get("terminal"):
                        cwds[rec["a"]] = p["path"]
                    elif t == "file_edited":
                        path = p["file_path"]
                        d = edits.get(path)
                        if d is None:
                            d = edits[path] = deque(maxlen=RECENT_EDITS_PER_FILE)
                        if raw is not None:  # decoded again if it is still kept at the end
                            d.append((rec["s"], raw))
                            continue
                        d.append(
                            (
                                rec["i"],
                                rec["a"],
                                p["ranges"],
                                rec["c"],
                                p["old_hash"],
                                p["new_hash"],
                                rec["s"],
                                rec["ts"],
                            )
                        )
                    elif t == "approval_queued" and p["approval_id"] not in pending:
                        a = rec["a"]
                        fields = (
                            p["approval_id"],
                            a,
                            p["command"],
                            p["terminal"],
                            p["cwd"],
                            rec["ts"],
                            rec["s"],
                            p["expires_at"],
                            p["risk"],
                        )
                        approvals[p["approval_id"]] = [fields, "queued", None, ""]
                        if a in agents:
                            waiting[a] = None
                    elif t == "approval_decided" and p["approval_id"] in approvals:
                        aid = p["approval_id"]
                        decision = p["decision"]
                        if decision in final:
                            del approvals[aid]
                            docs.pop(ev.approval_doc(aid), None)  # as _approval_done
                        else:
                            entry = approvals[aid]
                            entry[1] = decision
                            command = p.get("command")
                            if command is not None:
                                entry[2] = command
                            entry[3] = p.get("by", human)
                    elif t == "approval_executed" and p["approval_id"] in approvals:
                        if p["status"] == "executing":
                            approvals[p["approval_id"]][1] = "executing"
                        else:
                            del approvals[p["approval_id"]]
                            docs.pop(ev.approval_doc(p["approval_id"]), None)
                    elif t in agent_events:
                        # Who is registered changes here: count the clock before it.
                        k = _position(batch, rec, work.clock_from)
                        _count_clock(agents, clock, human, batch[work.clock_from : k])
                        work.clock_from = k
                        counts = None
                        _slow(work, rec, t, handlers)
                        _count_clock(agents, clock, human, (rec,))
                        work.clock_from = k + 1
                    elif t != "terminal_input":
                        _slow(work, rec, t, handlers)
                break
            except KeyError:
                # A field missing from a record: the per-event handler raises what
                # apply_event would (or folds it, and the bulk fold goes on).
                assert rec is not None
                t = rec["t"]
                if t in agent_events:
                    k = _position(batch, rec, work.clock_from)
                    _count_clock(agents, clock, human, batch[work.clock_from : k])
                    work.clock_from = k
                    counts = None
                    _slow(work, rec, t, handlers)
                    _count_clock(agents, clock, human, (rec,))
                    work.clock_from = k + 1
                else:
                    _slow(work, rec, t, handlers)
    except BaseException:
        work.stopped_at = _position(batch, rec, 0) if rec is not None else 0
        raise
    if counts is not None and work.clock_from == 0:
        _count_clock(agents, clock, human, (), counts)
    else:
        _count_clock(agents, clock, human, batch[work.clock_from :])


def _position(batch: list[Any], rec: Any, start: int) -> int:
    """Index of the object ``rec`` in ``batch`` (searched from ``start``, by identity)."""
    for i in range(start, len(batch)):
        if batch[i] is rec:
            return i
    raise ValueError("record not in its batch")  # pragma: no cover


def _slow(work: _BulkFold, rec: dict[str, Any], t: str, handlers: dict[str, Any]) -> None:
    """Fold one record with the per-event handler, after writing back what it reads."""
    handler = handlers.get(t)
    if handler is None:
        raise InvalidEventError(f"unknown event type {t!r} in record")
    if t in _AGENT_EVENTS:
        work.flush_agents()
    elif t in _TERMINAL_EVENTS:
        work.flush_terminals()
    elif t in _APPROVAL_EVENTS:
        # e.g. re-queued while still pending: replaced in place, as apply_event does
        work.flush_agents()
        work.flush_approvals()
    elif t == "command_executed":
        work.flush_agents()
        work.flush_cmds()
    elif t == "file_edited":
        work.flush_edits()
    handler(work.state, record_view(rec))
