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
from agentshell.cli.operator_token import serving_token, token_file_option
from agentshell.cli.options import default_data_dir, resolve_data_dir, session_options

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


#: How often a served session looks whether its log still records (seconds).
FAILURE_POLL = 0.5


def _say(msg: str) -> None:
    click.echo(f"agentshell: {msg}", err=True)


async def serve_on_nats(
    url: str,
    session: str,
    *,
    session_dir: Path | None = None,
    replicas: int,
    ttl: float,
    socket: Path | None,
    project: Path,
    shell: str | None,
    user_rc: bool,
    creds: str | None = None,
    monitor: tuple[str, ...] = (),
    operator_token: str | None = None,
) -> int:
    """Lead ``session`` on JetStream (or stand by until its leader is gone), then run
    its coordinator with the Unix socket and the NATS transport for agents."""
    import asyncio
    import signal as signals

    from agentshell.coordinator.coordinator import Coordinator
    from agentshell.server.nats_transport import NatsListener
    from agentshell.server.paths import (
        check_socket_path,
        default_socket_path,
        socket_record_path,
    )
    from agentshell.server.server import Server
    from agentshell.store.jetstream import NatsTarget
    from agentshell.store.jetstream_lease import LeaseHeldError, Standby, lead

    target = NatsTarget(url, replicas=replicas, creds=creds, monitor=monitor)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signals.SIGINT, signals.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sock_path = socket or default_socket_path(session)
    record = socket_record_path(session_dir) if session_dir is not None else None
    try:
        check_socket_path(sock_path)
        try:
            sm = await asyncio.to_thread(lead, session, target, ttl=ttl)
        except LeaseHeldError as exc:
            _say(f"standby: {exc}; following its stream until its lease runs out")
            standby = await asyncio.to_thread(Standby, session, target, ttl=ttl)
            waiting = asyncio.ensure_future(asyncio.to_thread(standby.take_over))
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait([waiting, stopped], return_when=asyncio.FIRST_COMPLETED)
            if not waiting.done():
                standby.cancel()  # take_over gives up at its next try
                with contextlib.suppress(LeaseHeldError):
                    await waiting
                await asyncio.to_thread(standby.close)
                return 0
            stopped.cancel()
            sm = waiting.result()
            _say(f"took over session {session!r} at event {sm.last_seq}")
        for note in sm.open_notes():
            _say(note)
        coord = Coordinator(sm, project_dir=project, shell=shell, user_rc=user_rc)
        server = Server(coord, sock_path, operator_token=operator_token)
        listener = NatsListener(server, target, session)
        try:
            await coord.start()
            await server.start()
            await listener.start()
            if record is not None:
                record.write_text(str(sock_path) + "\n")
            _say(
                f"serving session {session!r} on {sock_path} and through NATS at {url}"
                f" (leader lease {ttl:g} s)"
            )
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), FAILURE_POLL)
                if sm.failure is not None:
                    break
        finally:
            if record is not None:
                with contextlib.suppress(OSError):
                    record.unlink()
            await listener.close()
            await server.close()
            await coord.stop()
            await asyncio.to_thread(sm.close)
        failure = sm.failure_note()
        if failure is not None:
            _say(f"{failure}; stopped serving")
            return 1
        return 0
    finally:
        for sig in (signals.SIGINT, signals.SIGTERM):
            loop.remove_signal_handler(sig)


@cluster.command("serve")
@session_options(
    session_help="The session to lead (or to stand by for).",
    dir_help="Data directory where the socket's path is recorded for local commands"
    " (agentshell run --session S); the session's log lives in JetStream"
    " [default: the user's data directory, or $AGENTSHELL_DIR].",
)
@click.option("--nats", "url", required=True, help="NATS server URL(s), comma-separated.")
@click.option(
    "--replicas",
    type=click.IntRange(1, 5),
    default=3,
    show_default=True,
    help="Copies of a new session's stream (1 for a single node).",
)
@click.option(
    "--ttl",
    type=click.FloatRange(0.5, 600),
    default=5.0,
    show_default=True,
    help="Seconds the leader's lease lives without a renewal (a standby takes over then).",
)
@click.option("--creds", default=None, help="NATS credentials file of the coordinator's user.")
@click.option(
    "--monitor",
    multiple=True,
    help="A server's HTTP monitoring URL, checked for sync_interval: always (repeatable).",
)
@click.option(
    "--socket",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Socket path for local agents [default: <session>.sock in the socket directory].",
)
@click.option(
    "--project",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=".",
    show_default=True,
    help="Project directory (new terminals start here).",
)
@click.option("--shell", default=None, help="Shell for terminals [default: $SHELL].")
@click.option("--no-user-rc", "no_user_rc", is_flag=True, help="Start shells without your rc file.")
@token_file_option()
def serve_cmd(
    data_dir: Path | None,
    session: str,
    url: str,
    replicas: int,
    ttl: float,
    creds: str | None,
    monitor: tuple[str, ...],
    socket: Path | None,
    project: Path,
    shell: str | None,
    no_user_rc: bool,
    token_file: Path | None = None,
) -> None:
    """Serve a session whose log lives on NATS JetStream.

    The first `cluster serve` of a session leads it (it holds the session's lease in
    JetStream and renews it); a second one, on this or another machine, is a
    standby: it follows the stream and takes over when the leader's lease runs out
    (--ttl after its last renewal). Approved or running commands of the old leader
    come back interrupted; nothing is re-run. Agents connect through the socket or
    through NATS (agentshell.client.nats_connect).
    """
    import asyncio
    import sys

    from agentshell.core.errors import AgentShellError

    session_dir = resolve_data_dir(data_dir) / session
    try:
        session_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(
            f"cannot make {session_dir} (where the socket's path is recorded): {exc.strerror or exc}"
        ) from None
    try:
        code = asyncio.run(
            serve_on_nats(
                url,
                session,
                session_dir=session_dir,
                replicas=replicas,
                ttl=ttl,
                socket=socket,
                project=project.resolve(),
                shell=shell,
                user_rc=not no_user_rc,
                creds=creds,
                monitor=monitor,
                operator_token=serving_token(token_file),
            )
        )
    except AgentShellError as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(code)
