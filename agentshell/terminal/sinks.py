"""Sinks that turn a terminal's ``(kind, data)`` batches into session events."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from agentshell.core.events import (
    HUMAN,
    SYSTEM,
    DirectoryChanged,
    Event,
    TerminalClosed,
    TerminalInput,
    TerminalOpened,
    TerminalOutput,
    TerminalResized,
)


class _Appender(Protocol):
    def append_async(self, event: Event) -> Awaitable[Any]: ...


def to_event(terminal: str, kind: str, data: bytes, *, input_by: str = HUMAN) -> Event | None:
    """The event for one sink batch (None for kinds it does not know)."""
    if kind == "output":
        return TerminalOutput(terminal=terminal, data=data)
    if kind == "input":
        return TerminalInput(terminal=terminal, data=data, by=input_by, agent_id=input_by)
    if kind == "cwd":
        return DirectoryChanged(path=data.decode("utf-8", "replace"), terminal=terminal)
    if kind in ("opened", "closed", "resized"):
        payload = json.loads(data)
        payload["terminal"] = terminal
        if kind == "opened":
            return TerminalOpened(**payload)
        if kind == "closed":
            return TerminalClosed(**payload)
        return TerminalResized(**payload)
    return None


def session_sink(
    session: _Appender, terminal: str = "main", *, input_by: str = HUMAN
) -> Callable[[str, bytes], Awaitable[Any] | None]:
    """A sink appending every batch to ``session`` (a ``SessionManager``) as events.

    Appends happen in call order (``append_async`` assigns the sequence number at
    call time); the returned awaitable finishes when the event is durable.
    """

    def sink(kind: str, data: bytes) -> Awaitable[Any] | None:
        event = to_event(terminal, kind, data, input_by=input_by)
        if event is None:
            return None
        return session.append_async(event)

    return sink


__all__ = ["SYSTEM", "session_sink", "to_event"]
