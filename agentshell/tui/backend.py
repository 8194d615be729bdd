"""What the TUI needs from the layers below, as typed protocols.

The app never reaches into the coordinator's internals: it reads state, listens to
events and makes decisions through a :class:`Backend`. :class:`CoordinatorBackend`
adapts the real in-process coordinator; tests feed the app a plain in-memory one.
A terminal is anything shaped like :class:`TerminalLike` (the real
``agentshell.terminal.Terminal`` is).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from agentshell.core.events import Event
from agentshell.core.state import SessionState


@runtime_checkable
class TerminalLike(Protocol):
    """The part of ``agentshell.terminal.Terminal`` a pane uses."""

    @property
    def emulator(self) -> Any: ...

    def send(self, data: bytes) -> Any: ...

    def resize(self, columns: int, lines: int) -> Any: ...

    def add_listener(self, callback: Callable[..., Any]) -> Any: ...


@dataclass(frozen=True, slots=True)
class RuleDraft:
    """A rule the operator is about to save with "approve similar"."""

    kind: str
    pattern: str
    scope: str = "session"
    scope_value: str = ""
    action: str = "allow"


@dataclass(frozen=True, slots=True)
class ConflictSides:
    """The overlapping lines of a conflict, one list per side (for the side-by-side view)."""

    first_label: str
    first: tuple[str, ...]
    second_label: str
    second: tuple[str, ...]
    first_start: int = 0
    second_start: int = 0


class SharedText(Protocol):
    """A live OT document (the text of a pending approval) the editor co-edits."""

    @property
    def text(self) -> str: ...

    @property
    def revision(self) -> int:
        """The last server revision this copy includes."""
        ...

    async def settle(self, timeout: float = 5.0) -> int:
        """Wait until every local edit is acknowledged; the revision then."""
        ...

    def insert(self, pos: int, text: str) -> Any: ...

    def delete(self, pos: int, length: int) -> Any: ...


class Backend(Protocol):
    """Everything the app reads and does; one implementation per way of running."""

    @property
    def state(self) -> SessionState: ...

    @property
    def socket_path(self) -> str: ...

    def terminals(self) -> dict[str, TerminalLike]: ...

    def subscribe(self) -> AsyncIterator[Event]:
        """Events from now on. Registers at once, when called, not at the first
        ``anext``: the app subscribes before it reads the state, so nothing that
        happens in between is lost."""
        ...

    def recent_events(self, limit: int) -> list[Event]: ...

    async def approve(
        self, approval_id: str, command: str | None = None, revision: int | None = None
    ) -> None:
        """Approve; ``revision``: the approval document's revision the operator saw
        (what runs is exactly that text, or the coordinator refuses)."""
        ...

    async def reject(self, approval_id: str, reason: str) -> None: ...

    async def approve_similar(self, approval_id: str, rule: RuleDraft) -> None: ...

    async def resolve_conflict(self, conflict_id: str, resolution: str, note: str = "") -> None: ...

    async def send_input(self, terminal: str, data: bytes) -> None: ...

    async def resize(self, terminal: str, columns: int, lines: int) -> None: ...

    def suggest_rule(self, command: str) -> tuple[str, str]: ...

    def risk_hints(self, command: str, cwd: str) -> tuple[str, ...]: ...

    def conflict_sides(self, conflict_id: str) -> ConflictSides | None: ...

    def approval_doc(self, approval_id: str) -> SharedText | None: ...

    def running_commands(self) -> int: ...

    def busy_terminals(self) -> list[str]:
        """Terminals running a command no approval accounts for (typed in the pane)."""
        ...

    def recording_error(self) -> str | None:
        """Why the session's event log stopped recording (None while it records)."""
        ...
