"""Codex CLI's hooks (https://developers.openai.com/codex/hooks; see docs/vendors.md).

Its stdin has Claude Code's shape (shell calls as tool ``Bash``, patches as
``apply_patch`` with the patch text in ``tool_input.command``). Its answers differ:
PreToolUse allows by saying nothing, and neither PreToolUse nor PermissionRequest takes
``updatedInput`` (PermissionRequest fails closed on it), so an edited command is a deny
whose reason gives the operator's command.
"""

from __future__ import annotations

from . import common
from .model import Answer, Decision, FileChange, HookInputError, ToolCall, text_field
from .patch import parse_patch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .model import Moment

VENDOR = "codex"
MOMENTS: dict[str, Moment] = {
    "PreToolUse": "pre",
    "PermissionRequest": "permission",
    "PostToolUse": "post",
}
SHELL_TOOLS = frozenset(("Bash", "shell", "exec_command", "local_shell"))
EDIT_TOOLS = frozenset(("apply_patch",))
KNOWN = frozenset(
    (
        "session_id", "turn_id", "transcript_path", "cwd", "hook_event_name", "model",
        "permission_mode", "tool_name", "tool_input", "tool_use_id", "tool_response",
    )
)  # fmt: skip


def patch_text(ti: dict[str, Any]) -> str:
    for key in ("command", "input", "patch"):
        v = ti.get(key)
        if isinstance(v, str) and v.strip():
            return v
    raise HookInputError("an apply_patch call's 'tool_input.command' holds no patch")


def parse(payload: dict[str, Any]) -> ToolCall:
    event, moment = common.moment_of(payload, MOMENTS)
    cwd, tool, ti, kind, command = common.tool_of(payload, SHELL_TOOLS, EDIT_TOOLS)
    changes: tuple[FileChange, ...] = ()
    if kind == "edit":
        changes = tuple(
            FileChange(
                common.absolute(f.path, cwd),
                hunks=f.hunks,
                new=f.content,
                created=f.created,
                deleted=f.deleted,
            )
            for f in parse_patch(patch_text(ti))
        )
    output, exit_code = "", None
    if moment == "post":
        output = common.text_of(payload.get("tool_response"))
        exit_code = common.exit_code_in(output)
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
        tool_use_id=text_field(payload, "tool_use_id", required=False),
        output=output,
        exit_code=exit_code,
    )


def _denial(d: Decision) -> str:
    if d.action == "allow" and d.command is not None:
        return (
            "The operator approved this command only as edited in AgentShell; run this "
            f"command instead: {d.command}"
        )
    return d.reason or "denied in AgentShell"


def render(call: ToolCall, d: Decision) -> Answer:
    edited = d.action == "allow" and d.command is not None and call.kind == "shell"
    deny = d.action == "deny" or edited
    if call.moment == "pre":
        if not deny:
            return Answer(stderr=d.reason)  # saying nothing lets the call go on
        out = {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": _denial(d),
        }
        return common.json_answer({"hookSpecificOutput": out}, _denial(d))
    if call.moment == "permission":
        if deny:
            decision: dict[str, Any] = {"behavior": "deny", "message": _denial(d)}
        elif d.action == "allow":
            decision = {"behavior": "allow"}
        else:
            return Answer(stderr=d.reason)  # Codex's own approval prompt decides
        return common.json_answer(
            {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}},
            d.reason,
        )
    return Answer(stderr=d.reason)
