"""A trivial command hook for the real vendor CLIs (the harness's own proof).

Usage: ``trivial_hook.py VENDOR MODE RECORD_DIR [REASON]``. It saves the JSON object
the CLI wrote on stdin as ``RECORD_DIR/<n>-<event>-<tool>.json`` and answers:

- ``allow``: allow (Claude Code: ``permissionDecision: allow``; Gemini CLI:
  ``decision: allow``; Codex: exit 0 with nothing on stdout, its way of saying allow);
- ``deny``: deny with REASON in the vendor's JSON shape;
- ``exit2``: REASON on stderr and exit code 2 (the block all three vendors take);
- ``edit``: allow, with the command replaced by REASON (Claude Code: ``updatedInput``;
  Gemini CLI: ``hookSpecificOutput.tool_input``; Codex: ``updatedInput``, which it
  does not take);
- ``record``: nothing (the CLI goes on as if no hook were there).

Claude Code's ``PermissionRequest`` gets ``decision.behavior`` allow (``edit``: with
``updatedInput``) or deny with REASON as its ``message``. Other events are only recorded.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> int:
    vendor, mode, record = sys.argv[1], sys.argv[2], sys.argv[3]
    reason = sys.argv[4] if len(sys.argv) > 4 else "blocked by the trivial test hook"
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
    if mode == "record":
        return 0
    tool_input = payload.get("tool_input") or {}
    edited = dict(tool_input, command=reason)
    if event == "PermissionRequest":
        decision: dict[str, object] = {"behavior": "deny" if mode == "deny" else "allow"}
        if mode == "deny":
            decision["message"] = reason
        if mode == "edit":
            decision["updatedInput"] = edited
        out = {"hookEventName": "PermissionRequest", "decision": decision}
        print(json.dumps({"hookSpecificOutput": out}))
        return 0
    if event not in ("PreToolUse", "BeforeTool"):
        return 0
    if mode == "exit2":
        print(reason, file=sys.stderr)
        return 2
    if vendor == "gemini":
        answer: dict[str, object] = {"decision": "allow" if mode == "edit" else mode}
        if mode == "deny":
            answer["reason"] = reason
        if mode == "edit":
            answer["hookSpecificOutput"] = {"hookEventName": "BeforeTool", "tool_input": edited}
    elif vendor == "codex" and mode == "allow":
        return 0
    else:
        specific: dict[str, object] = {
            "hookEventName": "PreToolUse",
            "permissionDecision": "allow" if mode == "edit" else mode,
            "permissionDecisionReason": reason,
        }
        if mode == "edit":
            specific["updatedInput"] = edited
        answer = {"hookSpecificOutput": specific}
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
