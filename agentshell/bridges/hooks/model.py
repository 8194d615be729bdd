"""The neutral shape of a vendor hook call and of the answer it gets."""

from __future__ import annotations

# Neither typing nor dataclasses at run time: each costs the hook more than its whole
# round trip with the coordinator (see benchmarks/bench_hook.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal

    #: When the hook runs: before the tool (the vendor's PreToolUse / BeforeTool), when
    #: the vendor would ask its human (PermissionRequest), after the tool (PostToolUse /
    #: AfterTool), after a failed tool (Claude Code's PostToolUseFailure).
    Moment = Literal["pre", "permission", "post", "failed"]
    #: What the tool does, as far as supervision goes.
    Kind = Literal["shell", "edit", "other"]
    Action = Literal["allow", "deny", "ask", "pass"]


class HookInputError(Exception):
    """The hook's input cannot be used (not JSON, a field missing or of a wrong type)."""


class _Value:
    """A small immutable value: fields named by ``__slots__``, compared by value."""

    __slots__: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _set(self, **fields: object) -> None:
        for k, v in fields.items():
            object.__setattr__(self, k, v)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, k) == getattr(other, k) for k in self.__slots__
        )

    def __hash__(self) -> int:
        return hash(tuple(repr(getattr(self, k)) for k in self.__slots__))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}({inner})"


class FileChange(_Value):
    """One file a tool changes. ``old``/``new``: the strings an edit replaces (``old``
    None for a whole-file write: ``new`` is the file's new contents); ``replace_all``
    for edits that replace every occurrence. ``hunks`` for patches: the old lines of
    each hunk (context and removed lines) in order."""

    __slots__ = ("created", "deleted", "hunks", "new", "old", "path", "replace_all")
    path: str
    old: str | None
    new: str | None
    replace_all: bool
    hunks: tuple[tuple[str, ...], ...]
    created: bool
    deleted: bool

    def __init__(
        self,
        path: str,
        old: str | None = None,
        new: str | None = None,
        replace_all: bool = False,
        hunks: tuple[tuple[str, ...], ...] = (),
        created: bool = False,
        deleted: bool = False,
    ) -> None:
        self._set(
            path=path, old=old, new=new, replace_all=replace_all, hunks=hunks,
            created=created, deleted=deleted,
        )  # fmt: skip


class ToolCall(_Value):
    __slots__ = (
        "changes",
        "command",
        "currents",
        "cwd",
        "duration",
        "event",
        "exit_code",
        "kind",
        "moment",
        "originals",
        "output",
        "session_id",
        "tool",
        "tool_input",
        "tool_use_id",
        "vendor",
    )  # fmt: skip
    vendor: str
    moment: Moment
    event: str  # the vendor's own event name
    session_id: str
    cwd: str
    tool: str
    kind: Kind
    tool_input: dict[str, Any]
    command: str  # shell calls
    changes: tuple[FileChange, ...]  # edits
    tool_use_id: str
    #: after the tool: what it produced (shell: output text; edits: the vendor's own
    #: record of the old/new contents where it gives one)
    output: str
    exit_code: int | None
    originals: dict[str, str | None]
    currents: dict[str, str]
    duration: float

    def __init__(
        self,
        vendor: str,
        moment: Moment,
        event: str,
        session_id: str,
        cwd: str,
        tool: str,
        kind: Kind,
        tool_input: dict[str, Any],
        command: str = "",
        changes: tuple[FileChange, ...] = (),
        tool_use_id: str = "",
        output: str = "",
        exit_code: int | None = None,
        originals: dict[str, str | None] | None = None,
        currents: dict[str, str] | None = None,
        duration: float = 0.0,
    ) -> None:
        self._set(
            vendor=vendor, moment=moment, event=event, session_id=session_id, cwd=cwd,
            tool=tool, kind=kind, tool_input=tool_input, command=command, changes=changes,
            tool_use_id=tool_use_id, output=output, exit_code=exit_code,
            originals=originals or {}, currents=currents or {}, duration=duration,
        )  # fmt: skip


class Decision(_Value):
    """``allow`` (``command``: the operator's edited command, when it differs),
    ``deny`` with ``reason``, ``ask`` (the vendor asks its own human), ``pass`` (no
    opinion: the vendor goes on as without the hook)."""

    __slots__ = ("action", "command", "reason")
    action: Action
    reason: str
    command: str | None

    def __init__(self, action: Action, reason: str = "", command: str | None = None) -> None:
        self._set(action=action, reason=reason, command=command)


class Answer(_Value):
    """What the hook process writes and returns."""

    __slots__ = ("exit_code", "stderr", "stdout")
    stdout: str
    stderr: str
    exit_code: int

    def __init__(self, stdout: str = "", stderr: str = "", exit_code: int = 0) -> None:
        self._set(stdout=stdout, stderr=stderr, exit_code=exit_code)


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
