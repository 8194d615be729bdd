"""Pieces the vendor adapters share: the Claude-Code-shaped payload (Codex CLI copied
its schema), paths, exit codes found in tool output, JSON answers."""

from __future__ import annotations

import os

from . import lean
from .model import Answer, FileChange, HookInputError, text_field, tool_input_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .model import Kind, Moment


def absolute(path: str, cwd: str) -> str:
    if not path:
        raise HookInputError("a file tool's input has an empty path")
    return os.path.normpath(os.path.join(cwd or os.getcwd(), os.path.expanduser(path)))


def shell_command(tool_input: dict[str, Any]) -> str:
    command = tool_input.get("command")
    if not isinstance(command, str) or not command.strip():
        raise HookInputError("a shell call's 'tool_input.command' is missing or empty")
    return command


def exit_code_in(text: str) -> int | None:
    """The exit code a tool's output text states ("Exit code: 1"), if it states one."""
    import re  # only after a tool ran, off the fast path

    m = re.search(r"(?:exit|status) code:?\s*(-?\d+)", text, re.IGNORECASE)
    return int(m.group(1)) if m else None


def text_of(value: Any) -> str:
    """A tool response as text (Claude Code's Bash gives stdout/stderr, Codex a string)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        parts = [value.get(k) for k in ("stdout", "stderr", "output", "error")]
        text = "\n".join(p for p in parts if isinstance(p, str) and p)
        if text or parts != [None] * 4:
            return text
    return lean.dumps(value)[:4000]


def edit_change(
    tool_input: dict[str, Any], cwd: str, old_key: str, new_key: str, all_key: str
) -> FileChange:
    path = absolute(text_field(tool_input, "file_path"), cwd)
    old = text_field(tool_input, old_key)
    new = text_field(tool_input, new_key)
    return FileChange(path, old=old, new=new, replace_all=tool_input.get(all_key) is True)


def write_change(tool_input: dict[str, Any], cwd: str, path_key: str = "file_path") -> FileChange:
    path = absolute(text_field(tool_input, path_key), cwd)
    content = tool_input.get("content")
    if content is not None and not isinstance(content, str):
        raise HookInputError("a write's 'content' must be a string")
    return FileChange(path, new=content)


def json_answer(obj: dict[str, Any], note: str = "") -> Answer:
    return Answer(stdout=lean.dumps(obj), stderr=note)


def unknown_fields(payload: dict[str, Any], known: frozenset[str]) -> str:
    """A note naming top-level fields this adapter does not read (empty when none)."""
    extra = sorted(k for k in payload if k not in known)
    return f"fields not used: {', '.join(extra)}" if extra else ""


def moment_of(payload: dict[str, Any], moments: dict[str, Moment]) -> tuple[str, Moment]:
    """The call's ``hook_event_name`` and its moment (the event in the vendor's
    ``moments``; another event is a HookInputError)."""
    event = text_field(payload, "hook_event_name")
    moment = moments.get(event)
    if moment is None:
        raise HookInputError(
            f"hook event {event!r} is not one this hook answers ({', '.join(moments)})"
        )
    return event, moment


def tool_of(
    payload: dict[str, Any], shell_tools: frozenset[str], edit_tools: frozenset[str]
) -> tuple[str, str, dict[str, Any], Kind, str]:
    """``(cwd, tool, tool_input, kind, command)`` of a call: its kind by the vendor's
    shell and edit tools, and the command line of a shell call ("" otherwise)."""
    cwd = text_field(payload, "cwd", required=False)
    tool = text_field(payload, "tool_name")
    ti = tool_input_of(payload)
    kind: Kind = "shell" if tool in shell_tools else "edit" if tool in edit_tools else "other"
    return cwd, tool, ti, kind, shell_command(ti) if kind == "shell" else ""
