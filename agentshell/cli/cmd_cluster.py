"""`agentshell cluster up|down|status`: a local JetStream cluster on loopback, to try
sessions on NATS (docs/cluster.md)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from agentshell.cli.main import cli
from agentshell.cli.options import default_data_dir

if TYPE_CHECKING:
    from agentshell.store.jetstream_server import LocalCluster


def default_cluster_dir() -> Path:
    """Beside the sessions directory: ``<data dir>/../cluster``."""
    return default_data_dir().parent / "cluster"


dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the nodes keep their config, logs and JetStream data"
    " [default: 'cluster' beside the sessions directory].",
)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _load(directory: Path) -> LocalCluster:
    from agentshell.store.jetstream_server import LocalCluster, NatsServerError

    try:
        return LocalCluster.load(directory)
    except NatsServerError as exc:
        raise click.ClickException(str(exc)) from None


@cli.group()
def cluster() -> None:
    """A local NATS JetStream cluster on loopback, for trying sessions on NATS.

    `cluster up` starts the nodes (JetStream on, every write fsync'd before it is
    acknowledged) and prints their URL (comma-separated, what a session on NATS
    connects to); `cluster down` stops them.
    Needs the cluster extra: pip install 'agentshell[cluster]'.
    """


@cluster.command()
@click.option(
    "--nodes",
    type=click.IntRange(1, 9),
    default=3,
    show_default=True,
    help="How many nodes (3 keeps a session writable with one node down).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535 - 4010),
    default=4222,
    show_default=True,
    help="Client port of the first node (the next nodes take the next ports; monitoring"
    " is +4000, routes +2000). 0: any free ports.",
)
@dir_option
def up(nodes: int, port: int, directory: Path | None) -> None:
    """Start the nodes in the background and print the URL.

    The data stays in --dir: `cluster up` after `cluster down` brings back the
    sessions stored before.
    """
    from agentshell.store.jetstream import check_sync_always
    from agentshell.store.jetstream_server import STATE_FILE, NatsServerError, start_cluster

    directory = directory if directory is not None else default_cluster_dir()
    if (directory / STATE_FILE).exists():
        running = [n for n in _load(directory).nodes if _alive(n.pid)]
        if running:
            names = ", ".join(f"{n.name} (pid {n.pid})" for n in running)
            raise click.ClickException(
                f"a cluster is already running from {directory}: {names}."
                " Stop it first: agentshell cluster down"
                + ("" if directory == default_cluster_dir() else f" --dir {directory}")
            )
    if nodes % 2 == 0:
        click.echo(
            f"note: {nodes} nodes tolerate no more failures than {nodes - 1}; an odd number is usual",
            err=True,
        )
    try:
        started = start_cluster(
            directory, nodes, detach=True, base_port=None if port == 0 else port
        )
    except NatsServerError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        check_sync_always(started.monitor_urls)
    except Exception as exc:
        started.stop()
        raise click.ClickException(str(exc)) from None
    started.save()
    click.echo(f"{nodes} node(s) up, JetStream with sync_interval: always, data in {directory}")
    for n in started.nodes:
        click.echo(f"  {n.name}: {n.url}  (monitoring {n.monitor_url}, pid {n.pid})")
    click.echo(started.url)


@cluster.command()
@dir_option
@click.option("--wipe", is_flag=True, help="Also delete the nodes' data (every stored session).")
def down(directory: Path | None, wipe: bool) -> None:
    """Stop the nodes that `cluster up` started."""
    from agentshell.store.jetstream_server import STATE_FILE, stop_pid

    directory = directory if directory is not None else default_cluster_dir()
    found = _load(directory)
    running = [n for n in found.nodes if _alive(n.pid)]
    for n in running:  # all at once: each takes a moment to write its JetStream state
        with contextlib.suppress(ProcessLookupError):
            os.kill(n.pid, signal.SIGTERM)
    for n in found.nodes:
        if n in running:
            stop_pid(n.pid)
            click.echo(f"stopped {n.name} (pid {n.pid})")
        else:
            click.echo(f"{n.name} (pid {n.pid}) was not running")
    (directory / STATE_FILE).unlink()
    if wipe:
        for n in found.nodes:
            shutil.rmtree(n.config.parent, ignore_errors=True)
        click.echo(f"deleted the nodes' data in {directory}")


@cluster.command()
@dir_option
def status(directory: Path | None) -> None:
    """Show whether each node is running and ready."""
    from agentshell.store.jetstream_server import node_ready

    directory = directory if directory is not None else default_cluster_dir()
    found = _load(directory)
    for n in found.nodes:
        state = "ready" if node_ready(n) else ("running" if _alive(n.pid) else "stopped")
        click.echo(f"{n.name}: {state}  {n.url}  pid {n.pid}")
    click.echo(found.url)
