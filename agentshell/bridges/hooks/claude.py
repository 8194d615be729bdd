"""Claude Code's hooks (https://code.claude.com/docs/en/hooks; see docs/vendors.md)."""

from __future__ import annotations

from . import common
from .model import Answer, Decision, FileChange, HookInputError, ToolCall, text_field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .model import Moment

VENDOR = "claude"
MOMENTS: dict[str, Moment] = {
    "PreToolUse": "pre",
    "PermissionRequest": "permission",
    "PostToolUse": "post",
    "PostToolUseFailure": "failed",
}
SHELL_TOOLS = frozenset(("Bash",))
EDIT_TOOLS = frozenset(("Edit", "Write", "MultiEdit", "NotebookEdit"))
KNOWN = frozenset(
    (
        "session_id", "transcript_path", "cwd", "permission_mode", "hook_event_name",
        "tool_name", "tool_input", "tool_use_id", "tool_response", "prompt_id",
        "permission_suggestions", "duration_ms", "error", "is_interrupt", "agent_id",
        "agent_type",
    )
)  # fmt: skip


def changes_of(tool: str, ti: dict[str, Any], cwd: str) -> tuple[FileChange, ...]:
    if tool == "Edit":
        return (common.edit_change(ti, cwd, "old_string", "new_string", "replace_all"),)
    if tool == "Write":
        return (common.write_change(ti, cwd),)
    if tool == "NotebookEdit":
        return (FileChange(common.absolute(text_field(ti, "notebook_path"), cwd)),)
    # MultiEdit: several replacements of one file, in order
    path = common.absolute(text_field(ti, "file_path"), cwd)
    edits = ti.get("edits")
    if not isinstance(edits, list) or not edits:
        raise HookInputError("a MultiEdit's 'tool_input.edits' must be a non-empty list")
    out = []
    for e in edits:
        if not isinstance(e, dict):
            raise HookInputError("each of a MultiEdit's edits must be an object")
        out.append(
            FileChange(
                path,
                old=text_field(e, "old_string"),
                new=text_field(e, "new_string"),
                replace_all=e.get("replace_all") is True,
            )
        )
    return tuple(out)


def parse(payload: dict[str, Any], vendor: str = VENDOR) -> ToolCall:
    event, moment = common.moment_of(payload, MOMENTS)
    session_id = text_field(payload, "session_id")
    cwd, tool, ti, kind, command = common.tool_of(payload, SHELL_TOOLS, EDIT_TOOLS)
    changes = changes_of(tool, ti, cwd) if kind == "edit" else ()
    output, exit_code = "", None
    originals: dict[str, str | None] = {}
    resp = payload.get("tool_response")
    if moment == "post":
        output = common.text_of(resp)
        exit_code = 0 if kind == "shell" else None  # PostToolUse: the tool succeeded
        if isinstance(resp, dict) and "originalFile" in resp and changes:
            orig = resp["originalFile"]
            originals[changes[0].path] = orig if isinstance(orig, str) else None
    elif moment == "failed":
        output = common.text_of(payload.get("error"))
        exit_code = common.exit_code_in(output)
    duration = payload.get("duration_ms")
    return ToolCall(
        vendor=vendor,
        moment=moment,
        event=event,
        session_id=session_id,
        cwd=cwd,
        tool=tool,
        kind=kind,
        tool_input=ti,
        command=command,
        changes=changes,
        tool_use_id=text_field(payload, "tool_use_id", required=False),
        output=output,
        exit_code=exit_code,
        originals=originals,
        duration=duration / 1000 if isinstance(duration, int | float) else 0.0,
    )


def render(call: ToolCall, d: Decision) -> Answer:
    note = d.reason
    if call.moment == "pre":
        if d.action == "pass":
            return Answer(stderr=note)
        out: dict[str, Any] = {
            "hookEventName": "PreToolUse",
            "permissionDecision": d.action,
            "permissionDecisionReason": d.reason or "approved in AgentShell",
        }
        if d.action == "allow" and d.command is not None and call.kind == "shell":
            out["updatedInput"] = {**call.tool_input, "command": d.command}
        return common.json_answer({"hookSpecificOutput": out}, note)
    if call.moment == "permission":
        if d.action in ("pass", "ask"):
            return Answer(stderr=note)  # Claude Code shows its own dialog
        decision: dict[str, Any] = {"behavior": d.action}
        if d.action == "allow" and d.command is not None and call.kind == "shell":
            decision["updatedInput"] = {**call.tool_input, "command": d.command}
        if d.action == "deny":
            decision["message"] = d.reason or "denied in AgentShell"
        return common.json_answer(
            {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}},
            note,
        )
    return Answer(stderr=note)  # after the tool: nothing to decide
