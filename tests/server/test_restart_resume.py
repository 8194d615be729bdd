"""A coordinator restart costs a waiting agent a delay, not its result; an agent that
is gone (withdrawn, or not back within the grace period) is shown as such and no rule
runs its command."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from agentshell.client import AgentClient, CommandRejected
from agentshell.coordinator.coordinator import Coordinator
from agentshell.core import events as ev
from agentshell.server.server import Server
from agentshell.store.session import SessionManager

from .conftest import Served, short_dir, until
from .test_restart import AGENTSHELL, cli, start_server


async def stop_server(p: asyncio.subprocess.Process, sig: int = signal.SIGKILL) -> None:
    if p.returncode is None:
        p.send_signal(sig)
        try:
            await asyncio.wait_for(p.wait(), 30)
        except TimeoutError:
            p.kill()
            await p.wait()


async def test_a_waiting_run_resumes_across_a_sigkill_restart(tmp_path: Path) -> None:
    """`agentshell run` and an AgentClient wait through a SIGKILL of the server and get
    their results from the restarted one; each command ran once."""
    root = short_dir()
    env = dict(os.environ, AGENTSHELL_DIR=str(tmp_path / "data"))
    sock = root / "run" / "s.sock"
    project = tmp_path / "proj"
    project.mkdir()
    server = None
    try:
        code, token, err = await cli(
            "agent", "add", "bot", "--session", "s", "-c", "read,run", env=env
        )
        assert code == 0, err
        token = token.strip()
        server = await start_server(sock, project, env)
        runner = await asyncio.create_subprocess_exec(
            *AGENTSHELL,
            "run",
            "--socket",
            str(sock),
            "--agent",
            "bot",
            "--",
            "echo ran >> cli-marker; echo from-cli",
            env=dict(env, AGENTSHELL_TOKEN=token),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        agent = await AgentClient.connect(sock, "bot", token)
        waiting = asyncio.ensure_future(agent.run("echo ran >> client-marker; echo from-client"))
        op = await AgentClient.connect(sock, operator=True)
        await until(lambda: _count(op, 2), timeout=30, what="both proposals queued")
        await op.close()
        await stop_server(server)
        assert not waiting.done()
        server = await start_server(sock, project, env)
        op = await AgentClient.connect(sock, operator=True)
        # both agents come back and wait on the same approvals (nothing new queued)
        await until(lambda: _back(op), timeout=30, what="the agents back")
        items = await op.approvals()
        assert len(items) == 2 and {a["status"] for a in items} == {"queued"}
        for a in items:
            await op.approve(a["approval_id"])
        res = await asyncio.wait_for(waiting, 60)
        assert res.exit_code == 0 and "from-client" in res.output
        out, err_b = await asyncio.wait_for(runner.communicate(), 60)
        assert runner.returncode == 0, err_b
        assert b"from-cli" in out
        assert agent.reconnects == 1
        assert (project / "cli-marker").read_text() == "ran\n"
        assert (project / "client-marker").read_text() == "ran\n"
        await agent.close()
        await op.close()
    finally:
        if server is not None:
            await stop_server(server, signal.SIGTERM)
        shutil.rmtree(root, ignore_errors=True)


async def _count(op: AgentClient, n: int) -> bool:
    return len(await op.approvals()) >= n


async def _back(op: AgentClient) -> bool:
    """The agent reconnected (the restarted server marked it connected again)."""
    agents = {a["agent_id"]: a for a in await op.agents()}
    return agents["bot"]["status"] in ("connected", "waiting")


async def test_an_approval_that_ended_before_a_restart_is_answered_from_the_log(
    tmp_path: Path,
) -> None:
    root = short_dir()
    sock = root / "run" / "t.sock"

    async def up() -> tuple[SessionManager, Coordinator, Server]:
        sm = SessionManager("t", tmp_path / "data")
        co = Coordinator(sm, project_dir=tmp_path, user_rc=False)
        server = Server(co, sock)
        await co.start()
        await server.start()
        return sm, co, server

    async def down(sm: SessionManager, co: Coordinator, server: Server) -> None:
        await server.close()
        await co.stop()
        sm.close()

    try:
        sm, co, server = await up()
        token = await co.add_agent("bot", ["read", "run"])
        await co.add_rule("allow", "prefix", "echo ")
        await co.add_rule("deny", "prefix", "rm ")
        c = await AgentClient.connect(sock, "bot", token)
        ran = await c.propose("echo done-before")
        denied = await c.propose("rm -rf nothing")
        await until(lambda: ran not in co.state["pending_approvals"], what="it ran")
        await c.close()
        await down(sm, co, server)
        sm, co, server = await up()
        c = await AgentClient.connect(sock, "bot", token)
        res = await c.result(ran)
        assert res.exit_code == 0 and "done-before" in res.output
        with pytest.raises(CommandRejected, match="denied by rule"):
            await c.result(denied)
        # a resent proposal of an id that already ran is not queued (or run) again
        again = await c.request("propose", command="echo done-before", approval_id=ran, resent=True)
        assert again["approval_id"] == ran
        assert ran not in co.state["pending_approvals"]
        commands = [e for e in sm.iter_events(types={"command_executed"})]
        assert len(commands) == 1
        await c.close()
        await down(sm, co, server)
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def test_a_resent_proposal_is_queued_once(served: Served) -> None:
    c = await served.agent("bot")
    try:
        first = await c.request("propose", command="echo once", approval_id="abcdef0123456789")
        again = await c.request(
            "propose", command="echo once", approval_id="abcdef0123456789", resent=True
        )
        assert first["approval_id"] == again["approval_id"] == "abcdef0123456789"
        assert len(served.coordinator.approvals()) == 1
        # the same id sent as new is refused, another agent's id is not taken over
        with pytest.raises(Exception, match="taken"):
            await c.request("propose", command="echo twice", approval_id="abcdef0123456789")
        other = await served.agent("other")
        with pytest.raises(Exception, match="taken"):
            await other.request(
                "propose", command="echo x", approval_id="abcdef0123456789", resent=True
            )
        await other.close()
    finally:
        await c.close()


async def test_a_run_given_up_is_withdrawn_and_no_rule_runs_it(served: Served) -> None:
    co = served.coordinator
    c = await served.agent("bot")
    op = await served.operator()
    try:
        task = asyncio.ensure_future(c.run("touch withdrawn-marker"))
        info = await until(lambda: co.approvals(), what="queued")
        aid = info[0].approval_id
        task.cancel()  # the agent gives up (a vendor's own timeout, Ctrl-C)
        with pytest.raises(asyncio.CancelledError):
            await task
        gone = await until(lambda: co.approval(aid).withdrawn, what="the approval marked withdrawn")
        assert "stopped waiting" in gone
        [e] = [e for e in served.session.iter_events(types={"approval_withdrawn"})]
        assert e.approval_id == aid and e.by == "bot"
        [listed] = await op.approvals()
        assert listed["withdrawn"] == gone
        # a rule never runs it
        with pytest.raises(Exception, match="no rule approves it"):
            await co.gate.decide(aid, "approved", by=ev.SYSTEM, rule_id="r-x")
        # the human may, and is told nobody will receive the output
        reply = await op.request("approve", approval_id=aid)
        assert reply["nobody_waiting"] is True and "nobody will receive" in reply["note"]
    finally:
        await c.close()
        await op.close()


async def test_an_agent_not_back_within_the_grace_period_is_gone(served: Served) -> None:
    co = served.coordinator
    co.waiters.grace = 0.3
    c = await served.agent("bot")
    op = await served.operator()
    try:
        aid = await c.propose("touch gone-marker")
        await asyncio.sleep(0.6)  # held by its connection: the grace never starts
        assert not co.approval(aid).withdrawn
        reply_waited = co.waited_for(aid)
        assert reply_waited
        await c.close()  # the agent goes (crashed) and does not come back
        why = await until(lambda: co.approval(aid).withdrawn, what="withdrawn by the server")
        assert "did not come back within 0.3 s" in why
        [e] = list(served.session.iter_events(types={"approval_withdrawn"}))
        assert e.by == ev.SYSTEM
        # a reconnecting agent within the grace keeps its approval
        c = await served.agent("bot")
        aid2 = await c.propose("touch kept-marker")
        await c.close()
        c = await served.agent("bot")
        waiting = asyncio.ensure_future(c.result(aid2))
        await asyncio.sleep(0.6)
        assert not co.approval(aid2).withdrawn
        await op.reject(aid2, "fine")
        with pytest.raises(CommandRejected):
            await asyncio.wait_for(waiting, 10)
    finally:
        await c.close()
        await op.close()
    assert not (Path(co.project_dir) / "gone-marker").exists()


@pytest.mark.skipif(sys.platform != "linux", reason="Unix socket backlog semantics of Linux")
def test_server_listens_with_the_system_backlog(served: Served) -> None:
    from agentshell.server.server import system_backlog

    assert served.server.backlog == system_backlog() >= 128


async def test_a_killed_agentshell_run_leaves_an_approval_marked_gone(tmp_path: Path) -> None:
    """`agentshell run` SIGKILLed (no withdraw sent): after the grace period the queue
    says its agent is gone, and approving it says nobody will receive the output."""
    root = short_dir()
    env = dict(os.environ, AGENTSHELL_DIR=str(tmp_path / "data"))
    sock = root / "run" / "s.sock"
    project = tmp_path / "proj"
    project.mkdir()
    server = None
    try:
        code, token, err = await cli(
            "agent", "add", "bot", "--session", "s", "-c", "read,run", env=env
        )
        assert code == 0, err
        server = await start_server(sock, project, env, "--agent-grace", "0.5")
        runner = await asyncio.create_subprocess_exec(
            *AGENTSHELL,
            "run",
            "--socket",
            str(sock),
            "--agent",
            "bot",
            "--",
            "echo orphan",
            env=dict(env, AGENTSHELL_TOKEN=token.strip()),
        )

        async def listed() -> str:
            _, out, _ = await cli("approvals", "--socket", str(sock), env=env)
            return out

        await until(lambda: _has(listed, "echo orphan"), timeout=30, what="queued")
        runner.kill()
        await runner.wait()
        out = await until(lambda: _has(listed, "agent gone"), timeout=30, what="marked gone")
        assert "nobody will receive the output" in out
        aid = out.split()[0]
        code, _, err = await cli("approve", aid, "--socket", str(sock), env=env)
        assert code == 0 and "nobody will receive the output" in err, err
    finally:
        if server is not None:
            await stop_server(server, signal.SIGTERM)
        shutil.rmtree(root, ignore_errors=True)


async def _has(listed: Callable[[], Awaitable[str]], text: str) -> str | None:
    out = await listed()
    return out if text in out else None
