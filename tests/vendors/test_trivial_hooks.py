"""The harness proved with a trivial hook: each real CLI, offline against its scripted
endpoint, runs the scripted tool call through a pre-tool hook, and the test sees what it
did with allow / deny / exit 2 (the tool result it sent the model, the file made or not).

The same runs keep the real stdin payloads in ``tests/bridges/payloads/<vendor>/``
honest: a run's payload must have the keys of the recorded one (the vendor changed its
contract otherwise). ``AGENTSHELL_RECORD_PAYLOADS=1`` rewrites the recorded files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.vendors.clis import POST_TOOL, PRE_TOOL, Claude, Codex, Gemini, Vendor, hook_command
from tests.vendors.endpoints import ScriptedEndpoint, Text, ToolCall

PAYLOADS = Path(__file__).resolve().parents[1] / "bridges" / "payloads"
VENDOR_FIXTURES = ["claude", "codex", "gemini"]
MARK = "hello-from-the-42"  # the output of the command, never its text


def recorded(record: Path) -> list[dict[str, Any]]:
    """The hook payloads saved by trivial_hook.py, in the order they came."""
    if not record.exists():
        return []
    return [json.loads(p.read_text()) for p in sorted(record.iterdir())]


def pre_tool(record: Path, vendor: Vendor) -> list[dict[str, Any]]:
    return [p for p in recorded(record) if p.get("hook_event_name") == PRE_TOOL[vendor.name]]


def shell_command(payload: dict[str, Any]) -> str:
    return str(payload["tool_input"]["command"])


def run_shell(vendor: Vendor, mode: str, reason: str = "") -> tuple[ScriptedEndpoint, Path]:
    record = vendor.root / "record"
    vendor.install_trivial_hooks(
        {
            PRE_TOOL[vendor.name]: hook_command(vendor.name, mode, record, reason),
            POST_TOOL[vendor.name]: hook_command(vendor.name, "record", record),
        }
    )
    command = "touch made.txt && printf 'hello-from-the-%s\\n' 42"
    with vendor.endpoint([vendor.shell_call(command), Text("All done.")]) as endpoint:
        run = vendor.run("Make the file made.txt.", endpoint)
    assert run.returncode == 0, run
    pre = pre_tool(record, vendor)
    assert [shell_command(p) for p in pre] == [command], run
    assert pre[0]["cwd"] == str(vendor.project)
    return endpoint, record


@pytest.mark.parametrize("name", VENDOR_FIXTURES)
def test_an_allowed_shell_call_runs_and_its_output_reaches_the_model(
    name: str, request: pytest.FixtureRequest
) -> None:
    vendor: Vendor = request.getfixturevalue(name)
    endpoint, record = run_shell(vendor, "allow")
    assert (vendor.project / "made.txt").exists()
    result = endpoint.tool_result()
    assert result is not None and MARK in result.text and result.error is not True
    post = [p for p in recorded(record) if p.get("hook_event_name") == POST_TOOL[name]]
    assert len(post) == 1, recorded(record)


@pytest.mark.parametrize("name", VENDOR_FIXTURES)
@pytest.mark.parametrize("mode", ["deny", "exit2"])
def test_a_denied_shell_call_does_not_run_and_the_model_reads_the_reason(
    name: str, mode: str, request: pytest.FixtureRequest
) -> None:
    vendor: Vendor = request.getfixturevalue(name)
    reason = f"operator says no ({mode})"
    endpoint, record = run_shell(vendor, mode, reason)
    assert not (vendor.project / "made.txt").exists()
    result = endpoint.tool_result()
    assert result is not None and reason in result.text, endpoint.model_requests()[-1].body
    assert MARK not in result.text
    assert result.error is not False  # Claude and Gemini flag it; Codex has no flag
    post = [p for p in recorded(record) if p.get("hook_event_name") == POST_TOOL[name]]
    assert post == []


@pytest.mark.parametrize("name", VENDOR_FIXTURES)
def test_an_edited_shell_call_runs_the_edited_command(
    name: str, request: pytest.FixtureRequest
) -> None:
    """All three take a replaced command from the pre-tool hook (Claude Code and Codex:
    ``updatedInput`` beside ``permissionDecision: allow``; Gemini CLI:
    ``hookSpecificOutput.tool_input``) and run it instead of the model's."""
    vendor: Vendor = request.getfixturevalue(name)
    record = vendor.root / "record"
    vendor.install_trivial_hooks(
        {PRE_TOOL[name]: hook_command(name, "edit", record, "touch edited.txt")}
    )
    with vendor.endpoint([vendor.shell_call("touch proposed.txt"), Text("ok")]) as endpoint:
        run = vendor.run("touch it", endpoint)
    assert run.returncode == 0, run
    assert [shell_command(p) for p in pre_tool(record, vendor)] == ["touch proposed.txt"]
    assert (vendor.project / "edited.txt").exists(), run
    assert not (vendor.project / "proposed.txt").exists()
    result = endpoint.tool_result()
    assert result is not None and result.error is not True, result


@pytest.mark.parametrize(
    ("mode", "made", "error"), [("edit", "edited.txt", False), ("deny", None, True)]
)
def test_claude_code_takes_a_permission_request_decision(
    claude: Claude, mode: str, made: str | None, error: bool
) -> None:
    """PermissionRequest's own answer shape: ``decision.behavior`` allow (with
    ``updatedInput``) or deny (with ``message``, which the model reads)."""
    record = claude.root / "record"
    reason = "touch edited.txt" if mode == "edit" else "the operator said no"
    claude.install_trivial_hooks(
        {"PermissionRequest": hook_command("claude", mode, record, reason)}
    )
    with claude.endpoint([claude.shell_call("touch proposed.txt"), Text("ok")]) as endpoint:
        run = claude.run("touch it", endpoint)
    assert run.returncode == 0, run
    files = sorted(p.name for p in claude.project.iterdir() if p.suffix == ".txt")
    assert files == ([made] if made else []), run
    result = endpoint.tool_result()
    assert result is not None and result.error is error
    if mode == "deny":
        assert reason in result.text


@pytest.mark.parametrize("name", VENDOR_FIXTURES)
@pytest.mark.parametrize("mode", ["allow", "deny"])
def test_a_file_write_goes_through_the_hook(
    name: str, mode: str, request: pytest.FixtureRequest
) -> None:
    vendor: Vendor = request.getfixturevalue(name)
    record = vendor.root / "record"
    vendor.install_trivial_hooks({PRE_TOOL[name]: hook_command(name, mode, record, "no write")})
    target = vendor.project / "notes.txt"
    path = "notes.txt" if isinstance(vendor, Codex) else str(target)
    with vendor.endpoint([vendor.write_call(path, "line one"), Text("Written.")]) as endpoint:
        run = vendor.run("Write notes.txt.", endpoint)
    assert run.returncode == 0, run
    pre = pre_tool(record, vendor)
    assert len(pre) == 1, run
    assert target.exists() == (mode == "allow"), run
    if mode == "allow":
        assert target.read_text().rstrip("\n") == "line one"
    else:
        result = endpoint.tool_result()
        assert result is not None and "no write" in result.text


# ----------------------------------------------------------- recorded payloads
def normalise(payload: dict[str, Any], vendor: Vendor) -> dict[str, Any]:
    """The payload with this run's scratch directory replaced by a fixed one."""
    text = json.dumps(payload)
    root = str(vendor.root)
    text = text.replace(root, "/tmp/vendor-test").replace(
        root.replace("/", "-"), "-tmp-vendor-test"
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


def record_all(vendor: Vendor, scripts: list[list[Any]], want: set[tuple[str, str]]) -> None:
    """Run each script of tool calls with hooks recording every event; check or keep
    the payload of each (event, tool) in ``want``."""
    record = vendor.root / "record"
    events = (PRE_TOOL[vendor.name], POST_TOOL[vendor.name])
    vendor.install_trivial_hooks({e: hook_command(vendor.name, "allow", record) for e in events})
    for i, calls in enumerate(scripts):
        with vendor.endpoint([*calls, Text("ok")]) as endpoint:
            run = vendor.run(f"step {i}", endpoint)
        assert run.returncode == 0, run
    payloads = {(p["hook_event_name"], p.get("tool_name")): p for p in recorded(record)}
    assert want <= set(payloads), (want - set(payloads), run)
    for key in sorted(want):
        check_or_record(vendor, payloads[key])


def both(*tools: str, vendor: str) -> set[tuple[str, str]]:
    return {(event[vendor], tool) for tool in tools for event in (PRE_TOOL, POST_TOOL)}


def test_claude_code_payloads(claude: Claude) -> None:
    (claude.project / "notes.txt").write_text("alpha\nbeta\n")
    notes = str(claude.project / "notes.txt")
    record_all(
        claude,
        [
            [claude.shell_call("echo hi")],
            [claude.write_call(str(claude.project / "new.txt"), "one\ntwo\n")],
            # Claude Code edits only a file it has read
            [ToolCall("Read", {"file_path": notes}), claude.edit_call(notes, "beta", "gamma")],
        ],
        both("Bash", "Write", "Edit", "Read", vendor="claude"),
    )
    assert (claude.project / "notes.txt").read_text() == "alpha\ngamma\n"


def test_claude_code_permission_request_payload(claude: Claude) -> None:
    """PermissionRequest fires where Claude Code itself would ask (no PreToolUse answer)."""
    record = claude.root / "record"
    claude.install_trivial_hooks({"PermissionRequest": hook_command("claude", "record", record)})
    with claude.endpoint([claude.shell_call("touch asked.txt"), Text("ok")]) as endpoint:
        run = claude.run("touch it", endpoint)
    assert run.returncode == 0, run
    asked = [p for p in recorded(record) if p["hook_event_name"] == "PermissionRequest"]
    assert [p["tool_input"]["command"] for p in asked] == ["touch asked.txt"], run
    # no answer from the hook and nobody to ask in -p: Claude Code does not run it
    assert not (claude.project / "asked.txt").exists()
    check_or_record(claude, asked[0])


# after a shell command that failed: Claude Code has its own event for it; Codex's
# PostToolUse carries the output alone (no exit code); Gemini's says "Exit Code: 3"
AFTER_FAILURE = {
    "claude": ("PostToolUseFailure", "Bash", "Exit code 3"),
    "codex": ("PostToolUse", "Bash", "err"),
    "gemini": ("AfterTool", "run_shell_command", "Exit Code: 3"),
}


@pytest.mark.parametrize("name", VENDOR_FIXTURES)
def test_the_payload_after_a_failed_shell_command(
    name: str, request: pytest.FixtureRequest
) -> None:
    vendor: Vendor = request.getfixturevalue(name)
    record = vendor.root / "record"
    event, tool, says = AFTER_FAILURE[name]
    vendor.install_trivial_hooks(
        {
            PRE_TOOL[name]: hook_command(name, "allow", record),
            event: hook_command(name, "record", record),
        }
    )
    with vendor.endpoint([vendor.shell_call("echo out; echo err >&2; exit 3"), Text("ok")]) as e:
        run = vendor.run("fail", e)
    assert run.returncode == 0, run
    after = [p for p in recorded(record) if p["hook_event_name"] == event]
    assert len(after) == 1 and after[0]["tool_name"] == tool, recorded(record)
    assert says in json.dumps(after[0])
    check_or_record(vendor, after[0], "" if name == "claude" else "-exit3")


def test_codex_payloads(codex: Codex) -> None:
    (codex.project / "notes.txt").write_text("alpha\nbeta\n")
    patch = "*** Begin Patch\n*** Update File: notes.txt\n alpha\n-beta\n+gamma\n*** End Patch\n"
    record_all(
        codex,
        [[codex.shell_call("echo hi")], [codex.patch_call(patch)]],
        both("Bash", "apply_patch", vendor="codex"),
    )
    assert (codex.project / "notes.txt").read_text() == "alpha\ngamma\n"


def test_gemini_cli_payloads(gemini: Gemini) -> None:
    (gemini.project / "notes.txt").write_text("alpha\nbeta\n")
    notes = str(gemini.project / "notes.txt")
    record_all(
        gemini,
        [
            [gemini.shell_call("echo hi")],
            [gemini.write_call(str(gemini.project / "new.txt"), "one\ntwo\n")],
            [gemini.edit_call(notes, "beta", "gamma")],
        ],
        both("run_shell_command", "write_file", "replace", vendor="gemini"),
    )
    assert (gemini.project / "notes.txt").read_text() == "alpha\ngamma\n"


def test_codex_runs_an_untrusted_hook_never_and_says_nothing(codex: Codex) -> None:
    """Why ``hooks status codex`` must look at trust: without it, Codex skips the hook
    (here one that denies everything) and runs the command as if unsupervised."""
    codex.bypass_hook_trust = False
    record = codex.root / "record"
    codex.install_trivial_hooks({"PreToolUse": hook_command("codex", "deny", record, "no")})
    with codex.endpoint([codex.shell_call("touch made.txt"), Text("ok")]) as endpoint:
        run = codex.run("make it", endpoint)
    assert run.returncode == 0, run
    assert recorded(record) == []
    assert (codex.project / "made.txt").exists()
    assert "hook" not in (run.stdout + run.stderr).lower()
