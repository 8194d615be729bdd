"""alt+1..9 switch panes as the bytes xterm and tmux really send (ESC + digit).

Textual decodes ESC 1 as ``¡``, ESC 2 as ``™`` (macOS Option+digit characters), so
the bytes go through Textual's own parser here, as they do from a terminal.
"""

from __future__ import annotations

import pytest
from textual._xterm_parser import XTermParser
from textual.widgets import Input

from agentshell.tui.app import AgentShellApp
from agentshell.tui.screens.dialogs import RejectScreen
from agentshell.tui.widgets.terminal.grid import TerminalGrid
from agentshell.tui.widgets.terminal.keys import ALT_DIGIT_KEYS
from tests.tui.fakes import FakeBackend
from tests.tui.test_actions import SIZE, until


def key_events(data: str) -> list[object]:
    return list(XTermParser().feed(data))


def send_raw(app: AgentShellApp, data: str) -> None:
    """What the driver does with bytes read from the terminal."""
    for event in key_events(data):
        app.post_message(event)  # type: ignore[arg-type]


@pytest.mark.parametrize("digit", range(1, 10))
def test_alt_digit_keys_are_what_textual_decodes(digit: int) -> None:
    [event] = key_events(f"\x1b{digit}")
    assert getattr(event, "key", None) == ALT_DIGIT_KEYS[digit]


def current(app: AgentShellApp) -> str:
    pane = app.query_one(TerminalGrid).current
    return "" if pane is None else pane.terminal_name


async def test_escape_digit_switches_panes(app: AgentShellApp) -> None:
    async with app.run_test(size=SIZE):
        grid = app.query_one(TerminalGrid)
        assert current(app) == "main"
        send_raw(app, "\x1b2")  # alt+2 from xterm / tmux
        await until(lambda: current(app) == "tests" and app.focused is grid.current)
        send_raw(app, "\x1b1")
        await until(lambda: current(app) == "main")
        send_raw(app, "\x1b[50;3u")  # alt+2 from a terminal speaking the kitty protocol
        await until(lambda: current(app) == "tests")
        send_raw(app, "\x1b9")  # no ninth pane: nothing happens
        send_raw(app, "\x1b1")
        await until(lambda: current(app) == "main")


async def test_keys_typed_into_a_pane_stay_there(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        term = backend.terminals()["main"]
        await pilot.press("ctrl+t")
        pane = app.query_one(TerminalGrid).current
        assert pane is not None
        await until(lambda: pane.typing and app.focused is pane)
        send_raw(app, "\x1b2")
        await until(lambda: bool(term.sent))
        # the shell gets the character Textual reports (an ESC 2 and a typed ™ are
        # the same key to Textual); the pane keeps the keys
        assert term.sent == ["™".encode()]
        assert current(app) == "main" and pane.typing


async def test_those_characters_typed_in_a_dialog_are_text(app: AgentShellApp) -> None:
    """A typed ™ or £ (a UK keyboard's shift+3) in a text field is text, not a switch."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await until(lambda: isinstance(app.screen, RejectScreen))
        reason = app.screen.query_one(Input)
        await until(lambda: app.focused is reason)
        send_raw(app, "™ £5")
        await until(lambda: reason.value == "™ £5")
        assert current(app) == "main"
