"""``agentshell wrap --pane NAME``: start the wrapped CLI in a new pane of the session.

From any terminal: the operator's tools (same user, the 0600 operator token beside
the socket) open a terminal NAME in the running session, and ``agentshell wrap``
is typed into its shell, so the CLI runs in that pane of the TUI and its prompts go
to the queue. The agent's token never goes into the log as typed input: it is
written to a 0600 file in the socket's private directory and the pane's wrapper
reads it from there (``--token-file``).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from agentshell.client.sync import SyncAgentClient
from agentshell.server.paths import write_private_file


def token_file_for(socket_path: Path, pane: str) -> Path:
    return socket_path.with_name(f"{socket_path.name}.wrap-{pane}.token")


def wrap_command_line(
    socket_path: Path,
    pane: str,
    *,
    profile: str,
    agent: str,
    token_file: Path,
    timeout: float | None,
    command: Sequence[str],
) -> str:
    argv = [sys.executable, "-m", "agentshell", "wrap", "--socket", str(socket_path)]
    argv += ["--profile", profile, "--agent", agent, "--token-file", str(token_file)]
    argv += ["--terminal", pane]
    if timeout is not None:
        argv += ["--timeout", f"{timeout:g}"]
    return shlex.join([*argv, "--", *command])


def open_in_pane(
    socket_path: Path,
    pane: str,
    *,
    profile: str,
    agent: str,
    token: str,
    timeout: float | None,
    command: Sequence[str],
    cwd: str | None = None,
) -> None:
    """Open terminal ``pane`` and start the wrapper in it (raises what the server said)."""
    with SyncAgentClient.connect(socket_path, operator=True) as op:
        op.request("open_terminal", terminal=pane, cwd=cwd or os.getcwd())
        token_file = token_file_for(socket_path, pane)
        write_private_file(token_file, token + "\n")
        line = wrap_command_line(
            socket_path,
            pane,
            profile=profile,
            agent=agent,
            token_file=token_file,
            timeout=timeout,
            command=command,
        )
        op.request("send_input", terminal=pane, data=(line + "\n").encode())
