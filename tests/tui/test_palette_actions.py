"""The command palette names only actions the app has, with the arguments they take."""

from __future__ import annotations

import inspect

import pytest
from textual.actions import parse

from agentshell.tui.app import AgentShellApp
from agentshell.tui.commands import ACTIONS


@pytest.mark.parametrize(("title", "action", "help_text"), ACTIONS)
def test_each_palette_entry_runs_an_action_of_the_app(
    title: str, action: str, help_text: str
) -> None:
    namespace, name, params = parse(action)
    assert namespace == ""
    method = getattr(AgentShellApp, f"action_{name}", None)
    assert callable(method), f"{title!r} runs {action!r}: the app has no action_{name}"
    inspect.signature(method).bind(None, *params)  # the entry's arguments fit the method
    assert title and help_text


def test_the_palette_offers_each_action_once() -> None:
    actions = [action for _, action, _ in ACTIONS]
    assert len(actions) == len(set(actions))
