"""A coordinator started on the log a crash left behind: what comes back, what never re-runs.

The "crash" copies the session directory while the first coordinator is still
running: every acknowledged event is durable, so the copy is exactly what a SIGKILL
at that moment leaves on disk (``tests/server/test_restart.py`` kills a real server).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentshell.coordinator import api
from agentshell.coordinator.coordinator import Coordinator
from agentshell.core import events as ev
from agentshell.store.session import SessionManager

from .conftest import ALL, logged, until


async def test_restart_restores_and_reruns_nothing(
    co: Coordinator, tmp_path: Path, project: Path
) -> None:
    sub = project / "sub"
    sub.mkdir()
    other = project / "other"
    other.mkdir()
    marker = project / "marker.txt"
    token = await co.add_agent("bot", [*ALL, "python"])
    rule = await co.add_rule("deny", "prefix", "rm")
    # terminal "main" moves into sub/ through an executed command; "tests" opens in other/
    cd = await co.propose("bot", f"cd {sub}")
    await co.approve(cd)
    await co.wait_result(cd)
    await until(lambda: co.state["terminals"]["main"].cwd == str(sub), what="cwd logged")
    await co.open_terminal("tests", str(other))

    queued = await co.propose("bot", f"echo queued >> {marker}")
    # keep the shell busy so the approved command cannot start
    await co.send_input("main", b"sleep 60\n")
    await until(lambda: not co.terminal("main").at_prompt, what="the shell to be busy")
    approved = await co.propose("bot", f"echo approved >> {marker}")
    await co.approve(approved)
    assert [(a.approval_id, a.status) for a in co.approvals()] == [
        (queued, "queued"),
        (approved, "approved"),
    ]

    crashed = tmp_path / "crashed"
    shutil.copytree(co.session.session_dir, crashed / "t")
    await co.stop()  # the old shells go away; nothing new is logged in the copy

    sm = SessionManager("t", crashed)
    co2 = Coordinator(sm, project_dir=project, run_timeout=30, user_rc=False)
    await co2.start()
    try:
        # agents, with their token, are back (disconnected until they reconnect)
        assert co2.authenticate("bot", token) is not None
        assert co2.agent("bot").status == "disconnected"
        assert [r.rule_id for r in co2.rules()] == [rule]
        # the queued one is still queued; the approved-but-not-started one is interrupted
        assert [(a.approval_id, a.status) for a in co2.approvals()] == [
            (queued, "queued"),
            (approved, "interrupted"),
        ]
        (why,) = [
            e
            for e in logged(sm, ["approval_decided"])
            if isinstance(e, ev.ApprovalDecided) and e.decision == "interrupted"
        ]
        assert why.approval_id == approved and why.by == ev.SYSTEM
        # terminals are new shells in their recorded directories
        assert {t.name for t in co2.terminals() if t.open} == {"main", "tests"}
        await until(lambda: co2.terminal("main").at_prompt, what="main prompt")
        assert co2.terminal("main").cwd == str(sub)
        assert co2.terminal("tests").cwd == str(other)

        # nothing ran: no second CommandExecuted, no marker, the shell never got the text
        def nothing_ran() -> None:
            runs = logged(sm, ["command_executed"])
            assert [e.approval_id for e in runs if isinstance(e, ev.CommandExecuted)] == [cd]
            typed = b"".join(
                e.data for e in logged(sm, ["terminal_input"]) if isinstance(e, ev.TerminalInput)
            )
            assert b"marker.txt" not in typed
            assert not marker.exists()

        nothing_ran()
        # an interrupted command needs a new decision: rejecting it runs nothing
        await co2.reject(approved, reason="stale")
        with pytest.raises(api.CommandRejected):
            await co2.wait_result(approved)
        nothing_ran()
        # the queued one still works as before
        await co2.approve(queued)
        res = await co2.wait_result(queued)
        assert res.exit_code == 0 and marker.read_text() == "queued\n"
        # the restarted terminal runs in sub/: a relative path lands there
        rel = await co2.propose("bot", "pwd")
        await co2.approve(rel)
        assert str(sub) in (await co2.wait_result(rel)).output
    finally:
        await co2.stop()
        sm.close()


async def test_interrupted_can_be_approved_again_and_runs_once(
    co: Coordinator, tmp_path: Path, project: Path
) -> None:
    marker = project / "once.txt"
    await co.add_agent("bot", ALL)
    await co.send_input("main", b"sleep 60\n")
    await until(lambda: not co.terminal("main").at_prompt, what="the shell to be busy")
    aid = await co.propose("bot", f"echo run >> {marker}")
    await co.approve(aid)
    crashed = tmp_path / "crashed"
    shutil.copytree(co.session.session_dir, crashed / "t")
    await co.stop()
    sm = SessionManager("t", crashed)
    co2 = Coordinator(sm, project_dir=project, run_timeout=30, user_rc=False)
    await co2.start()
    try:
        assert co2.approval(aid).status == "interrupted"
        await co2.approve(aid)
        assert (await co2.wait_result(aid)).exit_code == 0
        assert marker.read_text() == "run\n"
        runs = [e for e in logged(sm, ["command_executed"]) if isinstance(e, ev.CommandExecuted)]
        assert [e.approval_id for e in runs] == [aid]
    finally:
        await co2.stop()
        sm.close()


async def test_pending_expiry_survives_restart(co: Coordinator, tmp_path: Path) -> None:
    await co.add_agent("bot", ALL)
    aid = await co.propose("bot", "echo later", timeout=1.0)
    crashed = tmp_path / "crashed"
    shutil.copytree(co.session.session_dir, crashed / "t")
    await co.stop()
    sm = SessionManager("t", crashed)
    co2 = Coordinator(sm, project_dir=co.project_dir, user_rc=False)
    await co2.start()
    try:
        await until(lambda: not co2.approvals(), what="the expiry after restart")
        (e,) = logged(sm, ["approval_decided"])
        assert isinstance(e, ev.ApprovalDecided) and (e.approval_id, e.decision) == (
            aid,
            "expired",
        )
    finally:
        await co2.stop()
        sm.close()


async def test_restart_rejects_queued_commands_of_agents_removed_before(
    co: Coordinator, tmp_path: Path, project: Path
) -> None:
    # a log from before removal ended an agent's commands: agent_removed, approval still queued
    await co.add_agent("bob", ALL)
    aid = await co.propose("bob", f"touch {project}/marker")
    await co._emit(ev.AgentRemoved(agent_id="bob"))
    crashed = tmp_path / "crashed"
    shutil.copytree(co.session.session_dir, crashed / "t")
    await co.stop()

    sm = SessionManager("t", crashed)
    co2 = Coordinator(sm, project_dir=project, run_timeout=30, user_rc=False)
    await co2.start()
    try:
        assert co2.approvals() == []
        with pytest.raises(api.NotFoundError, match="agent removed"):
            await co2.approve(aid)
        (decided,) = logged(sm, ["approval_decided"])
        assert isinstance(decided, ev.ApprovalDecided)
        assert (decided.decision, decided.reason) == ("rejected", "agent removed")
    finally:
        await co2.stop()
        sm.close()
    assert not (project / "marker").exists()
