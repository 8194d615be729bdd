"""`agentshell run -- COMMAND...`: what an agent calls instead of running a command.

The command is proposed to the session's server, waits for the human's decision
(or a rule), and on approval runs in the shared terminal; its output is printed and
its exit code returned. Exit codes of our own:

* 126  rejected (the reason is printed on stderr)
* 124  expired: no decision within --timeout
* 125  approved but could not run (terminal gone, interrupted by a restart, the
        server went away before the result came)
* 2    usage, connection or authentication error
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from pathlib import Path

import click

from agentshell.cli.cmd_operator import resolve_socket, socket_option, unreachable
from agentshell.cli.main import cli
from agentshell.cli.options import session_options

EXIT_REJECTED = 126
EXIT_EXPIRED = 124
EXIT_FAILED = 125
EXIT_ERROR = 2


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@session_options
@socket_option
@click.option(
    "--agent", default=None, help="Agent id [default: $AGENTSHELL_AGENT]. Token: $AGENTSHELL_TOKEN."
)
@click.option(
    "--terminal", default="main", show_default=True, help="The shared terminal to run it in."
)
@click.option(
    "--timeout",
    type=float,
    default=None,
    help="Seconds to wait for a decision; then it expires (exit 124) [default: wait].",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Seconds to keep trying to connect (a server still starting, a full backlog).",
)
@click.option(
    "--reconnect",
    "reconnect_for",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds to keep reconnecting after the connection is lost (a server restart);"
    " the wait then resumes on the same approval. 0: give up at once.",
)
@click.option(
    "--nats",
    "nats_url",
    default=None,
    metavar="URL",
    help="Reach the session through NATS (a coordinator started with `agentshell cluster"
    " serve --nats URL --session S`) instead of the local socket.",
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(
    data_dir: Path | None,
    session: str,
    socket: Path | None,
    agent: str | None,
    terminal: str,
    timeout: float | None,
    connect_timeout: float,
    reconnect_for: float,
    nats_url: str | None,
    command: tuple[str, ...],
) -> None:
    """Propose COMMAND, wait for approval, print its output, exit with its code.

    One argument is used as the command line as is (`agentshell run -- 'make && ls'`);
    several are quoted and joined (`agentshell run -- ls -la`). The agent's token comes
    from $AGENTSHELL_TOKEN (printed once by `agentshell agent add`).

    \b
    Exit status:
      N    the command ran; N is its own exit code
      124  expired: no decision within --timeout; nothing ran
      125  approved but could not run (terminal gone, run timed out,
           interrupted by a server restart, or the server went away
           and did not come back within --reconnect); see stderr
      126  rejected; the human's reason is on stderr
      2    usage, connection or authentication error (no server, bad token)
    Our own codes always come with a message on stderr; the command's
    output alone goes to stdout. When the operator edited the command
    before approving it, stderr says what ran instead.
    """
    from agentshell.client.client import ConnectionLost, ServerError
    from agentshell.client.sync import SyncAgentClient
    from agentshell.coordinator.results import (
        CommandExpired,
        CommandFailed,
        CommandInterrupted,
        CommandRejected,
    )
    from agentshell.core.errors import AgentShellError

    agent = agent or os.environ.get("AGENTSHELL_AGENT")
    token = os.environ.get("AGENTSHELL_TOKEN")
    if not agent or not token:
        click.echo(
            "agentshell run: set --agent (or AGENTSHELL_AGENT) and AGENTSHELL_TOKEN", err=True
        )
        sys.exit(EXIT_ERROR)
    line = command[0] if len(command) == 1 else shlex.join(command)
    if nats_url is not None:
        try:
            client = SyncAgentClient.connect_nats(
                nats_url,
                session,
                agent,
                token,
                timeout=max(connect_timeout, 1.0),
                reconnect_for=reconnect_for,
            )
        except ImportError:
            click.echo(
                "agentshell run: --nats needs the cluster extra: pip install 'agentshell[cluster]'",
                err=True,
            )
            sys.exit(EXIT_ERROR)
        except (OSError, ServerError, AgentShellError, TimeoutError) as exc:
            click.echo(
                f"agentshell run: cannot reach session {session!r} through NATS at {nats_url}:"
                f" {exc or type(exc).__name__}",
                err=True,
            )
            sys.exit(EXIT_ERROR)
    else:
        path = resolve_socket(data_dir, session, socket)
        try:
            client = SyncAgentClient.connect(
                path, agent, token, retry_for=connect_timeout, reconnect_for=reconnect_for
            )
        except (OSError, ServerError, AgentShellError) as exc:
            click.echo(f"agentshell run: {unreachable(path, session, exc)}", err=True)
            sys.exit(EXIT_ERROR)
    try:
        with client as c:
            aid = c.propose(line, terminal=terminal, timeout=timeout)
            try:
                result = c.result(aid)
            except KeyboardInterrupt:
                # nobody will wait for it any more: say so, so that nobody runs it
                with contextlib.suppress(Exception):
                    c.withdraw(aid, "agentshell run was interrupted")
                click.echo(f"agentshell run: interrupted; approval {aid} withdrawn", err=True)
                sys.exit(130)
    except CommandRejected as exc:
        click.echo(f"agentshell: command rejected: {exc.reason or 'no reason given'}", err=True)
        sys.exit(EXIT_REJECTED)
    except CommandExpired:
        click.echo("agentshell: no decision before the timeout; the command did not run", err=True)
        sys.exit(EXIT_EXPIRED)
    except (CommandFailed, CommandInterrupted) as exc:
        click.echo(f"agentshell: the command could not run: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    except ConnectionLost as exc:
        click.echo(
            f"agentshell run: {exc}; no result came. If it was approved it may have run:"
            " once the server is back, `agentshell approvals` lists it as interrupted"
            " (decide again) or the log (`agentshell log`) has what ran",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    except (OSError, ServerError, AgentShellError) as exc:
        click.echo(f"agentshell run: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    if result.command != line:
        # stdout is the output of what ran; the agent must know that it was not its text
        click.echo(
            f"agentshell: the operator edited the command; what ran: {result.command}", err=True
        )
    out = result.output
    if out:
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
        sys.stdout.flush()
    code = result.exit_code
    sys.exit(code if code is not None else EXIT_FAILED)
