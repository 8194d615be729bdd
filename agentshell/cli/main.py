"""`agentshell` command line: the root group. Subcommands live in sibling modules."""

from __future__ import annotations

import click

from agentshell import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="agentshell")
def cli() -> None:
    """AgentShell: supervise several AI coding agents in shared terminals.

    Agents propose commands over a local socket; you approve, edit or reject them;
    everything is recorded in a crash-proof event log you can replay.
    """


def main() -> None:
    from agentshell.cli import commands  # noqa: F401  (registers subcommands)

    cli()
