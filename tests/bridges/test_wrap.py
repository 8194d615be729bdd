"""`agentshell wrap` end to end: a real scripted prompt program in a real PTY, wrapped
by the real CLI (itself in a PTY, as in a terminal pane), against a real coordinator."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

from agentshell.client import AgentClient
from tests.polling import until

from .conftest import Served

pytestmark = pytest.mark.timeout(120)

PROG = Path(__file__).with_name("prompt_prog.py")


async def queued(op: AgentClient, agent: str) -> dict[str, Any]:
    async def got() -> dict[str, Any] | None:
        for a in await op.approvals():
            if a["status"] == "queued" and a["agent_id"] == agent:
                return a
        return None

    item: dict[str, Any] = await until(got, 30, what=f"a queued approval from {agent}")
    return item


def spawn_wrap(served: Served, token: str, *args: str, answers: Path) -> Any:
    env = dict(os.environ, AGENTSHELL_AGENT="aider", AGENTSHELL_TOKEN=token)
    env.pop("AGENTSHELL_TERMINAL", None)
    return pexpect.spawn(
        sys.executable,
        [
            "-m",
            "agentshell",
            "wrap",
            "--socket",
            str(served.socket),
            *args,
            "--",
            sys.executable,
            str(PROG),
            str(answers),
        ],
        env=env,
        dimensions=(30, 120),
        timeout=30,
    )


def answers_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def expect(child: Any, pattern: str) -> None:
    await asyncio.to_thread(child.expect, pattern, 30)


async def test_aider_prompts_become_approvals_answered_with_the_decision(
    served: Served, tmp_path: Path
) -> None:
    token = await served.coordinator.add_agent("aider", ["read", "run"])
    op = await served.operator()
    answers = tmp_path / "answers"
    child = spawn_wrap(served, token, "--profile", "aider", answers=answers)
    try:
        item = await queued(op, "aider")
        assert item["command"] == "rm -rf build"
        assert item.get("editable") is False and item.get("external") is True
        assert answers_of(answers) == []  # the prompt waits for the queue
        child.send(b"y\r")  # a key typed into the pane meanwhile is held back
        await op.approve(item["approval_id"])
        await until(lambda: answers_of(answers) == ["shell=y"], what="the shell prompt answered")

        item = await queued(op, "aider")
        assert item["command"] == "aider: create file src/new_module.py"
        await op.reject(item["approval_id"], "no new modules, extend utils.py")
        await until(
            lambda: answers_of(answers) == ["shell=y", "create=n"], what="the create prompt"
        )
        await expect(child, "no new modules, extend utils.py")

        # a question the profile does not gate is left to whoever is at the terminal
        await expect(child, r"Delete the cache too\? \[y/N\]")
        assert not [a for a in await op.approvals() if a["status"] == "queued"]
        child.send(b"y\r")
        await expect(child, "done")
        await asyncio.to_thread(child.expect, pexpect.EOF, 30)
        assert answers_of(answers) == ["shell=y", "create=n", "human=y"]
    finally:
        child.close(force=True)
        await op.close()
    assert child.exitstatus == 0
    # the approved command was the CLI's to run: the coordinator ran nothing
    assert not [e for e in served.session.iter_events() if e.event_type == "command_executed"]


async def test_generic_profile_expiry_answers_no(served: Served, tmp_path: Path) -> None:
    token = await served.coordinator.add_agent("aider", ["read", "run"])
    answers = tmp_path / "answers"
    child = spawn_wrap(served, token, "--timeout", "0.5", answers=answers)
    try:
        # the generic profile knows only y/n suffixes: aider's (Y)es/(N)o is left alone
        await expect(child, r"Run shell command\?")
        child.send(b"y\r")
        await expect(child, r"Create new file\?")
        child.send(b"n\r")
        await expect(child, "expired")
        await asyncio.to_thread(child.expect, pexpect.EOF, 30)
    finally:
        child.close(force=True)
    assert answers_of(answers) == ["shell=y", "create=n", "human=n"]


async def test_no_coordinator_fails_with_the_start_hint(served: Served, tmp_path: Path) -> None:
    token = await served.coordinator.add_agent("aider", ["read", "run"])
    env = dict(os.environ, AGENTSHELL_AGENT="aider", AGENTSHELL_TOKEN=token)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agentshell", "wrap", "--socket", str(tmp_path / "none.sock"), "--", "true"],
        env=env,
        timeout=30,
    )
    await asyncio.to_thread(child.expect, pexpect.EOF, 30)
    child.close()
    assert child.exitstatus == 2
    assert b"agentshell tui" in (child.before or b"")


async def test_pane_option_runs_the_cli_in_a_new_pane_of_the_session(
    served: Served, tmp_path: Path
) -> None:
    token = await served.coordinator.add_agent("aider", ["read", "run"])
    op = await served.operator()
    answers = tmp_path / "answers"
    env = dict(os.environ, AGENTSHELL_AGENT="aider", AGENTSHELL_TOKEN=token)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "agentshell", "wrap", "--socket", str(served.socket), "--profile", "aider"),
        *("--pane", "aider1", "--", sys.executable, str(PROG), str(answers)),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    try:
        assert proc.returncode == 0, err.decode()
        assert "pane 'aider1'" in err.decode()
        item = await queued(op, "aider")
        assert item["command"] == "rm -rf build" and item["terminal"] == "aider1"
        # the CLI is that pane: its screen shows the prompt, waiting
        screen = await op.screen("aider1")
        assert "Run shell command?" in screen.text
        await op.approve(item["approval_id"])
        await until(lambda: answers_of(answers) == ["shell=y"], what="the answer in the pane")
        # the token was never typed into the pane (the log keeps what was typed)
        typed = b"".join(e.data for e in served.session.iter_events(types=["terminal_input"]))
        assert token.encode() not in typed and b"--token-file" in typed
    finally:
        await op.close()


async def test_ctrl_c_reaches_the_cli_and_its_end_withdraws_the_item(
    served: Served, tmp_path: Path
) -> None:
    token = await served.coordinator.add_agent("aider", ["read", "run"])
    op = await served.operator()
    answers = tmp_path / "answers"
    child = spawn_wrap(served, token, "--profile", "aider", answers=answers)
    try:
        item = await queued(op, "aider")
        child.sendcontrol("c")  # held keys stop at the queue, an interrupt does not
        await asyncio.to_thread(child.expect, pexpect.EOF, 30)

        async def withdrawn() -> str:
            [a] = await op.approvals()
            return str(a.get("withdrawn") or "")

        assert "ended before the decision" in await until(withdrawn, what="the withdrawal")
        assert item["approval_id"] == (await op.approvals())[0]["approval_id"]
    finally:
        child.close(force=True)
        await op.close()
    assert answers_of(answers) == []
