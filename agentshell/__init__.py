"""AgentShell: supervise several AI coding agents in shared terminals.

Public API (names fixed by the original spec)::

    from agentshell import SessionManager, CapabilityRegistry
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

__version__ = "0.1.0"

if TYPE_CHECKING:
    from agentshell.core.capabilities import CapabilityRegistry
    from agentshell.store.session import SessionManager


def __getattr__(name: str) -> Any:
    # Lazy so that `import agentshell.core` stays light and layer-clean.
    if name == "SessionManager":
        from agentshell.store.session import SessionManager

        return SessionManager
    if name == "CapabilityRegistry":
        from agentshell.core.capabilities import CapabilityRegistry

        return CapabilityRegistry
    raise AttributeError(f"module 'agentshell' has no attribute {name!r}")


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
