"""What a proposed command ends as, for the agent that proposed it.

``RunResult`` when it ran (whatever its exit code); otherwise one of the
:class:`CommandError` subclasses, each with the ``code`` used on the wire.
These live apart from the coordinator so clients can import them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentshell.core.errors import AgentShellError

#: Why the commands of a removed agent end without running.
AGENT_REMOVED = "agent removed"


@dataclass(frozen=True, slots=True)
class RunResult:
    approval_id: str
    command: str
    exit_code: int | None
    output: str
    duration: float
    terminal: str = "main"


class CoordinatorError(AgentShellError):
    """Base of the errors the coordinator reports to callers; ``code`` names it on the wire."""

    code = "error"


class NotFoundError(CoordinatorError, KeyError):
    code = "not_found"

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class InvalidStateError(CoordinatorError):
    """The thing exists but is not in a state that allows the request."""

    code = "invalid_state"


class InvalidRequestError(CoordinatorError, ValueError):
    code = "bad_request"


class CommandError(CoordinatorError):
    """A proposed command did not run to completion."""

    def __init__(self, approval_id: str, message: str) -> None:
        super().__init__(message)
        self.approval_id = approval_id


class CommandRejected(CommandError):
    code = "rejected"

    def __init__(self, approval_id: str, reason: str, by: str = "human") -> None:
        super().__init__(
            approval_id, f"rejected by {by}: {reason}" if reason else f"rejected by {by}"
        )
        self.reason = reason
        self.by = by


class CommandExpired(CommandError):
    code = "expired"

    def __init__(self, approval_id: str, message: str = "no decision before the timeout") -> None:
        super().__init__(approval_id, message)


class CommandInterrupted(CommandError):
    code = "interrupted"


class CommandFailed(CommandError):
    """Approved, but the terminal could not run it (timeout, shell gone)."""

    code = "failed"


ERRORS_BY_CODE: dict[str, type[CoordinatorError]] = {
    c.code: c
    for c in (
        NotFoundError,
        InvalidStateError,
        InvalidRequestError,
        CommandRejected,
        CommandExpired,
        CommandInterrupted,
        CommandFailed,
    )
}
