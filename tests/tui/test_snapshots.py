"""SVG snapshots of the main screen, the edit dialog and the conflict panel.

Fed by recorded bytes and a fixed session (fixed clock), never by live shells.
Update with ``pytest tests/tui/test_snapshots.py --snapshot-update`` after a
deliberate visual change, and look at the result.
"""

from __future__ import annotations

from typing import Any

from agentshell.tui.app import AgentShellApp
from tests.tui.fakes import T0
from tests.tui.scenario import build

SIZE = (160, 48)


def make_app() -> AgentShellApp:
    backend, _ = build()
    return AgentShellApp(backend, clock=lambda: T0 + 75, notify_new=False)


def test_main_screen(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE)


def test_edit_dialog(snap_compare: Any) -> None:
    assert snap_compare(make_app(), press=["down", "e", "end", *" --dry-run"], terminal_size=SIZE)


def test_conflict_panel(snap_compare: Any) -> None:
    assert snap_compare(make_app(), press=["f3"], terminal_size=SIZE)


def test_similar_dialog(snap_compare: Any) -> None:
    assert snap_compare(make_app(), press=["s"], terminal_size=SIZE)
