"""`agentshell demo`: run the built-in demo headless and leave a session to replay."""

from __future__ import annotations

import asyncio
import shlex
import time
from pathlib import Path

import click

from agentshell.cli.main import cli
from agentshell.cli.options import resolve_data_dir, session_options


@cli.command()
@session_options(
    session_default=None,
    session_help="Session name [default: demo-<date-time>].",
    dir_help="Data directory for the session [default: the user's data directory, or "
    "$AGENTSHELL_DIR].",
)
@click.option(
    "--cast",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="OUT.cast",
    help="Also export the recording as asciicast v2 (OUT-<terminal>.cast per terminal "
    "when several).",
)
@click.option(
    "--timeout",
    default=120.0,
    show_default=True,
    help="Seconds the demo may take; exit status 1 when it did not settle by then.",
)
@click.pass_context
def demo(
    ctx: click.Context,
    data_dir: Path | None,
    session: str | None,
    cast: Path | None,
    timeout: float,
) -> None:
    """Run three example agents against a real coordinator; a scripted operator
    approves, rejects and resolves conflicts, so it runs to the end unattended."""
    from agentshell.core.errors import AgentShellError
    from agentshell.replay.demo import run_headless_demo
    from agentshell.replay.timeline import Timeline

    data_dir = resolve_data_dir(data_dir)
    session = session or time.strftime("demo-%Y%m%d-%H%M%S")
    if (data_dir / session / "events.log").exists():
        raise click.ClickException(
            f"{data_dir / session} already holds a session: choose another --dir or --session"
        )
    try:
        result = asyncio.run(run_headless_demo(data_dir, session, timeout=timeout))
    except AgentShellError as exc:  # a data directory that cannot be made, ...
        raise click.ClickException(str(exc)) from None
    for _, decision, command in result.decisions:
        click.echo(f"  operator {decision}: $ {command}")
    click.echo(f"Session recorded in {result.session_dir} ({result.events} events).")
    if cast is not None:
        from agentshell.replay.cast import export_casts

        for p in export_casts(Timeline(result.session_dir), cast):
            click.echo(f"wrote {p}")
    click.echo(f"Replay it: agentshell replay {shlex.quote(str(result.session_dir))}")
    click.echo(
        f"       or: agentshell replay --dir {shlex.quote(str(data_dir))} --session {session}"
    )
    if not result.settled:
        click.echo(
            f"warning: the demo did not settle within {timeout:g} s "
            "(the session holds what happened until then)",
            err=True,
        )
        ctx.exit(1)
