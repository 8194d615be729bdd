"""`agentshell mcp`: an MCP server on stdio that puts any MCP client under supervision.

The client (Claude Code, Codex CLI, Gemini CLI, ...) starts it as a stdio server;
its tools reach the session's running coordinator as one agent (docs/mcp.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from agentshell.cli.cmd_operator import resolve_socket, socket_option
from agentshell.cli.main import cli
from agentshell.cli.options import session_options


def read_token(token_file: Path | None) -> str | None:
    """The agent token: ``$AGENTSHELL_TOKEN``, else the first line of ``token_file``."""
    env = os.environ.get("AGENTSHELL_TOKEN")
    if env:
        return env
    if token_file is None:
        return None
    from agentshell.cli.operator_token import read_token_file

    return read_token_file(token_file, "token file")


@cli.command()
@session_options
@socket_option
@click.option(
    "--agent", default=None, help="Agent id [default: $AGENTSHELL_AGENT]. Token: $AGENTSHELL_TOKEN."
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read the agent's token from this file when $AGENTSHELL_TOKEN is unset"
    " (keep it 0600, outside the project).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds a proposed command waits for the operator's decision before it expires"
    " (a tool call may pass its own) [default: wait].",
)
def mcp(
    data_dir: Path | None,
    session: str,
    socket: Path | None,
    agent: str | None,
    token_file: Path | None,
    timeout: float | None,
) -> None:
    """Serve the session's tools to an MCP client on stdin/stdout.

    Tools: run_command, propose_command, command_result, check_edit,
    report_edit, list_tasks, claim_task, update_task, session_state. Every
    command goes through the operator's approval queue. The agent's identity
    comes from --agent/$AGENTSHELL_AGENT and $AGENTSHELL_TOKEN (or
    --token-file); `agentshell agent add NAME --capabilities read,run,edit`
    prints a token.

    \b
      claude mcp add agentshell -e AGENTSHELL_AGENT=claude \\
          -e AGENTSHELL_TOKEN=... -- agentshell mcp

    The server starts even when no coordinator is running yet; each tool
    call connects (or reconnects) and says how to start one if none answers.
    """
    agent = agent or os.environ.get("AGENTSHELL_AGENT")
    token = read_token(token_file)
    if not agent or not token:
        raise click.UsageError(
            "set --agent (or AGENTSHELL_AGENT) and AGENTSHELL_TOKEN (or --token-file);"
            " `agentshell agent add NAME -c read,run,edit` prints a token"
        )
    import anyio

    from agentshell.bridges.mcp.server import serve_stdio
    from agentshell.bridges.mcp.tools import Bridge

    bridge = Bridge(
        resolve_socket(data_dir, session, socket),
        agent,
        token,
        session=session,
        timeout=timeout,
    )
    try:
        anyio.run(serve_stdio, bridge)
    except KeyboardInterrupt:
        pass
