"""Which terminals are busy with a command nobody approved (typed in the pane)."""

from __future__ import annotations

from pathlib import Path

from agentshell.coordinator.coordinator import Coordinator
from agentshell.store.session import SessionManager
from agentshell.tui.live import CoordinatorBackend
from tests.polling import until


async def test_a_command_typed_into_a_terminal_makes_it_busy(tmp_path: Path) -> None:
    sm = SessionManager("t", tmp_path / "data")
    co = Coordinator(sm, project_dir=tmp_path, run_timeout=30, user_rc=False)
    await co.start()
    try:
        backend = CoordinatorBackend(co)
        await until(lambda: co.terminal("main").at_prompt, what="the prompt")
        assert backend.busy_terminals() == []
        # ends by itself too: a ctrl+c that reaches bash before it started sleep is lost
        await co.send_input("main", b"sleep 8\n")
        await until(lambda: backend.busy_terminals() == ["main"], what="main to be busy")
        await co.send_input("main", b"\x03")
        await until(
            lambda: backend.busy_terminals() == [], timeout=20, what="main at its prompt again"
        )
        # a command an approval runs is counted as that approval, not twice
        await co.add_agent("bot", ["run"])
        aid = await co.propose("bot", "sleep 30")
        await co.approve(aid)
        await until(lambda: co.terminal("main").busy, what="the approved command to run")
        assert backend.running_commands() == 1 and backend.busy_terminals() == []
        await co.send_input("main", b"\x03")
    finally:
        await co.stop()
        sm.close()
