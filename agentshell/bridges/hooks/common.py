"""Pieces the vendor adapters share: the Claude-Code-shaped payload (Codex CLI copied
its schema), paths, exit codes found in tool output, JSON answers."""

from __future__ import annotations

import os

from . import lean
from .model import Answer, FileChange, HookInputError, text_field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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
