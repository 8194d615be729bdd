"""AgentShell: supervise several AI coding agents in shared terminals.

Public API (names fixed by the original spec; docs/api.md lists every call)::

    from agentshell import SessionManager, CapabilityRegistry
    from agentshell import ConflictResolver, VectorClock, TerminalCoordinator

Every name is imported on first use, so that ``import agentshell.<part>`` costs only
that part (the vendor hook's entry point must start about as fast as the interpreter).
"""

from __future__ import annotations

__version__ = "0.1.0"

#: Not typing.TYPE_CHECKING: importing typing alone costs the hook a tenth of its time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agentshell.coordinator.coordinator import Coordinator as TerminalCoordinator
    from agentshell.core.capabilities import CapabilityRegistry
    from agentshell.core.clock import ClockOrder, VectorClock
    from agentshell.core.conflicts import ConflictResolver, EditConflict
    from agentshell.core.errors import AgentShellError, InvalidEventError, LogCorruptionError
    from agentshell.core.events import (
        AgentRegistered,
        ApprovalDecided,
        ApprovalExecuted,
        ApprovalQueued,
        CommandExecuted,
        ConflictDetected,
        DirectoryChanged,
        Event,
        FileEdited,
        TaskCreated,
        TaskStatusChanged,
    )
    from agentshell.core.state import AgentInfo, SessionState
    from agentshell.store.session import SessionManager

#: Where each public name lives (``module:name`` when it has another name there).
_HOMES = {
    "AgentShellError": "agentshell.core.errors",
    "InvalidEventError": "agentshell.core.errors",
    "LogCorruptionError": "agentshell.core.errors",
    "AgentRegistered": "agentshell.core.events",
    "ApprovalDecided": "agentshell.core.events",
    "ApprovalExecuted": "agentshell.core.events",
    "ApprovalQueued": "agentshell.core.events",
    "CommandExecuted": "agentshell.core.events",
    "ConflictDetected": "agentshell.core.events",
    "DirectoryChanged": "agentshell.core.events",
    "Event": "agentshell.core.events",
    "FileEdited": "agentshell.core.events",
    "TaskCreated": "agentshell.core.events",
    "TaskStatusChanged": "agentshell.core.events",
    "AgentInfo": "agentshell.core.state",
    "SessionState": "agentshell.core.state",
    "SessionManager": "agentshell.store.session",
    "CapabilityRegistry": "agentshell.core.capabilities",
    "ClockOrder": "agentshell.core.clock",
    "VectorClock": "agentshell.core.clock",
    "ConflictResolver": "agentshell.core.conflicts",
    "EditConflict": "agentshell.core.conflicts",
    # the architecture's name for the coordinator, the single writer of a session
    "TerminalCoordinator": "agentshell.coordinator.coordinator:Coordinator",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'agentshell' has no attribute {name!r}")
    import importlib

    module, _, attr = home.partition(":")
    value = getattr(importlib.import_module(module), attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = [
    "AgentInfo",
    "AgentRegistered",
    "AgentShellError",
    "ApprovalDecided",
    "ApprovalExecuted",
    "ApprovalQueued",
    "CapabilityRegistry",
    "ClockOrder",
    "CommandExecuted",
    "ConflictDetected",
    "ConflictResolver",
    "DirectoryChanged",
    "EditConflict",
    "Event",
    "FileEdited",
    "InvalidEventError",
    "LogCorruptionError",
    "SessionManager",
    "SessionState",
    "TaskCreated",
    "TaskStatusChanged",
    "TerminalCoordinator",
    "VectorClock",
    "__version__",
]
