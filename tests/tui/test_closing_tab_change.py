"""A tab change still queued when the app closes is dropped, not a crash at exit
(seen as ScreenStackError from ``agentshell screenshots``)."""

from __future__ import annotations

from agentshell.tui.app import AgentShellApp
from tests.tui.fakes import T0, FakeBackend


async def test_a_tab_change_after_the_screens_are_gone_does_nothing() -> None:
    app = AgentShellApp(FakeBackend(), clock=lambda: T0, notify_new=False)
    async with app.run_test(size=(120, 40)):
        pass
    assert not app.screen_stack
    app._focus_out_of_tabs_but("tab-log")  # as _tab_activated would, handled late
