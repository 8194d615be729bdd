"""`agentshell hook` end to end: the real hook process (python -m
agentshell.bridges.hooks) against a real coordinator behind a real socket."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from agentshell.bridges.hooks.model import agent_name
from tests.polling import until
from tests.server.conftest import Served

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    tool_input = changes.pop("tool_input", None)
    data.update(changes)
    if tool_input is not None:
        data["tool_input"] = {**data["tool_input"], **tool_input}
    return data


class Hook:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data


async def hook(vendor: str, data: dict[str, Any] | str, socket: Path, *args: str) -> Hook:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agentshell.bridges.hooks",
        "--vendor",
        vendor,
        "--socket",
        str(socket),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    raw = data if isinstance(data, str) else json.dumps(data)
    out, err = await asyncio.wait_for(proc.communicate(raw.encode()), 60)
    assert proc.returncode is not None
    return Hook(proc.returncode, out.decode(), err.decode())


async def queued(served: Served, agent: str, task: asyncio.Task[Hook]) -> Any:
    def item() -> Any:
        if task.done():
            raise AssertionError(f"the hook answered before queueing: {task.result().stdout}")
        items = [a for a in served.coordinator.approvals() if a.agent_id == agent]
        return items[0] if items else None

    return await until(item, what=f"an item from {agent}")


def claude_bash(
    command: str, session: str = "516f6486-7f37-4f42-a4cc-f965826dd686"
) -> dict[str, Any]:
    return payload(
        "claude/real-PreToolUse-Bash.json", session_id=session, tool_input={"command": command}
    )


def ran_in_terminal(served: Served) -> list[str]:
    return [
        e.command for e in served.session.iter_events(types=("command_executed",)) if e.terminal
    ]


async def test_approved_shell_call_is_allowed_and_runs_nowhere_but_in_the_vendor(
    served: Served, tmp_path: Path
) -> None:
    data = claude_bash(f"touch {tmp_path / 'made'}")
    agent = agent_name("claude", data["session_id"])
    task = asyncio.ensure_future(hook("claude", data, served.socket))
    item = await queued(served, agent, task)
    assert item.command == data["tool_input"]["command"] and item.external
    info = served.coordinator.agent(agent)
    assert info.metadata["bridge"] == "claude" and set(info.capabilities) == {"run", "edit", "read"}
    await served.coordinator.approve(item.approval_id)
    done = await task
    out = done.json["hookSpecificOutput"]
    assert (done.code, out["permissionDecision"]) == (0, "allow")
    assert "updatedInput" not in out
    assert not (tmp_path / "made").exists()  # the vendor runs it, AgentShell does not
    assert ran_in_terminal(served) == []
    assert served.coordinator.approvals() == []


async def test_edited_command_reaches_each_vendor_its_own_way(served: Served) -> None:
    cases = {
        "claude": payload("claude/real-PermissionRequest-Bash.json"),
        "codex": payload("codex/real-PreToolUse-Bash.json"),
        "gemini": payload("gemini/real-BeforeTool-run_shell_command.json"),
    }
    answers = {}
    for vendor, data in cases.items():
        task = asyncio.ensure_future(hook(vendor, data, served.socket))
        item = await queued(served, agent_name(vendor, data["session_id"]), task)
        await served.coordinator.approve(item.approval_id, command="echo edited")
        answers[vendor] = (await task).json
    decision = answers["claude"]["hookSpecificOutput"]["decision"]
    assert decision["behavior"] == "allow"
    assert decision["updatedInput"]["command"] == "echo edited"
    codex_out = answers["codex"]["hookSpecificOutput"]
    assert codex_out["permissionDecision"] == "deny"  # Codex takes no edited input
    assert "run this command instead: echo edited" in codex_out["permissionDecisionReason"]
    assert answers["gemini"]["decision"] == "allow"
    assert answers["gemini"]["hookSpecificOutput"]["tool_input"] == {"command": "echo edited"}


async def test_rejection_reason_reaches_the_agent(served: Served) -> None:
    data = claude_bash("rm -rf build")
    task = asyncio.ensure_future(hook("claude", data, served.socket))
    item = await queued(served, agent_name("claude", data["session_id"]), task)
    await served.coordinator.reject(item.approval_id, "not the build dir")
    out = (await task).json["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny"
    assert out["permissionDecisionReason"] == "rejected in AgentShell: not the build dir"


async def test_a_rule_decides_without_the_human(served: Served) -> None:
    await served.coordinator.add_rule("allow", "prefix", "echo ")
    await served.coordinator.add_rule("deny", "prefix", "curl ")
    allowed = await hook("claude", claude_bash("echo hi"), served.socket)
    assert allowed.json["hookSpecificOutput"]["permissionDecision"] == "allow"
    denied = await hook("claude", claude_bash("curl evil.example"), served.socket)
    out = denied.json["hookSpecificOutput"]
    assert (
        out["permissionDecision"] == "deny" and "denied by rule" in out["permissionDecisionReason"]
    )
    assert served.coordinator.approvals() == []


async def test_no_decision_before_the_vendors_timeout_expires_the_item(served: Served) -> None:
    data = claude_bash("make deploy")
    agent = agent_name("claude", data["session_id"])
    task = asyncio.ensure_future(hook("claude", data, served.socket, "--timeout", "3"))
    item = await queued(served, agent, task)
    assert item.expires_at is not None
    done = await task
    out = done.json["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny" and "expired" in out["permissionDecisionReason"]
    assert served.coordinator.approvals() == []  # marked expired: out of the queue
    decided = [
        e
        for e in served.session.iter_events(types=("approval_decided",))
        if e.approval_id == item.approval_id
    ]
    assert [e.decision for e in decided] == ["expired"]
    try:
        await served.coordinator.approve(item.approval_id)
    except Exception as exc:
        assert "no longer pending" in str(exc) or "no pending" in str(exc)
    else:
        raise AssertionError("an expired item was approved")
    assert ran_in_terminal(served) == []


async def test_no_coordinator_fails_closed_with_the_start_hint(tmp_path: Path) -> None:
    gone = tmp_path / "nobody.sock"
    for vendor, name in (
        ("claude", "claude/real-PreToolUse-Bash.json"),
        ("codex", "codex/real-PreToolUse-Bash.json"),
        ("gemini", "gemini/real-BeforeTool-run_shell_command.json"),
    ):
        done = await hook(vendor, payload(name), gone)
        assert (
            done.code == 0 and "agentshell tui" in done.stdout and "agentshell serve" in done.stdout
        )
        text = json.dumps(done.json)
        assert '"deny"' in text and '"allow"' not in text
        opened = await hook(vendor, payload(name), gone, "--fail-open")
        assert (opened.code, opened.stdout) == (0, "")  # the vendor's own rules decide
        assert "--fail-open" in opened.stderr


async def test_garbage_on_stdin_is_blocked_without_a_traceback(served: Served) -> None:
    for garbage in ("{", "null", '{"hook_event_name": "PreToolUse", "tool_name": 7}'):
        done = await hook("claude", garbage, served.socket)
        assert done.code == 2 and done.stdout == ""
        assert "not allowing this call" in done.stderr and "Traceback" not in done.stderr
    assert served.coordinator.agents() == []


async def test_a_removed_agent_stays_refused(served: Served) -> None:
    await served.coordinator.add_rule("allow", "prefix", "echo ")
    data = claude_bash("echo one", session="aaaaaaaa-0000-4000-8000-00000000beef")
    agent = agent_name("claude", data["session_id"])
    first = await hook("claude", data, served.socket)
    assert first.json["hookSpecificOutput"]["permissionDecision"] == "allow"
    # its next call waits for the human when the operator removes it
    task = asyncio.ensure_future(
        hook("claude", claude_bash("ls /", data["session_id"]), served.socket)
    )
    await queued(served, agent, task)
    await served.coordinator.remove_agent(agent, "revoked")
    cut = (await task).json["hookSpecificOutput"]
    assert (
        cut["permissionDecision"] == "deny" and "agent removed" in cut["permissionDecisionReason"]
    )
    later = await hook("claude", data, served.socket)
    out = later.json["hookSpecificOutput"]
    assert (
        out["permissionDecision"] == "deny"
        and "removed by the operator" in out["permissionDecisionReason"]
    )
    assert agent not in served.coordinator.state["agents"]  # never registered again


async def test_finished_shell_call_is_recorded_with_its_exit_code(served: Served) -> None:
    pre = payload("claude/real-PreToolUse-Bash.json")
    task = asyncio.ensure_future(hook("claude", pre, served.socket))
    item = await queued(served, agent_name("claude", pre["session_id"]), task)
    await served.coordinator.approve(item.approval_id)
    await task
    post = await hook("claude", payload("claude/real-PostToolUse-Bash.json"), served.socket)
    assert (post.code, post.stdout) == (0, "")
    failed = payload("claude/real-PostToolUseFailure-Bash.json")
    await hook("claude", failed, served.socket)
    runs = list(served.session.iter_events(types=("command_executed",)))
    assert [(e.command, e.exit_code, e.approval_id) for e in runs] == [
        ("echo hi", 0, item.approval_id),
        (failed["tool_input"]["command"], 3, ""),
    ]
    assert runs[0].output == "hi" and runs[0].agent_id == agent_name("claude", pre["session_id"])


async def test_edits_are_checked_before_and_reported_after_with_real_ranges(
    served: Served, tmp_path: Path
) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("alpha\nbeta\ngamma\n")
    sid = "9b5d5914-e21d-42a1-856b-28fe71c29cad"
    edit = {"file_path": str(f), "old_string": "beta", "new_string": "BETA"}
    pre = payload("claude/real-PreToolUse-Edit.json", cwd=str(tmp_path), tool_input=edit)
    before = await hook("claude", pre, served.socket)
    assert (before.code, before.stdout) == (0, "")  # nothing overlaps: Claude Code decides
    f.write_text("alpha\nBETA\ngamma\n")  # the vendor's tool edits the file
    post = payload("claude/real-PostToolUse-Edit.json", cwd=str(tmp_path), tool_input=edit)
    post["tool_response"] = {**post["tool_response"], "originalFile": "alpha\nbeta\ngamma\n"}
    await hook("claude", post, served.socket)
    edits = list(served.session.iter_events(types=("file_edited",)))
    assert len(edits) == 1 and edits[0].agent_id == agent_name("claude", sid)
    assert edits[0].file_path == str(f) and [list(r) for r in edits[0].ranges] == [[1, 2]]


async def test_an_overlapping_edit_waits_for_the_human(served: Served, tmp_path: Path) -> None:
    f = tmp_path / "app.py"
    f.write_text("a = 1\nb = 2\nc = 3\n")
    other = await served.agent("bot")
    await other.report_edit(str(f), "a = 1\nb = 2\nc = 3\n", "a = 1\nb = 20\nc = 3\n")
    await other.close()
    f.write_text("a = 1\nb = 20\nc = 3\n")
    patch = "*** Begin Patch\n*** Update File: app.py\n a = 1\n-b = 20\n+b = 21\n*** End Patch\n"
    pre = payload(
        "codex/real-PreToolUse-apply_patch.json", cwd=str(tmp_path), tool_input={"command": patch}
    )
    agent = agent_name("codex", pre["session_id"])
    task = asyncio.ensure_future(hook("codex", pre, served.socket))
    item = await queued(served, agent, task)
    assert item.command.startswith("edit app.py lines 1-2") and "bot" in item.command
    assert not item.editable
    await served.coordinator.reject(item.approval_id, "bot is on it")
    out = (await task).json["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny" and "bot is on it" in out["permissionDecisionReason"]
    assert list(served.session.iter_events(types=("conflict_detected",))) == []


async def test_an_approved_overlapping_edit_is_recorded_as_a_conflict(
    served: Served, tmp_path: Path
) -> None:
    f = tmp_path / "app.py"
    f.write_text("a = 1\nb = 2\nc = 3\n")
    other = await served.agent("bot")
    await other.report_edit(str(f), "a = 1\nb = 2\nc = 3\n", "a = 1\nb = 20\nc = 3\n")
    await other.close()
    f.write_text("a = 1\nb = 20\nc = 3\n")
    patch = "*** Begin Patch\n*** Update File: app.py\n a = 1\n-b = 20\n+b = 21\n*** End Patch\n"
    pre = payload(
        "codex/real-PreToolUse-apply_patch.json", cwd=str(tmp_path), tool_input={"command": patch}
    )
    agent = agent_name("codex", pre["session_id"])
    task = asyncio.ensure_future(hook("codex", pre, served.socket))
    item = await queued(served, agent, task)
    await served.coordinator.approve(item.approval_id)
    assert (await task).stdout == ""  # Codex goes on
    f.write_text("a = 1\nb = 21\nc = 3\n")  # its apply_patch ran
    post = payload(
        "codex/real-PostToolUse-apply_patch.json", cwd=str(tmp_path), tool_input={"command": patch}
    )
    await hook("codex", post, served.socket)
    found = list(served.session.iter_events(types=("conflict_detected",)))
    assert [(sorted(c.agents), c.file_path) for c in found] == [(sorted(["bot", agent]), str(f))]
    assert served.coordinator.state["active_conflicts"]  # the conflict panel lists it


async def test_a_permission_request_pairs_with_its_finished_command_when_edited(
    served: Served,
) -> None:
    perm = payload("claude/real-PermissionRequest-Bash.json")
    task = asyncio.ensure_future(hook("claude", perm, served.socket))
    item = await queued(served, agent_name("claude", perm["session_id"]), task)
    await served.coordinator.approve(item.approval_id, command="touch other.txt")
    await task
    post = payload(
        "claude/real-PostToolUse-Bash.json",
        session_id=perm["session_id"],
        tool_input={"command": "touch other.txt"},
    )
    await hook("claude", post, served.socket)
    runs = list(served.session.iter_events(types=("command_executed",)))
    assert [(e.command, e.approval_id) for e in runs] == [("touch other.txt", item.approval_id)]


async def test_apply_patch_is_reported_from_the_contents_kept_before_it(
    served: Served, tmp_path: Path
) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("alpha\nbeta\n")
    patch = "*** Begin Patch\n*** Update File: notes.txt\n alpha\n-beta\n+gamma\n*** End Patch\n"
    pre = payload(
        "codex/real-PreToolUse-apply_patch.json", cwd=str(tmp_path), tool_input={"command": patch}
    )
    assert (await hook("codex", pre, served.socket)).stdout == ""
    f.write_text("alpha\ngamma\n")
    post = payload(
        "codex/real-PostToolUse-apply_patch.json", cwd=str(tmp_path), tool_input={"command": patch}
    )
    await hook("codex", post, served.socket)
    edits = list(served.session.iter_events(types=("file_edited",)))
    assert [(e.file_path, [list(r) for r in e.ranges]) for e in edits] == [(str(f), [[1, 2]])]


async def test_agentshell_hook_on_the_full_cli_is_the_same_hook(served: Served) -> None:
    read = json.dumps(payload("claude/real-PreToolUse-Read.json"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agentshell", "hook", "--vendor", "claude",
        "--socket", str(served.socket),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate(read.encode())
    assert (proc.returncode, out) == (0, b"")
    assert b"no opinion on tool 'Read'" in err
    await served.coordinator.add_rule("allow", "prefix", "echo ")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agentshell", "hook", "--vendor", "claude",
        "--socket", str(served.socket),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate(json.dumps(claude_bash("echo hi")).encode())
    assert json.loads(out)["hookSpecificOutput"]["permissionDecision"] == "allow"
