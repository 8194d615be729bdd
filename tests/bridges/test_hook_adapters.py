"""The vendor adapters on recorded payloads: the examples of each vendor's hook docs
(``payloads/<vendor>/doc-*.json``) and what the real CLIs sent (``real-*.json``,
recorded by tests/vendors), and the exact answers each decision becomes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from agentshell.bridges.hooks import claude, codex, entry, files, gemini
from agentshell.bridges.hooks.model import Decision, HookInputError, agent_name
from agentshell.bridges.hooks.patch import parse_patch

PAYLOADS = Path(__file__).parent / "payloads"
ADAPTERS = {"claude": claude, "codex": codex, "gemini": gemini}
ALL = sorted(PAYLOADS.glob("*/*.json"))


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


def test_there_are_doc_and_real_payloads_for_every_vendor() -> None:
    for vendor in ADAPTERS:
        names = [p.name for p in (PAYLOADS / vendor).glob("*.json")]
        assert any(n.startswith("doc-") for n in names), vendor
        assert any(n.startswith("real-") for n in names), vendor


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_recorded_payload_parses_to_what_its_name_says(path: Path) -> None:
    vendor = path.parent.name
    payload = json.loads(path.read_text())
    call = ADAPTERS[vendor].parse(payload)
    assert call.vendor == vendor
    assert call.event == payload["hook_event_name"] == path.stem.split("-")[1]
    assert call.tool == payload["tool_name"]
    assert call.session_id == payload["session_id"]
    shell = {"Bash", "run_shell_command"}
    edits = {"Edit", "Write", "MultiEdit", "apply_patch", "replace", "write_file"}
    if call.tool in shell:
        assert call.kind == "shell" and call.command == payload["tool_input"]["command"]
    elif call.tool in edits:
        assert call.kind == "edit" and call.changes
        for c in call.changes:
            assert Path(c.path).is_absolute()
    else:
        assert call.kind == "other"
    assert agent_name(vendor, call.session_id).startswith(f"{vendor}-")


def test_exit_codes_and_outputs_of_finished_shell_calls() -> None:
    ok = claude.parse(load("claude/real-PostToolUse-Bash.json"))
    assert (ok.moment, ok.exit_code, ok.output) == ("post", 0, "hi")
    failed = claude.parse(load("claude/real-PostToolUseFailure-Bash.json"))
    assert (failed.moment, failed.exit_code) == ("failed", 3)
    assert "err" in failed.output
    doc_failed = claude.parse(load("claude/doc-PostToolUseFailure-Bash.json"))
    assert doc_failed.exit_code == 1
    g = gemini.parse(load("gemini/real-AfterTool-run_shell_command-exit3.json"))
    assert (g.exit_code, g.output) == (3, "out\nerr")
    c = codex.parse(load("codex/real-PostToolUse-Bash-exit3.json"))
    assert c.exit_code is None and c.output == "out\nerr\n"  # Codex does not say


def test_vendors_own_old_contents_after_an_edit() -> None:
    e = claude.parse(load("claude/real-PostToolUse-Edit.json"))
    assert e.originals == {"/tmp/vendor-test/project/notes.txt": "alpha\nbeta\n"}
    w = claude.parse(load("claude/real-PostToolUse-Write.json"))
    assert w.originals == {"/tmp/vendor-test/project/new.txt": None}  # created
    g = gemini.parse(load("gemini/real-AfterTool-replace.json"))
    assert g.originals == {"/tmp/vendor-test/project/notes.txt": "alpha\nbeta\n"}
    assert g.currents == {"/tmp/vendor-test/project/notes.txt": "alpha\ngamma\n"}
    p = codex.parse(load("codex/real-PostToolUse-apply_patch.json"))
    assert p.originals == {}  # kept from before the tool by the hook itself


# ------------------------------------------------------------------- answers


def out(answer: Any) -> dict[str, Any]:
    assert answer.exit_code == 0
    data: dict[str, Any] = json.loads(answer.stdout)
    return data


def test_claude_pretooluse_answers() -> None:
    call = claude.parse(load("claude/doc-PreToolUse-Bash.json"))
    allow = out(claude.render(call, Decision("allow", "ok")))
    assert allow == {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "allow",
            "permissionDecisionReason": "ok",
        }
    }
    edited = out(claude.render(call, Decision("allow", "edited", "npm test -- -x")))
    updated = edited["hookSpecificOutput"]["updatedInput"]
    assert updated == {**call.tool_input, "command": "npm test -- -x"}
    deny = out(claude.render(call, Decision("deny", "not now")))["hookSpecificOutput"]
    assert (deny["permissionDecision"], deny["permissionDecisionReason"]) == ("deny", "not now")
    assert claude.render(call, Decision("pass")).stdout == ""


def test_claude_permissionrequest_answers() -> None:
    call = claude.parse(load("claude/real-PermissionRequest-Bash.json"))
    allow = out(claude.render(call, Decision("allow")))
    assert allow == {
        "hookSpecificOutput": {
            "hookEventName": "PermissionRequest",
            "decision": {"behavior": "allow"},
        }
    }
    edited = out(claude.render(call, Decision("allow", "", "touch other.txt")))
    decision = edited["hookSpecificOutput"]["decision"]
    assert decision["updatedInput"]["command"] == "touch other.txt"
    deny = out(claude.render(call, Decision("deny", "no")))["hookSpecificOutput"]["decision"]
    assert deny == {"behavior": "deny", "message": "no"}
    assert claude.render(call, Decision("ask")).stdout == ""  # its own dialog


def test_codex_never_sends_fields_it_fails_closed_on() -> None:
    pre = codex.parse(load("codex/real-PreToolUse-Bash.json"))
    assert codex.render(pre, Decision("allow", "ok")).stdout == ""  # allow = say nothing
    edited = out(codex.render(pre, Decision("allow", "", "echo edited")))["hookSpecificOutput"]
    assert edited["permissionDecision"] == "deny"
    assert "echo edited" in edited["permissionDecisionReason"]
    perm = codex.parse(load("codex/doc-PermissionRequest-Bash.json"))
    allow = out(codex.render(perm, Decision("allow")))
    assert allow["hookSpecificOutput"]["decision"] == {"behavior": "allow"}
    e = out(codex.render(perm, Decision("allow", "", "rm -rf target/debug")))
    d = e["hookSpecificOutput"]["decision"]
    assert d["behavior"] == "deny" and "rm -rf target/debug" in d["message"]
    for answer in (allow, e):
        text = json.dumps(answer)
        assert "updatedInput" not in text and "updatedPermissions" not in text
        assert "interrupt" not in text


def test_gemini_answers() -> None:
    call = gemini.parse(load("gemini/real-BeforeTool-run_shell_command.json"))
    assert out(gemini.render(call, Decision("allow"))) == {"decision": "allow"}
    edited = out(gemini.render(call, Decision("allow", "", "echo edited")))
    assert edited["hookSpecificOutput"]["tool_input"] == {"command": "echo edited"}
    deny = out(gemini.render(call, Decision("deny", "no")))
    assert deny == {"decision": "deny", "reason": "no"}
    assert gemini.render(call, Decision("pass")).stdout == ""


# ------------------------------------------------------------ bad input


BAD = [
    ({}, "hook_event_name"),
    ({"hook_event_name": "PreToolUse"}, "session_id"),
    ({"hook_event_name": "Stop", "session_id": "s"}, "not one this hook answers"),
    ({"hook_event_name": "PreToolUse", "session_id": 3, "tool_name": "Bash"}, "must be a string"),
    (
        {"hook_event_name": "PreToolUse", "session_id": "s", "tool_name": "Bash", "tool_input": []},
        "must be an object",
    ),
    (
        {"hook_event_name": "PreToolUse", "session_id": "s", "tool_name": "Bash", "tool_input": {}},
        "command",
    ),
    (
        {
            "hook_event_name": "PreToolUse",
            "session_id": "s",
            "tool_name": "Edit",
            "tool_input": {"file_path": "a"},
        },
        "old_string",
    ),
]


@pytest.mark.parametrize(("payload", "said"), BAD)
def test_bad_payloads_are_refused_with_a_reason(payload: dict[str, Any], said: str) -> None:
    with pytest.raises(HookInputError, match=said):
        claude.parse(payload)


def run_entry(argv: list[str], stdin: str) -> tuple[int, str, str]:
    o, e = io.StringIO(), io.StringIO()
    code = entry.main(argv, io.StringIO(stdin), o, e)
    return code, o.getvalue(), e.getvalue()


@pytest.mark.parametrize(
    "stdin", ["", "not json", "[1, 2]", '{"hook_event_name": "PreToolUse"}', "\x00\xff{"]
)
@pytest.mark.parametrize("vendor", ["claude", "codex", "gemini"])
def test_garbage_blocks_with_a_message_and_no_traceback(vendor: str, stdin: str) -> None:
    code, stdout, stderr = run_entry(["--vendor", vendor, "--socket", "/nonexistent/s"], stdin)
    assert code == 2 and stdout == ""
    assert stderr.startswith(f"agentshell hook ({vendor}): ") and "not allowing" in stderr
    assert "Traceback" not in stderr


def test_an_event_other_than_the_installed_one_is_refused() -> None:
    raw = json.dumps(load("claude/real-PreToolUse-Bash.json"))
    code, _, stderr = run_entry(["--vendor", "claude", "--event", "PostToolUse"], raw)
    assert code == 2 and "installed for PostToolUse" in stderr


def test_a_read_passes_at_once_without_a_session() -> None:
    raw = json.dumps(load("claude/real-PreToolUse-Read.json"))
    code, stdout, _ = run_entry(["--vendor", "claude", "--socket", "/nonexistent/s"], raw)
    assert (code, stdout) == (0, "")


def test_usage_errors() -> None:
    assert run_entry([], "{}")[0] == 2
    code, _, err = run_entry(["--vendor", "vim"], "{}")
    assert code == 2 and "--vendor must be one of" in err
    code, _, err = run_entry(["--vendor", "claude", "--timeout", "-1"], "{}")
    assert code == 2 and "positive" in err
    code, out_, _ = run_entry(["--help"], "")
    assert code == 0 and "--fail-open" in out_


def test_the_default_socket_is_the_servers() -> None:
    from agentshell.server.paths import default_socket_path

    assert entry.default_socket("s1") == str(default_socket_path("s1"))


def test_agent_names_use_the_random_end_of_the_session_id() -> None:
    # Codex's ids are UUIDv7: two sessions a second apart share their first digits
    a = agent_name("codex", "01a23ed0-9d58-7b22-90d2-6f5836c2e064")
    b = agent_name("codex", "01a23ed0-a08a-7672-8a28-23cd2ec2eb1e")
    assert a == "codex-36c2e064" and a != b
    with pytest.raises(HookInputError):
        agent_name("claude", "---")


# --------------------------------------------------------------- patches, ranges


def test_apply_patch_files_and_hunks() -> None:
    text = (
        "*** Begin Patch\n*** Update File: a.py\n@@ def f():\n x = 1\n-y = 2\n+y = 3\n"
        "@@\n-z\n+w\n*** Add File: b.txt\n+one\n+two\n*** Delete File: c.txt\n*** End Patch\n"
    )
    a, b, c = parse_patch(text)
    assert (a.path, a.hunks) == ("a.py", (("x = 1", "y = 2"), ("z",)))
    assert (b.path, b.created, b.content) == ("b.txt", True, "one\ntwo\n")
    assert (c.path, c.deleted) == ("c.txt", True)
    with pytest.raises(HookInputError):
        parse_patch("rm -rf /")


def test_touched_ranges() -> None:
    from agentshell.bridges.hooks.model import FileChange

    text = "a\nb\nc\nb\n"
    assert files.touched_ranges(FileChange("f", old="b", new="x"), text) == [[1, 2]]
    assert files.touched_ranges(FileChange("f", old="b", new="x", replace_all=True), text) == [
        [1, 2],
        [3, 4],
    ]
    assert files.touched_ranges(FileChange("f", old="b\nc", new="x"), text) == [[1, 3]]
    assert files.touched_ranges(FileChange("f", new="whole"), text) == [[0, 4]]
    assert files.touched_ranges(FileChange("f", hunks=(("c", "b"),)), text) == [[2, 4]]
    assert files.touched_ranges(FileChange("f", new="x"), None) == [[0, 1]]  # a new file


def test_the_wait_ends_before_the_vendors_timeout() -> None:
    from agentshell.bridges.hooks.policy import Options, budget

    assert budget(Options("/s", 600.0)) == 595.0  # 5 s to answer
    assert budget(Options("/s", 3.0)) == pytest.approx(2.7)  # a tenth of a short one
    assert budget(Options("/s", 0.2)) == 0.5  # never less than half a second


def test_a_session_socket_is_the_one_its_server_recorded(tmp_path: Path) -> None:
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / "server.socket").write_text("/run/elsewhere/s1.sock\n")
    assert entry.session_socket("s1", str(tmp_path)) == "/run/elsewhere/s1.sock"
    assert entry.session_socket("s2", str(tmp_path)) == entry.default_socket("s2")
    assert entry.session_socket("s1", None) == entry.default_socket("s1")
