"""SVG snapshots of the main screen, the edit dialog and the conflict panel.

Fed by recorded bytes and a fixed session (fixed clock), never by live shells.
Update with ``pytest tests/tui/test_snapshots.py --snapshot-update`` after a
deliberate visual change, and look at the result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from agentshell.tui.app import AgentShellApp
from tests.tui.fakes import T0
from tests.tui.scenario import build

SIZE = (160, 48)


def make_app() -> AgentShellApp:
    backend, _ = build()
    return AgentShellApp(backend, clock=lambda: T0 + 75, notify_new=False)


def keys_then_still(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Press ``keys``, then stop every text cursor blinking on the screen on top.

    A blinking cursor is drawn or not depending on when the screenshot is taken,
    which made these snapshots flaky under load; a steady cursor is deterministic.
    """

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        for widget in pilot.app.screen.query("Input, TextArea"):
            if isinstance(widget, Input | TextArea):
                widget.cursor_blink = False
        await pilot.pause()

    return run


def test_main_screen(snap_compare: Any) -> None:
    assert snap_compare(make_app(), run_before=keys_then_still(), terminal_size=SIZE)


def test_edit_dialog(snap_compare: Any) -> None:
    keys = keys_then_still("down", "e", "end", *" --dry-run")
    assert snap_compare(make_app(), run_before=keys, terminal_size=SIZE)


def test_conflict_panel(snap_compare: Any) -> None:
    assert snap_compare(make_app(), run_before=keys_then_still("f3"), terminal_size=SIZE)


def test_similar_dialog(snap_compare: Any) -> None:
    assert snap_compare(make_app(), run_before=keys_then_still("s"), terminal_size=SIZE)
