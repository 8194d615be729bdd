"""The session state to and from msgpack-ready values (for snapshots)."""

from __future__ import annotations

import dataclasses
from typing import Any

from agentshell.core import events as ev

from .model import (
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
    new_state,
)

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
