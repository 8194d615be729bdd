"""The neutral shape of a vendor hook call and of the answer it gets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

#: When the hook runs: before the tool (the vendor's PreToolUse / BeforeTool), when the
#: vendor would ask its human (PermissionRequest), after the tool (PostToolUse /
#: AfterTool), after a failed tool (Claude Code's PostToolUseFailure).
Moment = Literal["pre", "permission", "post", "failed"]
#: What the tool does, as far as supervision goes.
Kind = Literal["shell", "edit", "other"]
Action = Literal["allow", "deny", "ask", "pass"]


class HookInputError(Exception):
    """The hook's input cannot be used (not JSON, a field missing or of a wrong type)."""


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file a tool changes. ``old``/``new``: the strings an edit replaces (``old``
    None for a whole-file write: ``new`` is the file's new contents); ``replace_all``
    for edits that replace every occurrence. ``hunks`` for patches: the old lines of
    each hunk (context and removed lines) in order."""

    path: str
    old: str | None = None
    new: str | None = None
    replace_all: bool = False
    hunks: tuple[tuple[str, ...], ...] = ()
    created: bool = False
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class ToolCall:
    vendor: str
    moment: Moment
    event: str  # the vendor's own event name
    session_id: str
    cwd: str
    tool: str
    kind: Kind
    tool_input: dict[str, Any]
    command: str = ""  # shell calls
    changes: tuple[FileChange, ...] = ()  # edits
    tool_use_id: str = ""
    #: after the tool: what it produced (shell: output text; edits: the vendor's own
    #: record of the old/new contents where it gives one)
    output: str = ""
    exit_code: int | None = None
    originals: dict[str, str | None] = field(default_factory=dict)
    currents: dict[str, str] = field(default_factory=dict)
    duration: float = 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    """``allow`` (``command``: the operator's edited command, when it differs),
    ``deny`` with ``reason``, ``ask`` (the vendor asks its own human), ``pass`` (no
    opinion: the vendor goes on as without the hook)."""

    action: Action
    reason: str = ""
    command: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """What the hook process writes and returns."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0


def text_field(obj: dict[str, Any], name: str, *, required: bool = True) -> str:
    v = obj.get(name)
    if v is None:
        if required:
            raise HookInputError(f"the hook input has no {name!r}")
        return ""
    if not isinstance(v, str):
        raise HookInputError(f"{name!r} must be a string, got {type(v).__name__}")
    return v


def tool_input_of(payload: dict[str, Any]) -> dict[str, Any]:
    ti = payload.get("tool_input")
    if ti is None:
        return {}
    if not isinstance(ti, dict):
        raise HookInputError(f"'tool_input' must be an object, got {type(ti).__name__}")
    return ti


def short_id(session_id: str) -> str:
    """The part of a vendor session id an agent is named with: the last 8 letters or
    digits (UUIDv7 ids, Codex's, share their leading timestamp digits)."""
    chars = "".join(c for c in session_id.lower() if c.isascii() and c.isalnum())
    if not chars:
        raise HookInputError("the hook input's 'session_id' is empty")
    return chars[-8:]


def agent_name(vendor: str, session_id: str) -> str:
    return f"{vendor}-{short_id(session_id)}"
