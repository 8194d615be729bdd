"""Gemini CLI's hooks (its docs/hooks/reference.md; see docs/vendors.md)."""

from __future__ import annotations

from . import common
from .model import Answer, Decision, FileChange, HookInputError, ToolCall, text_field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .model import Moment

VENDOR = "gemini"
MOMENTS: dict[str, Moment] = {"BeforeTool": "pre", "AfterTool": "post"}
SHELL_TOOLS = frozenset(("run_shell_command",))
EDIT_TOOLS = frozenset(("replace", "write_file"))
KNOWN = frozenset(
    (
        "session_id", "transcript_path", "cwd", "hook_event_name", "timestamp", "tool_name",
        "tool_input", "tool_response", "mcp_context", "original_request_name",
    )
)  # fmt: skip


def parse(payload: dict[str, Any]) -> ToolCall:
    event, moment = common.moment_of(payload, MOMENTS)
    cwd, tool, ti, kind, command = common.tool_of(payload, SHELL_TOOLS, EDIT_TOOLS)
    changes: tuple[FileChange, ...] = ()
    if tool == "replace":
        changes = (common.edit_change(ti, cwd, "old_string", "new_string", "allow_multiple"),)
    elif tool == "write_file":
        changes = (common.write_change(ti, cwd),)
    output, exit_code = "", None
    originals: dict[str, str | None] = {}
    currents: dict[str, str] = {}
    resp = payload.get("tool_response")
    if moment == "post":
        if resp is not None and not isinstance(resp, dict):
            raise HookInputError("'tool_response' must be an object")
        resp = resp or {}
        shown = resp.get("returnDisplay")
        output = shown if isinstance(shown, str) else common.text_of(resp.get("llmContent"))
        exit_code = common.exit_code_in(common.text_of(resp.get("llmContent")))
        error = resp.get("error")
        if error and exit_code is None and kind == "shell":
            output = common.text_of(error) or output
        if isinstance(shown, dict) and changes:
            path = changes[0].path
            orig = shown.get("originalContent")
            originals[path] = None if shown.get("isNewFile") or not isinstance(orig, str) else orig
            if isinstance(shown.get("newContent"), str):
                currents[path] = shown["newContent"]
    return ToolCall(
        vendor=VENDOR,
        moment=moment,
        event=event,
        session_id=text_field(payload, "session_id"),
        cwd=cwd,
        tool=tool,
        kind=kind,
        tool_input=ti,
        command=command,
        changes=changes,
        output=output,
        exit_code=exit_code,
        originals=originals,
        currents=currents,
    )


def render(call: ToolCall, d: Decision) -> Answer:
    if call.moment != "pre" or d.action in ("pass", "ask"):
        return Answer(stderr=d.reason)  # no opinion: Gemini CLI's own confirmation applies
    if d.action == "deny":
        return common.json_answer(
            {"decision": "deny", "reason": d.reason or "denied in AgentShell"}, d.reason
        )
    out: dict[str, Any] = {"decision": "allow"}
    if d.command is not None and call.kind == "shell":
        out["hookSpecificOutput"] = {
            "hookEventName": "BeforeTool",
            "tool_input": {"command": d.command},
        }
    if d.reason:
        out["reason"] = d.reason
    return common.json_answer(out, d.reason)


__all__ = ["VENDOR", "HookInputError", "parse", "render"]
