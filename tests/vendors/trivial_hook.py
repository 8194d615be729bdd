"""A trivial command hook for the real vendor CLIs (the harness's own proof).

Usage: ``trivial_hook.py VENDOR RECORD_DIR [DECISIONS]``. It saves the JSON object the
CLI wrote on stdin as ``RECORD_DIR/<n>-<event>-<tool>.json`` and answers a tool call
as DECISIONS (a JSON file) says for it: ``{KEY: [MODE, TEXT]}``, where KEY is the
call's shell command or file path and ``"*"`` is for any other call (default:
``["allow", ""]``). MODE:

- ``allow``: allow (Claude Code: ``permissionDecision: allow``; Gemini CLI:
  ``decision: allow``; Codex: exit 0 with nothing on stdout, its way of saying allow);
- ``deny``: deny with TEXT as the reason, in the vendor's JSON shape;
- ``exit2``: TEXT on stderr and exit code 2 (the block all three vendors take);
- ``edit``: allow, with the command replaced by TEXT (Claude Code and Codex:
  ``updatedInput``; Gemini CLI: ``hookSpecificOutput.tool_input``);
- ``record``: nothing (the CLI goes on as if no hook were there).

Claude Code's ``PermissionRequest`` gets ``decision.behavior`` allow (``edit``: with
``updatedInput``) or deny with TEXT as its ``message``. Other events are only recorded.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def answer(vendor: str, event: str, mode: str, text: str, tool_input: dict[str, Any]) -> int:
    edited = dict(tool_input, command=text)
    if event == "PermissionRequest":
        decision: dict[str, object] = {"behavior": "deny" if mode == "deny" else "allow"}
        if mode == "deny":
            decision["message"] = text
        if mode == "edit":
            decision["updatedInput"] = edited
        out = {"hookEventName": "PermissionRequest", "decision": decision}
        print(json.dumps({"hookSpecificOutput": out}))
        return 0
    if mode == "exit2":
        print(text, file=sys.stderr)
        return 2
    if vendor == "gemini":
        reply: dict[str, object] = {"decision": "allow" if mode == "edit" else mode}
        if mode == "deny":
            reply["reason"] = text
        if mode == "edit":
            reply["hookSpecificOutput"] = {"hookEventName": "BeforeTool", "tool_input": edited}
    elif vendor == "codex" and mode == "allow":
        return 0
    else:
        specific: dict[str, object] = {
            "hookEventName": "PreToolUse",
            "permissionDecision": "allow" if mode == "edit" else mode,
            "permissionDecisionReason": text or mode,
        }
        if mode == "edit":
            specific["updatedInput"] = edited
        reply = {"hookSpecificOutput": specific}
    print(json.dumps(reply))
    return 0


def main() -> int:
    vendor, record = sys.argv[1], sys.argv[2]
    decisions: dict[str, list[str]] = {}
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            decisions = json.load(f)
    raw = sys.stdin.read()
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = {}
    event = str(payload.get("hook_event_name", "unknown"))
    tool = str(payload.get("tool_name", "none"))
    os.makedirs(record, exist_ok=True)
    name = f"{time.time_ns()}-{event}-{tool}.json".replace("/", "_")
    with open(os.path.join(record, name), "w") as f:
        f.write(raw)
    if event not in ("PreToolUse", "BeforeTool", "PermissionRequest"):
        return 0
    tool_input = payload.get("tool_input") or {}
    key = str(tool_input.get("command") or tool_input.get("file_path") or "")
    mode, text = decisions.get(key) or decisions.get("*") or ["allow", ""]
    if mode == "record":
        return 0
    return answer(vendor, event, mode, text, tool_input)


if __name__ == "__main__":
    sys.exit(main())
