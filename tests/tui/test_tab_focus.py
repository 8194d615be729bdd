"""Tab and shift+tab move between the shown widgets of the current tab (Pilot)."""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane

from agentshell.tui.app import AgentShellApp
from agentshell.tui.widgets.terminal.pane import TerminalPane
from tests.tui.test_actions import SIZE, until


def shown(app: AgentShellApp, w: Widget | None) -> bool:
    """``w`` is on screen: in the focus chain, sized, and not inside a hidden tab."""
    if w is None or w not in app.screen.focus_chain or not w.region.area:
        return False
    active = app.query_one(TabbedContent).active
    return all(a.id == active for a in w.ancestors if isinstance(a, TabPane))


async def cycle(app: AgentShellApp, pilot: object, key: str, n: int = 6) -> list[str]:
    seen = []
    for _ in range(n):
        before = app.focused

        def moved(before: Widget | None = before) -> bool:
            return app.focused is not before

        await pilot.press(key)  # type: ignore[attr-defined]
        await until(moved)
        assert shown(app, app.focused), f"{key} focused {app.focused!r}, not shown"
        seen.append(str(app.focused.id if app.focused else None))
    return seen


async def test_f5_from_a_focused_pane_then_tab_stays_on_shown_widgets(
    app: AgentShellApp,
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+pagedown")
        await until(lambda: isinstance(app.focused, TerminalPane))
        await pilot.press("f5")
        tabs = app.query_one(TabbedContent)
        await until(lambda: tabs.active == "tab-log" and shown(app, app.focused))
        await pilot.pause()
        assert tabs.active == "tab-log"  # the hidden pane's focus did not switch back
        forward = await cycle(app, pilot, "tab")
        assert {"log-agent", "log-type"} <= set(forward)
        backward = await cycle(app, pilot, "shift+tab")
        assert {"log-agent", "log-type"} <= set(backward)
        assert tabs.active == "tab-log"


async def test_f5_from_the_agents_table_then_tab(app: AgentShellApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        table = app.query_one("#tasks-table")
        table.focus()
        await until(lambda: app.focused is table)
        await pilot.press("f5")
        tabs = app.query_one(TabbedContent)
        await until(lambda: tabs.active == "tab-log" and shown(app, app.focused))
        await pilot.pause()
        assert tabs.active == "tab-log" and shown(app, app.focused)
        assert {"log-agent", "log-type"} <= set(await cycle(app, pilot, "tab"))
