"""AgentShell client layer: :class:`AgentClient` (async) and :class:`SyncAgentClient`."""

from agentshell.client.client import (
    AgentClient,
    CommandExpired,
    CommandFailed,
    CommandInterrupted,
    CommandRejected,
    RunResult,
    Screen,
    ServerError,
    SharedDoc,
)
from agentshell.client.sync import SyncAgentClient

__all__ = [
    "AgentClient",
    "CommandExpired",
    "CommandFailed",
    "CommandInterrupted",
    "CommandRejected",
    "RunResult",
    "Screen",
    "ServerError",
    "SharedDoc",
    "SyncAgentClient",
]
