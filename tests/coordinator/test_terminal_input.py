"""Who typed what: terminal input is logged once, with who typed it."""

from __future__ import annotations

from pathlib import Path

from agentshell.coordinator.coordinator import Coordinator
from agentshell.core import events as ev

from .conftest import ALL, logged, until


def _output(co: Coordinator) -> bytes:
    return b"".join(
        e.data for e in logged(co.session, ["terminal_output"]) if isinstance(e, ev.TerminalOutput)
    )


def _inputs(co: Coordinator, needle: bytes) -> list[ev.TerminalInput]:
    return [
        e
        for e in logged(co.session, ["terminal_input"])
        if isinstance(e, ev.TerminalInput) and needle in e.data
    ]


async def test_human_keys_are_logged_once_as_the_humans(co: Coordinator) -> None:
    await until(lambda: co.terminal("main").at_prompt, what="the prompt")
    await co.send_input("main", b"echo typed-$((40+2))\n")
    # the shell's answer is logged after any input batch the terminal queued before it
    await until(lambda: b"typed-42" in _output(co), what="the command's output")
    typed = _inputs(co, b"typed-$((40+2))")
    assert [(e.by, e.agent_id, e.data) for e in typed] == [
        (ev.HUMAN, ev.HUMAN, b"echo typed-$((40+2))\n")
    ]  # the log line names who typed (it said "system")


async def test_an_agents_keys_and_a_run_are_logged_once_each(co: Coordinator) -> None:
    await co.add_agent("bot", ALL)
    await until(lambda: co.terminal("main").at_prompt, what="the prompt")
    await co.send_input("main", b"echo bot-$((1+1))\n", by="bot")
    await until(lambda: b"bot-2" in _output(co), what="the agent's typed command")
    assert [e.by for e in _inputs(co, b"bot-$((1+1))")] == ["bot"]
    aid = await co.propose("bot", "echo ran-$((2+2))")
    await co.approve(aid)
    await co.wait_result(aid)
    await until(lambda: b"ran-4" in _output(co), what="the approved command's output")
    # written by the executor, not typed by anyone: the terminal's own input record
    assert len(_inputs(co, b"ran-$((2+2))")) == 1


async def test_a_resize_to_the_same_size_logs_nothing(co: Coordinator) -> None:
    term = co.terminal("main")
    size = (term.columns, term.lines)
    await co.resize("main", *size)
    await co.resize("main", size[0] + 1, size[1])
    await co.resize("main", size[0] + 1, size[1])
    resized = [e for e in logged(co.session, ["terminal_resized"])]
    assert [(e.columns, e.lines) for e in resized if isinstance(e, ev.TerminalResized)] == [
        (size[0] + 1, size[1])
    ]


async def test_a_shell_that_exits_is_logged_and_the_humans_next_key_restarts_it(
    co: Coordinator,
) -> None:
    import pytest

    from agentshell.coordinator.results import InvalidStateError

    await co.add_agent("bot", ALL)
    await until(lambda: co.terminal("main").at_prompt, what="the prompt")
    opened = len(logged(co.session, ["terminal_opened"]))
    await co.send_input("main", b"exit 3\n")
    await until(lambda: co.terminal("main").closed, what="the shell to exit")
    await until(lambda: logged(co.session, ["terminal_closed"]), what="terminal_closed")
    (closed,) = logged(co.session, ["terminal_closed"])
    assert isinstance(closed, ev.TerminalClosed) and closed.exit_status == 3
    assert closed.reason == "shell exited"
    assert not co.state["terminals"]["main"].open
    # an agent cannot type into it; the human's next key starts a new shell (and is spent)
    with pytest.raises(InvalidStateError, match="shell exited"):
        await co.send_input("main", b"x", by="bot")
    await co.send_input("main", b"x")
    assert co.state["terminals"]["main"].open
    assert len(logged(co.session, ["terminal_opened"])) == opened + 1
    await until(lambda: co.terminal("main").at_prompt, what="the new shell's prompt")
    await co.send_input("main", b"echo again-$((3*3))\n")
    await until(lambda: b"again-9" in _output(co), what="the new shell to answer")


async def test_an_approved_command_after_the_shell_exited_runs_in_a_new_one(
    co: Coordinator,
) -> None:
    import asyncio

    await co.add_agent("bot", ALL)
    await until(lambda: co.terminal("main").at_prompt, what="the prompt")
    await co.send_input("main", b"exit\n")
    await until(lambda: co.terminal("main").closed, what="the shell to exit")
    aid = await co.propose("bot", "echo after-$((5+5))")
    await co.approve(aid)
    # it waited for a prompt the exited shell would never show
    res = await asyncio.wait_for(co.wait_result(aid), 20)
    assert res.exit_code == 0 and res.output == "after-10\n"
    kinds = [e.event_type for e in logged(co.session, ["terminal_closed", "terminal_opened"])]
    assert kinds[-2:] == ["terminal_closed", "terminal_opened"]


async def test_a_terminal_whose_shell_exited_comes_back_after_a_restart(
    tmp_path: Path, project: Path
) -> None:
    from agentshell.store.session import SessionManager

    from .conftest import stop

    sm = SessionManager("t", tmp_path / "data2")
    co = Coordinator(sm, project_dir=project, run_timeout=30, user_rc=False)
    await co.start()
    await co.open_terminal("build")
    await until(lambda: co.terminal("build").at_prompt, what="build's prompt")
    await co.send_input("build", b"exit\n")
    await until(lambda: not sm.state["terminals"]["build"].open, what="terminal_closed")
    await stop(co)
    again = Coordinator(sm, project_dir=project, run_timeout=30, user_rc=False)
    await again.start()
    try:
        assert {"main", "build"} <= set(again.shells.names())
        assert sm.state["terminals"]["build"].open
        await until(lambda: again.terminal("build").at_prompt, what="build's new prompt")
    finally:
        await stop(again)
        sm.close()
