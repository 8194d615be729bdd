"""AgentShell terminal layer: PTYs, a fast pyte-based emulator, shell integration,
immutable frames. No Textual here (see docs/terminal.md)."""

from agentshell.terminal.emulator import Emulator
from agentshell.terminal.errors import (
    CommandTimeout,
    ShellIntegrationError,
    TerminalBusyError,
    TerminalClosedError,
    TerminalError,
)
from agentshell.terminal.frames import Frame, Line
from agentshell.terminal.sinks import session_sink
from agentshell.terminal.style import Cell, Style
from agentshell.terminal.terminal import CommandResult, Terminal, clean_output

__all__ = [
    "Cell",
    "CommandResult",
    "CommandTimeout",
    "Emulator",
    "Frame",
    "Line",
    "ShellIntegrationError",
    "Style",
    "Terminal",
    "TerminalBusyError",
    "TerminalClosedError",
    "TerminalError",
    "clean_output",
    "session_sink",
]
