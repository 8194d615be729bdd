"""AgentShell: supervise several AI coding agents in shared terminals.

Public API (names fixed by the original spec)::

    from agentshell import SessionManager, CapabilityRegistry

Every name is imported on first use, so that ``import agentshell.<part>`` costs only
that part (the vendor hook's entry point must start about as fast as the interpreter).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from agentshell.core.capabilities import CapabilityRegistry
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

#: Where each public name lives.
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
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'agentshell' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
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
    "CommandExecuted",
    "ConflictDetected",
    "DirectoryChanged",
    "Event",
    "FileEdited",
    "InvalidEventError",
    "LogCorruptionError",
    "SessionManager",
    "SessionState",
    "TaskCreated",
    "TaskStatusChanged",
    "__version__",
]
