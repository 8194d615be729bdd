"""`agentshell tui`: the operator's terminal UI (coordinator and socket in-process)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from agentshell.cli.main import cli
from agentshell.cli.operator_token import token_file_option
from agentshell.cli.options import resolve_data_dir, session_options


@cli.command()
@session_options
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="PATH",
    help="Unix socket agents attach to [default: $AGENTSHELL_SOCKET, else "
    "$XDG_RUNTIME_DIR/agentshell/<session>.sock].",
)
@click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    metavar="DIR",
    help="Project directory new terminals start in [default: the current directory].",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Also start three example agents on a scratch project (proposals, a risky "
    "command, a co-edited draft, a conflict): every feature within a minute. Uses the "
    "session `demo` unless --session is given, so your default session stays clean.",
)
@click.option(
    "--agent",
    "agents",
    multiple=True,
    metavar="VENDOR[=ARGS]",
    help="Start an agent in a new pane, supervised by this session: claude, codex, gemini"
    " (through their hooks) or aider (through agentshell wrap); ARGS go to its CLI, e.g."
    " --agent 'claude=--model opus'. Repeatable.",
)
@click.option(
    "--nats",
    "nats_url",
    default=None,
    metavar="URL",
    help="Supervise a session served elsewhere (`agentshell cluster serve`), through NATS"
    " at URL: its panes, approval queue and conflicts, live; decisions go to whichever"
    " coordinator leads it. Needs the session's operator token (--operator-token-file"
    " or $AGENTSHELL_OPERATOR_TOKEN).",
)
@token_file_option(
    "With --nats: the session's operator token (the file its coordinators serve"
    " with, `cluster serve --operator-token-file FILE`) [default: $AGENTSHELL_OPERATOR_TOKEN]."
)
@click.option(
    "--creds", default=None, metavar="FILE", help="With --nats: your NATS user's credentials file."
)
def tui(
    session: str,
    data_dir: Path | None,
    socket_path: Path | None,
    project_dir: Path | None,
    demo: bool,
    agents: tuple[str, ...],
    nats_url: str | None,
    token_file: Path | None,
    creds: str | None,
) -> None:
    """Open the operator's UI: live terminals, the approval queue, conflicts.

    Opens (or creates) the session, serves it on the socket (agents attach there),
    starts terminal `main` and prints how an agent attaches. Reopening a session
    restores everything, pending approvals included.

    \b
    Keys (the approval queue has the focus; the oldest request is acted on
    unless another is selected):
      a approve   e edit, then approve   r reject   s approve similar (rule)
      ctrl+t (or a click) type into a pane    ctrl+]  give the keys back
      f3 conflicts   f4 agents   f5 log   z zoom   ? help
      ctrl+p palette (also: "Start a supervised agent: Claude Code" ...)
      q / ctrl+q quit (asks while commands are running)

    \b
    Examples:
      agentshell tui                          # the default session
      agentshell tui --session api --project ~/src/api
      agentshell tui --demo                   # see it work with example agents
      agentshell tui --agent claude --agent aider='--model gpt-4o'
      agentshell tui --nats nats://10.0.0.1:4222 --session team --operator-token-file op.token
    """
    import os

    if nats_url is not None:
        _remote(
            session,
            nats_url,
            token_file,
            creds,
            demo=demo,
            agents=agents,
            local=socket_path is not None or project_dir is not None or data_dir is not None,
        )
        return
    if token_file is not None or creds is not None:
        raise click.UsageError("--operator-token-file and --creds go with --nats")

    from agentshell.tui.agents_start import StartError, parse_agent

    try:
        specs = [parse_agent(a) for a in agents]
    except StartError as exc:
        raise click.BadParameter(str(exc), param_hint="--agent") from None

    ctx = click.get_current_context()
    if demo and ctx.get_parameter_source("session") is click.core.ParameterSource.DEFAULT:
        session = "demo"

    from agentshell.server.paths import default_socket_path
    from agentshell.tui.run import attach_help, reopen_hint, run_tui

    env = os.environ.get("AGENTSHELL_SOCKET")
    sock = socket_path or (Path(env) if env else default_socket_path(session))
    from agentshell.core.errors import AgentShellError

    try:
        failure = asyncio.run(
            run_tui(
                session=session,
                data_dir=resolve_data_dir(data_dir),
                socket_path=sock,
                project_dir=project_dir,
                demo=demo,
                agents=specs,
                on_ready=lambda: click.echo(attach_help(str(sock), session, data_dir)),
            )
        )
    except AgentShellError as exc:  # session held elsewhere, a bad socket path ...
        raise click.ClickException(str(exc)) from None
    if failure is not None:  # not "saved": say what was lost
        click.echo(f"agentshell: {failure}", err=True)
        raise SystemExit(1)
    click.echo(reopen_hint(session, data_dir, socket_path))


def _remote(
    session: str,
    url: str,
    token_file: Path | None,
    creds: str | None,
    *,
    demo: bool,
    agents: tuple[str, ...],
    local: bool,
) -> None:
    """``tui --nats``: the app on a session served elsewhere."""
    if demo or agents or local:
        raise click.UsageError(
            "--nats shows a session served elsewhere: --demo, --agent, --socket, --project"
            " and --dir belong to the machine that serves it"
        )
    from agentshell.cli.operator_token import operator_token
    from agentshell.core.errors import AgentShellError
    from agentshell.store.jetstream import NatsTarget, require_nats
    from agentshell.tui.run_remote import run_remote_tui

    token = operator_token(token_file)
    try:
        require_nats()
        target = NatsTarget(url, creds=creds)
        asyncio.run(run_remote_tui(session=session, target=target, url=url, token=token))
    except AgentShellError as exc:
        raise click.ClickException(str(exc)) from None
    except ValueError as exc:  # a malformed URL
        raise click.BadParameter(str(exc), param_hint="--nats") from None
