"""The package's own exception hierarchy. Every error we raise on purpose is one of these."""

from __future__ import annotations


class AgentShellError(Exception):
    """Base class of every error AgentShell raises on purpose."""


class InvalidEventError(AgentShellError, ValueError):
    """An event (type, payload or value) does not fit the event model. Nothing was written."""


class InvalidNameError(AgentShellError, ValueError):
    """A session, agent or terminal name is not a plain name."""


class LogCorruptionError(AgentShellError):
    """The event log is damaged somewhere other than a torn tail.

    ``path`` is the log file, ``offset`` the byte offset of the first bad record,
    ``reason`` says what is wrong there. Run ``agentshell repair`` to cut the log at
    its last good record (a copy of the original is kept).
    """

    def __init__(self, path: str, offset: int, reason: str) -> None:
        self.path = path
        self.offset = offset
        self.reason = reason
        super().__init__(
            f"{path}: corrupt record at byte {offset}: {reason}. "
            f"Run `agentshell repair {path}` to cut the log at its last good record "
            "(the original is kept as a copy)."
        )


class SessionLockedError(AgentShellError):
    """Another process has the session open for writing (``pid``: who, when known)."""

    def __init__(self, message: str, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


class LogClosedError(AgentShellError):
    """The log was closed, or stopped after an fsync failure; reopen it to recover."""


class PermissionDeniedError(AgentShellError):
    """An agent asked for something its capabilities do not allow."""


class ApprovalStateError(AgentShellError):
    """A transition the approval state machine does not allow."""
