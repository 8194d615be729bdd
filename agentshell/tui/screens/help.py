"""The help screen: every key, grouped by where it works."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Approval queue (focused by default)",
        [
            ("a", "approve the selected request (or the oldest)"),
            ("e", "edit the command, then approve it"),
            ("r", "reject, with a reason sent to the agent"),
            ("s", "approve similar: preview and save a rule"),
            ("↑ / ↓", "select a request"),
        ],
    ),
    (
        "Terminals",
        [
            ("ctrl+t / enter / click", "take over: type into the current pane"),
            ("ctrl+]", "leave typing mode (back to the approval queue)"),
            ("ctrl+pgup / ctrl+pgdn", "previous / next pane"),
            ("alt+1 … alt+9", "go to pane n"),
            ("z", "zoom the current pane (toggle)"),
            ("shift+pgup / shift+pgdn, wheel", "scroll back"),
        ],
    ),
    (
        "Views",
        [
            ("f2 / f3 / f4 / f5", "terminals / conflicts / agents & tasks / event log"),
            ("1 / 2 / 3 / 4", "in the conflict panel: keep first / second / both / manual"),
            ("ctrl+p", "command palette (every action)"),
            ("? / f1", "this help"),
            ("q / ctrl+q", "quit (asks when commands are running)"),
        ],
    ),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss_help", "Close"),
    ]

    def __init__(self, attach_text: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.attach_text = attach_text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Label("AgentShell keys", classes="title")
            if self.attach_text:
                yield Label("Attach an agent", classes="section")
                yield Static(Text(self.attach_text))
            for title, rows in KEYS:
                table = Table.grid(padding=(0, 2))
                table.add_column(style="bold", min_width=30)
                table.add_column()
                for key, what in rows:
                    table.add_row(key, what)
                yield Label(title, classes="section")
                yield Static(table)
            yield Static(
                "Nothing an agent proposes runs without your decision or a rule you made.",
                classes="hint",
            )

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
