"""Small typed messages the TUI's widgets post to the app (handled with ``@on``)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class StateRefreshed(Message):
    """The session state changed; widgets fed by state should redraw."""

    def can_replace(self, message: Message) -> bool:
        # A newer refresh makes a pending one pointless (toolong's trick).
        return isinstance(message, StateRefreshed)


@dataclass
class TypingChanged(Message):
    """A pane entered or left human takeover (typing) mode."""

    terminal: str
    typing: bool


@dataclass
class PaneResized(Message):
    """A pane got a new size; the terminal behind it should follow."""

    terminal: str
    columns: int
    lines: int


@dataclass
class ConflictResolveRequested(Message):
    """The operator picked a resolution for a conflict."""

    conflict_id: str
    resolution: str
