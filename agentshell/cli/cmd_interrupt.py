"""`agentshell interrupt`: stop what holds a shared terminal, without the TUI."""

from __future__ import annotations

from pathlib import Path

import click

from agentshell.cli.cmd_operator import call, operator, socket_option
from agentshell.cli.main import cli
from agentshell.cli.options import session_options


@cli.command()
@session_options
@socket_option
@click.option(
    "--terminal", default="main", show_default=True, help="The shared terminal to interrupt."
)
@click.option("--eof", is_flag=True, help="Send ctrl+d (end of input) instead of ctrl+c.")
def interrupt(
    data_dir: Path | None, session: str, socket: Path | None, terminal: str, eof: bool
) -> None:
    """Send ctrl+c to a shared terminal, as the operator (logged as your input).

    A command that waits for input (`cat`, a prompt, a pager) keeps its terminal
    busy, and approved commands wait behind it: this stops it, as ctrl+c typed in
    the TUI's pane would. --eof sends ctrl+d instead (end of a program's input).
    """
    key, name = (b"\x04", "ctrl+d") if eof else (b"\x03", "ctrl+c")
    with operator(data_dir, session, socket) as c:
        call(lambda: c.request("send_input", terminal=terminal, data=key))
    click.echo(f"sent {name} to terminal {terminal!r}")
