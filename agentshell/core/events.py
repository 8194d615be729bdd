"""Typed, immutable events: the only way anything changes in a session.

Every event is a frozen dataclass. The common header (``seq``, ``event_id``,
``timestamp``, ``agent_id``, ``clock``) is in :class:`Event`; each event type adds
its payload fields. ``EVENT_TYPES`` maps the wire name (``"agent_registered"``) to
the class.

On disk and on the wire an event is a *record*: a msgpack map with short keys::

    {"v": 1, "t": type, "s": seq, "i": event_id, "ts": timestamp,
     "a": agent_id, "c": vector clock, "p": payload map}

``Event.to_record`` / ``event_from_record`` convert; ``make_event`` builds an event
from a type name and a payload dict and validates the payload's shape first, raising
:class:`InvalidEventError` (and writing nothing) when it does not fit.
"""

from __future__ import annotations

import math
import time
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from agentshell.core.errors import InvalidEventError

FORMAT_VERSION = 1

#: The agent id used for events the system itself produces.
SYSTEM = "system"
#: The agent id used for decisions and input of the human operator.
HUMAN = "human"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Header shared by every event.

    ``seq`` is the per-session sequence number, assigned by the log on append
    (0 until then). ``clock`` is the vector clock of the producer when it made the
    event (agent id -> count of that agent's events seen).
    """

    event_type: ClassVar[str] = ""

    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timestamp: float = field(default_factory=time.time)
    agent_id: str = SYSTEM
    seq: int = 0
    clock: dict[str, int] = field(default_factory=dict)

    @property
    def payload(self) -> dict[str, Any]:
        """The type-specific fields as a plain dict."""
        return {f.name: getattr(self, f.name) for f in _payload_fields(type(self))}

    def to_record(self) -> dict[str, Any]:
        """The msgpack-ready record of this event (see the module docstring)::

        {"v": FORMAT_VERSION, "t": event_type, "s": seq, "i": event_id,
         "ts": timestamp, "a": agent_id, "c": clock, "p": payload}
        """
        return _compiled(type(self))[1](self)

    def with_seq(self, seq: int) -> Event:
        """A copy of this event carrying the sequence number the log assigned.

        The copy shares every field value with this event (as a field-by-field
        ``replace`` would) without running ``__init__`` again: this event was
        already built and checked, and the copy is on every append's path."""
        return _compiled(type(self))[0](self, seq)


# --------------------------------------------------------------------------- agents


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRegistered(Event):
    event_type: ClassVar[str] = "agent_registered"
    capabilities: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    token_hash: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRemoved(Event):
    event_type: ClassVar[str] = "agent_removed"
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStatusChanged(Event):
    """``status``: connected, disconnected, working, waiting, idle."""

    event_type: ClassVar[str] = "agent_status_changed"
    status: str


# ------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandExecuted(Event):
    event_type: ClassVar[str] = "command_executed"
    command: str
    exit_code: int | None = None
    output: str = ""
    terminal: str = "main"
    cwd: str = ""
    duration: float = 0.0
    approval_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryChanged(Event):
    """The working directory of ``agent_id`` (or of ``terminal`` when set) changed."""

    event_type: ClassVar[str] = "directory_changed"
    path: str
    terminal: str = ""


# ------------------------------------------------------------------------- files


@dataclass(frozen=True, slots=True, kw_only=True)
class FileEdited(Event):
    """An agent changed a file.

    ``old_hash``/``new_hash`` are SHA-256 hex digests of the content before and
    after (``old_hash`` is the content the edit started from). ``ranges`` are the
    changed line ranges of the old content and ``new_ranges`` of the new content,
    each ``[start, end)`` 0-based half-open (a pure insertion before line k is
    ``[k, k)``). The producer's vector clock is the event's ``clock``.
    ``new_lines[i]`` holds the text of ``new_ranges[i]`` (line endings dropped, at most
    ``EXCERPT_LINES`` lines), so a conflict can show each side's lines later.
    """

    event_type: ClassVar[str] = "file_edited"
    file_path: str
    old_hash: str
    new_hash: str
    ranges: list[list[int]] = field(default_factory=list)
    new_ranges: list[list[int]] = field(default_factory=list)
    lines_added: int = 0
    lines_removed: int = 0
    new_lines: list[list[str]] = field(default_factory=list)


#: How many lines of each changed range a ``file_edited`` event keeps as text.
EXCERPT_LINES = 50


def range_excerpts(new_content: str, new_ranges: list[list[int]]) -> list[list[str]]:
    """The text of each ``[start, end)`` line range of ``new_content`` (for ``new_lines``)."""
    lines = new_content.split("\n")
    return [[ln.rstrip("\r") for ln in lines[a : min(b, a + EXCERPT_LINES)]] for a, b in new_ranges]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConflictDetected(Event):
    event_type: ClassVar[str] = "conflict_detected"
    conflict_id: str
    file_path: str
    agents: list[str]
    ranges: list[list[int]]
    overlap: list[int]
    edit_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConflictResolved(Event):
    """``resolution``: keep_first, keep_second, keep_both, manual."""

    event_type: ClassVar[str] = "conflict_resolved"
    conflict_id: str
    resolution: str
    by: str = HUMAN
    note: str = ""


# ---------------------------------------------------------------------- approvals


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalQueued(Event):
    event_type: ClassVar[str] = "approval_queued"
    approval_id: str
    command: str
    terminal: str = "main"
    cwd: str = ""
    expires_at: float | None = None
    risk: list[str] = field(default_factory=list)
    #: The agent runs the command itself once approved (a CLI that asked its human:
    #: hooks, ``agentshell wrap``): the coordinator decides and runs nothing.
    external: bool = False
    #: False: the operator may approve or reject it only, not change its text (a
    #: y/n prompt cannot take another command).
    editable: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalDecided(Event):
    """``decision``: approved, rejected, expired, interrupted.

    ``command`` is the text that will run when the human edited it (else None);
    ``revision`` the revision of the approval's shared document that was approved;
    ``rule_id`` names the rule when a rule, not a human, decided.
    """

    event_type: ClassVar[str] = "approval_decided"
    approval_id: str
    decision: str
    by: str = HUMAN
    reason: str = ""
    command: str | None = None
    revision: int | None = None
    rule_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalExecuted(Event):
    """``status``: executing, executed, failed."""

    event_type: ClassVar[str] = "approval_executed"
    approval_id: str
    status: str
    exit_code: int | None = None
    error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalWithdrawn(Event):
    """Nobody waits for this approval's outcome any more: its agent withdrew it (gave
    up waiting) or its waiting connection closed and it did not come back in time.

    It stays in the queue, marked: no rule approves it, and the human deciding it is
    told that nobody will receive the output. ``by``: the agent, or ``system``.
    """

    event_type: ClassVar[str] = "approval_withdrawn"
    approval_id: str
    reason: str = ""
    by: str = SYSTEM


# -------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleAdded(Event):
    """``action``: allow/ask/deny; ``kind``: exact/prefix/glob; ``scope``: session/agent/terminal."""

    event_type: ClassVar[str] = "rule_added"
    rule_id: str
    action: str
    kind: str
    pattern: str
    scope: str = "session"
    scope_value: str = ""
    by: str = HUMAN


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleRevoked(Event):
    event_type: ClassVar[str] = "rule_revoked"
    rule_id: str
    by: str = HUMAN


# -------------------------------------------------------------------------- tasks


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskCreated(Event):
    event_type: ClassVar[str] = "task_created"
    task_id: str
    description: str
    created_by: str = HUMAN
    suggested_agents: list[list[Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskStatusChanged(Event):
    """``status``: open, assigned, in_progress, blocked, done."""

    event_type: ClassVar[str] = "task_status_changed"
    task_id: str
    status: str
    assignee: str = ""
    note: str = ""


# ---------------------------------------------------------------------- terminals


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminalOpened(Event):
    event_type: ClassVar[str] = "terminal_opened"
    terminal: str
    cwd: str = ""
    columns: int = 200
    lines: int = 50
    shell: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminalClosed(Event):
    event_type: ClassVar[str] = "terminal_closed"
    terminal: str
    reason: str = ""
    exit_status: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminalResized(Event):
    event_type: ClassVar[str] = "terminal_resized"
    terminal: str
    columns: int
    lines: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminalOutput(Event):
    """A batch of bytes the terminal's program wrote (replayed byte for byte)."""

    event_type: ClassVar[str] = "terminal_output"
    terminal: str
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminalInput(Event):
    """A batch of bytes written to the terminal (by the human, or a command run)."""

    event_type: ClassVar[str] = "terminal_input"
    terminal: str
    data: bytes
    by: str = HUMAN


# ---------------------------------------------------------------- shared documents


#: Shared documents are named ``draft:<terminal>`` or ``approval:<approval id>``.
APPROVAL_DOC = "approval:"


def approval_doc(approval_id: str) -> str:
    """The name of approval ``approval_id``'s shared text (its co-edited command)."""
    return APPROVAL_DOC + approval_id


def approval_of_doc(doc: str) -> str | None:
    """The approval id whose shared text ``doc`` is, or None for another document."""
    return doc[len(APPROVAL_DOC) :] if doc.startswith(APPROVAL_DOC) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class DocOp(Event):
    """A transformed OT operation applied to shared document ``doc``.

    ``revision`` is the document's revision *after* this op; ``op`` is the
    serialized operation (see ``agentshell.core.ot``); ``client_seq`` is the
    sender's own op counter (dedup of resends). The author is ``agent_id``.
    """

    event_type: ClassVar[str] = "doc_op"
    doc: str
    revision: int
    op: list[Any]
    client_seq: int = 0


EVENT_TYPES: dict[str, type[Event]] = {
    cls.event_type: cls
    for cls in (
        AgentRegistered,
        AgentRemoved,
        AgentStatusChanged,
        CommandExecuted,
        DirectoryChanged,
        FileEdited,
        ConflictDetected,
        ConflictResolved,
        ApprovalQueued,
        ApprovalDecided,
        ApprovalExecuted,
        ApprovalWithdrawn,
        RuleAdded,
        RuleRevoked,
        TaskCreated,
        TaskStatusChanged,
        TerminalOpened,
        TerminalClosed,
        TerminalResized,
        TerminalOutput,
        TerminalInput,
        DocOp,
    )
}

#: The ten event types of the original spec (all present in EVENT_TYPES).
SPEC_EVENT_TYPES = (
    "agent_registered",
    "command_executed",
    "file_edited",
    "directory_changed",
    "approval_queued",
    "approval_decided",
    "approval_executed",
    "conflict_detected",
    "task_created",
    "task_status_changed",
)

_HEADER = frozenset(("event_id", "timestamp", "agent_id", "seq", "clock"))
_PAYLOAD_FIELDS: dict[type[Event], tuple[Any, ...]] = {}
_HINTS: dict[type[Event], dict[str, Any]] = {}


_FIELD_NAMES: dict[type[Event], tuple[str, ...]] = {}
_set = object.__setattr__


_Compiled = tuple[Callable[[Any, int], "Event"], Callable[[Any], dict[str, Any]]]
_COMPILED: dict[type[Event], _Compiled] = {}


def _compiled(cls: type[Event]) -> _Compiled:
    """``(with_seq, to_record)`` written out for ``cls``'s own fields.

    Both run on every append; spelled out field by field (the way ``dataclasses``
    writes ``__init__``) they take about half the time of a loop over the fields.
    The names come from the class's dataclass fields, so they are identifiers.
    """
    got = _COMPILED.get(cls)
    if got is None:
        names = [n for n in _field_names(cls) if n != "seq"]
        payload = [f.name for f in _payload_fields(cls)]
        src = (
            "def with_seq(self, seq):\n"
            "    new = _new(cls)\n"
            + "".join(f"    _set(new, {n!r}, self.{n})\n" for n in names)
            + "    _set(new, 'seq', seq)\n"
            "    return new\n"
            "def to_record(self):\n"
            "    return {'v': V, 't': T, 's': self.seq, 'i': self.event_id,"
            " 'ts': self.timestamp, 'a': self.agent_id, 'c': self.clock, 'p': {"
            + ", ".join(f"{n!r}: self.{n}" for n in payload)
            + "}}\n"
        )
        ns: dict[str, Any] = {
            "_new": object.__new__,
            "_set": _set,
            "cls": cls,
            "V": FORMAT_VERSION,
            "T": cls.event_type,
        }
        exec(src, ns)  # generated from field names only, see above
        got = _COMPILED[cls] = (ns["with_seq"], ns["to_record"])
    return got


def _field_names(cls: type[Event]) -> tuple[str, ...]:
    got = _FIELD_NAMES.get(cls)
    if got is None:
        got = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return got


def _payload_fields(cls: type[Event]) -> tuple[Any, ...]:
    got = _PAYLOAD_FIELDS.get(cls)
    if got is None:
        got = tuple(f for f in fields(cls) if f.name not in _HEADER)
        _PAYLOAD_FIELDS[cls] = got
    return got


def _hints(cls: type[Event]) -> dict[str, Any]:
    got = _HINTS.get(cls)
    if got is None:
        got = typing.get_type_hints(cls)
        _HINTS[cls] = got
    return got


def _check_value(value: Any, hint: Any, where: str) -> None:
    """Raise InvalidEventError when ``value`` does not fit the annotation ``hint``."""
    origin = typing.get_origin(hint)
    if hint is Any:
        _check_packable(value, where)
        return
    if origin in (types.UnionType, typing.Union):
        errors = []
        for arm in typing.get_args(hint):
            try:
                _check_value(value, arm, where)
                return
            except InvalidEventError as exc:
                errors.append(str(exc))
        raise InvalidEventError(f"{where}: {value!r} fits none of {hint}")
    if hint is type(None):
        if value is not None:
            raise InvalidEventError(f"{where}: expected None, got {type(value).__name__}")
        return
    if origin is list:
        if not isinstance(value, list | tuple):
            raise InvalidEventError(f"{where}: expected a list, got {type(value).__name__}")
        (arm,) = typing.get_args(hint) or (Any,)
        for i, item in enumerate(value):
            _check_value(item, arm, f"{where}[{i}]")
        return
    if origin is dict:
        if not isinstance(value, dict):
            raise InvalidEventError(f"{where}: expected a map, got {type(value).__name__}")
        key_hint, val_hint = typing.get_args(hint) or (Any, Any)
        for k, v in value.items():
            _check_value(k, key_hint, f"{where} key")
            _check_value(v, val_hint, f"{where}[{k!r}]")
        return
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            raise InvalidEventError(f"{where}: {value!r} is not a finite number")
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, hint)
    if not ok:
        raise InvalidEventError(
            f"{where}: expected {getattr(hint, '__name__', hint)}, got {type(value).__name__}"
        )


def _check_packable(value: Any, where: str, depth: int = 0) -> None:
    """Free-form values (metadata) must be plain msgpack types."""
    if depth > 32:
        raise InvalidEventError(f"{where}: nested too deeply")
    if value is None or isinstance(value, bool | int | str | bytes):
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and not (-(2**63) <= value < 2**64)
        ):
            raise InvalidEventError(f"{where}: integer {value} does not fit 64 bits")
        return
    if isinstance(value, float):
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_packable(item, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str | int | bytes):
                raise InvalidEventError(f"{where}: map key {k!r} is not a string")
            _check_packable(v, f"{where}[{k!r}]", depth + 1)
        return
    raise InvalidEventError(
        f"{where}: {type(value).__name__} values cannot be stored (use str, int, float, "
        "bool, bytes, None, lists and maps of them)"
    )


def make_event(
    event_type: str,
    payload: dict[str, Any] | None = None,
    *,
    agent_id: str = SYSTEM,
    timestamp: float | None = None,
    clock: dict[str, int] | None = None,
    event_id: str | None = None,
    seq: int = 0,
) -> Event:
    """Build and validate an event of ``event_type`` from a payload dict.

    The payload may also carry ``agent_id`` (must equal ``agent_id``) and
    ``timestamp`` (used as the event's timestamp), as the original spec's examples do.
    Raises :class:`InvalidEventError` when the type is unknown or the payload does
    not fit: missing or unknown keys, wrong value types, values msgpack cannot store.
    """
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        known = ", ".join(sorted(EVENT_TYPES))
        raise InvalidEventError(f"unknown event type {event_type!r} (known: {known})")
    if not isinstance(agent_id, str) or not agent_id:
        raise InvalidEventError("agent_id must be a non-empty string")
    data = dict(payload or {})
    if not all(isinstance(k, str) for k in data):
        raise InvalidEventError(f"{event_type}: payload keys must be strings")
    if "agent_id" in data and data.pop("agent_id") != agent_id:
        raise InvalidEventError(f"{event_type}: payload agent_id differs from agent_id")
    if "timestamp" in data:
        ts = data.pop("timestamp")
        _check_value(ts, float, f"{event_type}.timestamp")
        if timestamp is None:
            timestamp = float(ts)
    hints = _hints(cls)
    allowed = {f.name: f for f in _payload_fields(cls)}
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidEventError(
            f"{event_type}: unknown payload field(s) {', '.join(unknown)} "
            f"(allowed: {', '.join(allowed) or 'none'})"
        )
    from dataclasses import MISSING

    for name, f in allowed.items():
        if name in data:
            _check_value(data[name], hints[name], f"{event_type}.{name}")
            if isinstance(data[name], tuple):
                data[name] = list(data[name])
        elif f.default is MISSING and f.default_factory is MISSING:
            raise InvalidEventError(f"{event_type}: missing payload field {name!r}")
    if clock is not None:
        _check_value(clock, dict[str, int], f"{event_type}.clock")
    header: dict[str, Any] = {"agent_id": agent_id, "seq": seq}
    if timestamp is not None:
        _check_value(timestamp, float, f"{event_type}.timestamp")
        header["timestamp"] = float(timestamp)
    if clock is not None:
        header["clock"] = dict(clock)
    if event_id is not None:
        header["event_id"] = event_id
    return cls(**header, **data)


def event_from_record(record: dict[str, Any]) -> Event:
    """Rebuild an event from its stored record (trusted: it passed validation once)."""
    try:
        cls = EVENT_TYPES[record["t"]]
        return cls(
            event_id=record["i"],
            timestamp=record["ts"],
            agent_id=record["a"],
            seq=record["s"],
            clock=record["c"],
            **record["p"],
        )
    except (KeyError, TypeError) as exc:
        raise InvalidEventError(f"not an event record: {exc}") from exc


def event_to_json(event: Event) -> dict[str, Any]:
    """A JSON-friendly dict of an event (bytes shown as text, invalid UTF-8 escaped)."""

    def plain(v: Any) -> Any:
        if isinstance(v, bytes):
            return v.decode("utf-8", "backslashreplace")
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        return v

    return {
        "seq": event.seq,
        "type": event.event_type,
        "event_id": event.event_id,
        "timestamp": event.timestamp,
        "agent_id": event.agent_id,
        "clock": dict(event.clock),
        "payload": plain(event.payload),
    }
