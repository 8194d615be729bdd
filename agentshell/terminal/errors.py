"""Errors of the terminal layer (all are :class:`AgentShellError`)."""

from __future__ import annotations

from agentshell.core.errors import AgentShellError


class TerminalError(AgentShellError):
    """Base class of the terminal layer's errors."""


class TerminalClosedError(TerminalError):
    """The terminal's shell has exited (or was killed, or the terminal was closed).

    ``exit_status`` is the shell's exit status when known (negative: killed by that
    signal). Call ``await terminal.restart()`` to start a new shell.
    """

    def __init__(self, name: str, exit_status: int | None = None, reason: str = "") -> None:
        self.name = name
        self.exit_status = exit_status
        self.reason = reason
        detail = reason or "shell exited"
        if exit_status is not None:
            detail += f" (exit status {exit_status})"
        super().__init__(
            f"terminal {name!r} is closed: {detail}; call restart() to start a new shell"
        )


class CommandTimeout(TerminalError, TimeoutError):
    """``Terminal.run`` gave up waiting for the command to finish.

    Ctrl-C was sent; ``recovered`` tells whether the prompt came back afterwards (the
    terminal is usable again). ``output`` holds what the command printed until then.
    """

    def __init__(self, command: str, timeout: float, output: str, recovered: bool) -> None:
        self.command = command
        self.timeout = timeout
        self.output = output
        self.recovered = recovered
        state = (
            "interrupted with Ctrl-C, prompt is back"
            if recovered
            else "Ctrl-C did not bring the prompt back"
        )
        super().__init__(f"command {command!r} did not finish within {timeout:g} s ({state})")


class TerminalBusyError(TerminalError):
    """``run`` was called while the shell is not at a prompt (a program is running)."""


class ShellIntegrationError(TerminalError):
    """The shell did not report its prompt marks (OSC 133); ``run`` cannot work in it."""
