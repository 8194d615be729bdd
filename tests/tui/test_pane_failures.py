"""A pane whose keys are refused, or whose shell exited, keeps the app running."""

from __future__ import annotations

from agentshell.core import events as ev
from agentshell.tui.app import AgentShellApp
from agentshell.tui.widgets.terminal.grid import TerminalGrid
from tests.tui.fakes import T0, FakeBackend
from tests.tui.test_actions import SIZE, until
from tests.tui.test_recording_stopped import errors


async def test_refused_keys_are_said_and_the_app_goes_on(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(TerminalGrid).pane("main")
        assert pane is not None
        await pilot.press("ctrl+t")
        await until(lambda: pane.typing)
        backend.input_error = RuntimeError("terminal 'main' is closed")
        await pilot.press("a", "b")
        await until(lambda: errors(app))
        assert errors(app) == ["main: terminal 'main' is closed"]  # once, not per key
        assert app.is_running
        backend.input_error = None
        await pilot.press("c")  # the keys after a failure still go
        await until(lambda: ("input", "main", b"c") in backend.calls)


async def test_a_pane_says_its_shell_exited(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE):
        pane = app.query_one(TerminalGrid).pane("main")
        assert pane is not None
        await until(lambda: "idle" in str(pane.border_title))
        assert "enter/click to type" in str(pane.border_subtitle)
        backend.emit(ev.TerminalClosed(terminal="main", reason="shell exited", timestamp=T0))
        await until(lambda: "shell exited" in str(pane.border_title))
        assert "starts a new one" in str(pane.border_subtitle)
        backend.emit(ev.TerminalOpened(terminal="main", cwd="/work/demo", timestamp=T0))
        await until(lambda: "shell exited" not in str(pane.border_title))


async def test_a_replay_pane_offers_neither_typing_nor_a_new_shell(backend: FakeBackend) -> None:
    app = AgentShellApp(backend, clock=lambda: T0 + 60, notify_new=False)
    app.TYPING = False  # as the replay app (its panes only show a record)
    async with app.run_test(size=SIZE):
        pane = app.query_one(TerminalGrid).pane("main")
        assert pane is not None
        # idle, without "enter/click to type" (once the first state refresh is in)
        await until(lambda: str(pane.border_subtitle) == "idle")
        backend.emit(ev.TerminalClosed(terminal="main", reason="shell exited", timestamp=T0))
        await until(lambda: "shell exited" in str(pane.border_title))
        assert str(pane.border_subtitle) == "shell exited"
