"""The harness proved with a trivial hook, and the vendors' hook contracts pinned: each
real CLI, offline against its scripted endpoint, runs the scripted tool calls through a
pre-tool hook, and the test sees what it did with allow / deny / exit 2 / an edited
command (the tool result it sent the model, the file made or not).

The same runs keep the real stdin payloads in ``tests/bridges/payloads/<vendor>/``
honest: a run's payload must have the keys of the recorded one (the vendor changed its
contract otherwise). ``AGENTSHELL_RECORD_PAYLOADS=1`` rewrites the recorded files.

One CLI run carries several tool calls (the endpoint answers turn after turn), as each
start of a CLI costs one to three seconds.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.vendors.clis import POST_TOOL, PRE_TOOL, Claude, Codex, Gemini, Vendor, hook_command
from tests.vendors.endpoints import ScriptedEndpoint, Text, ToolCall

PAYLOADS = Path(__file__).resolve().parents[1] / "bridges" / "payloads"
VENDOR_FIXTURES = ["claude", "codex", "gemini"]
Decisions = dict[str, tuple[str, str]]


def recorded(record: Path) -> list[dict[str, Any]]:
    """The hook payloads saved by trivial_hook.py, in the order they came."""
    if not record.exists():
        return []
    return [json.loads(p.read_text()) for p in sorted(record.iterdir())]


def of_event(record: Path, event: str) -> list[dict[str, Any]]:
    return [p for p in recorded(record) if p.get("hook_event_name") == event]


def run_script(
    vendor: Vendor, calls: list[ToolCall], hooks: dict[str, Decisions | None]
) -> tuple[ScriptedEndpoint, Path]:
    """One CLI run: the model makes ``calls`` one turn after another, then stops; each
    event of ``hooks`` runs the trivial hook with its decisions (None: record only)."""
    record = vendor.root / "record"
    vendor.install_trivial_hooks(
        {
            event: hook_command(vendor.name, record, {"*": ("record", "")} if d is None else d)
            for event, d in hooks.items()
        }
    )
    with vendor.endpoint([*calls, Text("All done.")]) as endpoint:
        run = vendor.run("Do the steps.", endpoint)
    assert run.returncode == 0, run
    assert len(endpoint.results()) == len(calls), run
    return endpoint, record


# ------------------------------------------------------------------- shell calls
ALLOWED = "touch allowed.txt && printf 'out-%s\\n' allowed"  # its output: out-allowed
DENIED = "touch denied.txt && printf 'out-%s\\n' denied"
BLOCKED = "touch blocked.txt && printf 'out-%s\\n' blocked"
PROPOSED = "touch proposed.txt"
EDITED = "touch edited.txt"


@pytest.mark.parametrize("name", VENDOR_FIXTURES)
def test_the_pre_tool_hook_decides_each_shell_call(
    name: str, request: pytest.FixtureRequest
) -> None:
    vendor: Vendor = request.getfixturevalue(name)
    decisions: Decisions = {
        ALLOWED: ("allow", ""),
        DENIED: ("deny", "operator says no (deny)"),
        BLOCKED: ("exit2", "operator says no (exit 2)"),
        PROPOSED: ("edit", EDITED),
    }
    calls = [vendor.shell_call(c) for c in (ALLOWED, DENIED, BLOCKED, PROPOSED)]
    endpoint, record = run_script(vendor, calls, {PRE_TOOL[name]: decisions, POST_TOOL[name]: None})
    pre = of_event(record, PRE_TOOL[name])
    assert [p["tool_input"]["command"] for p in pre] == [ALLOWED, DENIED, BLOCKED, PROPOSED]
    assert {p["cwd"] for p in pre} == {str(vendor.project)}
    files = sorted(p.name for p in vendor.project.iterdir() if p.suffix == ".txt")
    assert files == ["allowed.txt", "edited.txt"]  # the edited command ran, not the proposed
    allowed, denied, blocked, edited = endpoint.results()
    assert "out-allowed" in allowed.text and allowed.error is not True
    for result, why in ((denied, "(deny)"), (blocked, "(exit 2)")):
        assert f"operator says no {why}" in result.text
        assert "out-denied" not in result.text and "out-blocked" not in result.text
        assert result.error is not False  # Claude Code and Gemini CLI flag it; Codex has no flag
    assert edited.error is not True
    # the after-tool hook runs for what ran, and only that
    assert len(of_event(record, POST_TOOL[name])) == 2


@pytest.mark.parametrize("name", VENDOR_FIXTURES)
def test_a_file_write_goes_through_the_pre_tool_hook(
    name: str, request: pytest.FixtureRequest
) -> None:
    vendor: Vendor = request.getfixturevalue(name)
    kept, refused = vendor.project / "kept.txt", vendor.project / "refused.txt"
    if isinstance(vendor, Codex):  # apply_patch: relative paths; the hook sees the patch
        calls = [vendor.write_call("kept.txt", "line one"), vendor.write_call("refused.txt", "x")]
        keys = [str(c.args) for c in calls]
    else:
        calls = [vendor.write_call(str(kept), "line one"), vendor.write_call(str(refused), "x")]
        keys = [str(kept), str(refused)]
    decisions: Decisions = {keys[0]: ("allow", ""), keys[1]: ("deny", "no write there")}
    endpoint, record = run_script(vendor, calls, {PRE_TOOL[name]: decisions})
    assert len(of_event(record, PRE_TOOL[name])) == 2
    assert kept.read_text().rstrip("\n") == "line one"
    assert not refused.exists()
    assert "no write there" in endpoint.results()[1].text


def test_claude_code_takes_a_permission_request_decision(claude: Claude) -> None:
    """PermissionRequest fires where Claude Code itself would ask (no allow rule, no
    PreToolUse answer); its own answer shape: ``decision.behavior`` allow (with
    ``updatedInput``) or deny (with ``message``, which the model reads). With no
    answer and nobody to ask in -p, Claude Code does not run the command."""
    decisions: Decisions = {
        "touch asked.txt": ("record", ""),
        PROPOSED: ("edit", EDITED),
        "touch refused.txt": ("deny", "the operator said no"),
    }
    calls = [claude.shell_call(c) for c in decisions]
    endpoint, record = run_script(claude, calls, {"PermissionRequest": decisions})
    asked = of_event(record, "PermissionRequest")
    assert [p["tool_input"]["command"] for p in asked] == list(decisions)
    files = sorted(p.name for p in claude.project.iterdir() if p.suffix == ".txt")
    assert files == ["edited.txt"]
    unanswered, edited, refused = endpoint.results()
    assert unanswered.error is True and edited.error is False and refused.error is True
    assert "the operator said no" in refused.text
    check_or_record(claude, asked[0])


def test_codex_runs_an_untrusted_hook_never_and_says_nothing(codex: Codex) -> None:
    """Why ``hooks status codex`` must look at trust: without it, Codex skips the hook
    (here one that denies everything) and runs the command as if unsupervised."""
    codex.bypass_hook_trust = False
    record = codex.root / "record"
    codex.install_trivial_hooks(
        {"PreToolUse": hook_command("codex", record, {"*": ("deny", "no")})}
    )
    with codex.endpoint([codex.shell_call("touch made.txt"), Text("ok")]) as endpoint:
        run = codex.run("make it", endpoint)
    assert run.returncode == 0, run
    assert recorded(record) == []
    assert (codex.project / "made.txt").exists()
    assert "hook" not in (run.stdout + run.stderr).lower()


# ----------------------------------------------------------- recorded payloads
def normalise(payload: dict[str, Any], vendor: Vendor) -> dict[str, Any]:
    """The payload with this run's scratch directory replaced by a fixed one."""
    text = json.dumps(payload)
    root = str(vendor.root)
    # Claude Code names a project's transcript folder by its path, every other
    # character than a letter or digit made a dash
    text = text.replace(root, "/tmp/vendor-test").replace(
        re.sub(r"[^A-Za-z0-9]", "-", root), "-tmp-vendor-test"
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def shape(payload: dict[str, Any]) -> dict[str, Any]:
    """The keys a bridge can rely on: top level, and one level down in dict values."""
    return {
        key: sorted(value) if isinstance(value, dict) else type(value).__name__
        for key, value in payload.items()
    }


def check_or_record(vendor: Vendor, payload: dict[str, Any], suffix: str = "") -> None:
    event, tool = payload["hook_event_name"], payload["tool_name"]
    path = PAYLOADS / vendor.name / f"real-{event}-{tool}{suffix}.json"
    payload = normalise(payload, vendor)
    if os.environ.get("AGENTSHELL_RECORD_PAYLOADS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n")
        return
    assert path.exists(), f"no recorded payload {path}: run with AGENTSHELL_RECORD_PAYLOADS=1"
    assert shape(payload) == shape(json.loads(path.read_text())), (
        f"{vendor.name} changed its {event} payload for {tool}"
    )


FAILING = "echo out; echo err >&2; exit 3"
# after a shell command that failed: Claude Code has its own event for it; Codex's
# PostToolUse carries the output alone (no exit code); Gemini's says "Exit Code: 3"
AFTER_FAILURE = {
    "claude": ("PostToolUseFailure", "Exit code 3", ""),
    "codex": ("PostToolUse", "err", "-exit3"),
    "gemini": ("AfterTool", "Exit Code: 3", "-exit3"),
}


def record_payloads(vendor: Vendor, calls: list[ToolCall], tools: list[str]) -> None:
    """One run of ``calls`` (then a failing shell command), every pre- and after-tool
    payload checked against (or kept as) the recorded one."""
    name = vendor.name
    after_failure, says, suffix = AFTER_FAILURE[name]
    hooks: dict[str, Decisions | None] = {PRE_TOOL[name]: {}, POST_TOOL[name]: None}
    hooks[after_failure] = None
    run_script(vendor, [*calls, vendor.shell_call(FAILING)], hooks)
    payloads = recorded(vendor.root / "record")
    failed = [p for p in payloads if p["tool_input"].get("command") == FAILING]
    ok = [p for p in payloads if p not in failed]
    seen = {(p["hook_event_name"], p["tool_name"]) for p in ok}
    want = {(event[name], tool) for tool in tools for event in (PRE_TOOL, POST_TOOL)}
    assert want <= seen, want - seen
    for key in sorted(want):
        check_or_record(
            vendor, next(p for p in ok if (p["hook_event_name"], p["tool_name"]) == key)
        )
    after = [p for p in failed if p["hook_event_name"] == after_failure]
    assert len(after) == 1 and says in json.dumps(after[0]), failed
    check_or_record(vendor, after[0], suffix)


def test_claude_code_payloads(claude: Claude) -> None:
    notes = claude.project / "notes.txt"
    notes.write_text("alpha\nbeta\n")
    calls = [
        claude.shell_call("echo hi"),
        claude.write_call(str(claude.project / "new.txt"), "one\ntwo\n"),
        ToolCall("Read", {"file_path": str(notes)}),  # Claude Code edits only what it read
        claude.edit_call(str(notes), "beta", "gamma"),
    ]
    record_payloads(claude, calls, ["Bash", "Write", "Read", "Edit"])
    assert notes.read_text() == "alpha\ngamma\n"


def test_codex_payloads(codex: Codex) -> None:
    notes = codex.project / "notes.txt"
    notes.write_text("alpha\nbeta\n")
    patch = "*** Begin Patch\n*** Update File: notes.txt\n alpha\n-beta\n+gamma\n*** End Patch\n"
    record_payloads(
        codex, [codex.shell_call("echo hi"), codex.patch_call(patch)], ["Bash", "apply_patch"]
    )
    assert notes.read_text() == "alpha\ngamma\n"


def test_gemini_cli_payloads(gemini: Gemini) -> None:
    notes = gemini.project / "notes.txt"
    notes.write_text("alpha\nbeta\n")
    calls = [
        gemini.shell_call("echo hi"),
        gemini.write_call(str(gemini.project / "new.txt"), "one\ntwo\n"),
        gemini.edit_call(str(notes), "beta", "gamma"),
    ]
    record_payloads(gemini, calls, ["run_shell_command", "write_file", "replace"])
    assert notes.read_text() == "alpha\ngamma\n"
