"""SVG snapshots of the main screen, the edit dialog and the conflict panel.

Fed by recorded bytes and a fixed session (fixed clock), never by live shells.
Update with ``pytest tests/tui/test_snapshots.py --snapshot-update`` after a
deliberate visual change, and look at the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, TextArea

from agentshell.tui.app import AgentShellApp
from agentshell.tui.screens.dialogs import EditApprovalScreen, SimilarRuleScreen
from tests.tui.fakes import T0
from tests.tui.scenario import build

SIZE = (160, 48)


def make_app() -> AgentShellApp:
    backend, _ = build()
    return AgentShellApp(backend, clock=lambda: T0 + 75, notify_new=False)


def keys_then_still(
    *keys: str, dialog: type[Screen[Any]] | None = None, then: tuple[str, ...] = ()
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Press ``keys``; wait until ``dialog`` is on top (dialogs open from workers, so a
    key press returns before they do), press ``then``; stop every text cursor blinking.

    A blinking cursor is drawn or not depending on when the screenshot is taken,
    which made these snapshots flaky under load; a steady cursor is deterministic.
    """

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await pilot.press(*keys)
        if dialog is not None:
            loop = asyncio.get_running_loop()
            end = loop.time() + 10
            while not isinstance(pilot.app.screen, dialog):
                assert loop.time() < end, f"{dialog.__name__} did not open"
                await asyncio.sleep(0.01)
        await pilot.press(*then)
        await pilot.pause()
        for widget in pilot.app.screen.query("Input, TextArea"):
            if isinstance(widget, Input | TextArea):
                widget.cursor_blink = False
        await pilot.pause()

    return run


def test_main_screen(snap_compare: Any) -> None:
    assert snap_compare(make_app(), run_before=keys_then_still(), terminal_size=SIZE)


def test_edit_dialog(snap_compare: Any) -> None:
    keys = keys_then_still("down", "e", dialog=EditApprovalScreen, then=("end", *" --dry-run"))
    assert snap_compare(make_app(), run_before=keys, terminal_size=SIZE)


def test_conflict_panel(snap_compare: Any) -> None:
    assert snap_compare(make_app(), run_before=keys_then_still("f3"), terminal_size=SIZE)


def test_similar_dialog(snap_compare: Any) -> None:
    assert snap_compare(
        make_app(), run_before=keys_then_still("s", dialog=SimilarRuleScreen), terminal_size=SIZE
    )
