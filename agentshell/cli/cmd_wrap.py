"""`agentshell wrap -- CMD ...`: a prompt-driven CLI (aider, ...) under supervision.

The CLI runs in a PTY; the confirmation prompts its profile knows become approval
items and are answered with the operator's decision (docs/wrap.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from agentshell.cli.cmd_mcp import read_token
from agentshell.cli.cmd_operator import resolve_socket, socket_option
from agentshell.cli.main import cli
from agentshell.cli.options import session_options


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@session_options
@socket_option
@click.option(
    "--profile",
    default="generic",
    show_default=True,
    help="The prompt profile: aider, generic, or one from the user's wrap-profiles.toml.",
)
@click.option(
    "--agent", default=None, help="Agent id [default: $AGENTSHELL_AGENT]. Token: $AGENTSHELL_TOKEN."
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read the agent's token from this file when $AGENTSHELL_TOKEN is unset.",
)
@click.option(
    "--terminal",
    default=None,
    help="The terminal the approval items name [default: $AGENTSHELL_TERMINAL, the pane"
    " this runs in, else main].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds a prompt waits for the operator; then it expires and is answered no"
    " [default: wait].",
)
@click.option(
    "--pane",
    default=None,
    metavar="NAME",
    help="Start COMMAND in a new pane NAME of the running session (the TUI shows it)"
    " instead of here, and return.",
)
@click.option("--list-profiles", is_flag=True, help="List the known profiles and exit.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def wrap(
    data_dir: Path | None,
    session: str,
    socket: Path | None,
    profile: str,
    agent: str | None,
    token_file: Path | None,
    terminal: str | None,
    timeout: float | None,
    pane: str | None,
    list_profiles: bool,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND in a PTY; route its confirmation prompts to the approval queue.

    For agents with no hooks (aider, any CLI asking y/n): each prompt the
    profile knows ("Run shell command?", "[y/N]", ...) becomes an approval item
    carrying the command it shows, and is answered with the operator's
    decision (approved: yes; rejected or expired: no). Everything else passes
    through: run it in a TUI pane and the CLI is that pane.

    \b
      agentshell wrap --profile aider -- aider --model gpt-4o

    Exit status: COMMAND's own; 2 when no AgentShell server answers.
    """
    from agentshell.bridges.wrap.profiles import ProfileError, get_profile, load_profiles

    try:
        if list_profiles:
            for p in load_profiles().values():
                click.echo(f"{p.name}: {p.description} ({p.source})")
            return
        prof = get_profile(profile)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from None
    if not command:
        raise click.UsageError("give the command to run after --, e.g. `wrap -- aider`")
    agent = agent or os.environ.get("AGENTSHELL_AGENT")
    token = read_token(token_file)
    if not agent or not token:
        raise click.UsageError(
            "set --agent (or AGENTSHELL_AGENT) and AGENTSHELL_TOKEN (or --token-file);"
            " `agentshell agent add NAME -c read,run` prints a token"
        )
    path = resolve_socket(data_dir, session, socket)
    if pane is not None:
        from agentshell.bridges.wrap.pane import open_in_pane
        from agentshell.cli.cmd_operator import unreachable
        from agentshell.core.errors import AgentShellError

        try:
            open_in_pane(
                path,
                pane,
                profile=profile,
                agent=agent,
                token=token,
                timeout=timeout,
                command=command,
            )
        except OSError as exc:
            raise click.ClickException(unreachable(path, session, exc)) from None
        except AgentShellError as exc:
            raise click.ClickException(f"cannot start it in pane {pane!r}: {exc}") from None
        click.echo(
            f"{command[0]} runs in pane {pane!r} of session {session!r}; its prompts"
            " go to the approval queue",
            err=True,
        )
        return
    import asyncio

    from agentshell.bridges.wrap.runner import Wrapper
    from agentshell.bridges.wrap.runner import wrap as run_wrapped

    wrapper = Wrapper(
        command,
        prof,
        socket_path=path,
        agent=agent,
        token=token,
        terminal=terminal or os.environ.get("AGENTSHELL_TERMINAL") or "main",
        timeout=timeout,
        session=session,
    )
    sys.exit(asyncio.run(run_wrapped(wrapper)))
