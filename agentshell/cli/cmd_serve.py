"""`agentshell serve`: run a session's coordinator and agent socket without the TUI."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import click

from agentshell.cli.main import cli
from agentshell.cli.operator_token import TOKEN_FILE_HELP, token_file_option
from agentshell.cli.options import resolve_data_dir, session_options

#: How often serve looks whether the event log still records (seconds).
FAILURE_POLL = 0.5


async def serve_session(
    data_dir: Path,
    session: str,
    socket: Path | None,
    project: Path,
    shell: str | None,
    user_rc: bool = True,
    agent_grace: float | None = None,
) -> int:
    from agentshell.coordinator.coordinator import Coordinator
    from agentshell.coordinator.starting import start_saying_why
    from agentshell.server.paths import check_socket_path, default_socket_path, socket_record_path
    from agentshell.server.server import Server
    from agentshell.store.session import SessionManager

    sm = SessionManager(session, data_dir)
    for note in sm.open_notes():
        print(f"agentshell: {note}", file=sys.stderr, flush=True)
    sock_path = socket or Path(os.environ.get("AGENTSHELL_SOCKET") or default_socket_path(session))
    coord = Coordinator(sm, project_dir=project, shell=shell, user_rc=user_rc)
    if agent_grace is not None:
        coord.waiters.grace = agent_grace
    server = Server(coord, sock_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    record = socket_record_path(sm.session_dir)
    wrote_record = False
    try:
        check_socket_path(sock_path)  # refuse a bad socket before any shell starts or logs
        # on a full disk the start waits for room: say so
        if not await start_saying_why(
            coord,
            lambda why: print(f"agentshell: {why}", file=sys.stderr, flush=True),
            stop=stop,
            poll=FAILURE_POLL,
        ):
            return 1  # stopped before it could start
        await server.start()
        record.write_text(str(sock_path) + "\n")
        wrote_record = True
        print(
            f"agentshell: serving session {session!r} on {sock_path}", file=sys.stderr, flush=True
        )
        held = False
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FAILURE_POLL)
            # nothing can be recorded (a full disk): every command is held, and the
            # coordinator goes on by itself once the log can be written again
            now = coord.writer.held
            if now is not None and not held:
                print(f"agentshell: {now}", file=sys.stderr, flush=True)
            elif now is None and held:
                notes = "; ".join(coord.writer.resumed_notes)
                print(
                    f"agentshell: the event log records again{'; ' + notes if notes else ''}",
                    file=sys.stderr,
                    flush=True,
                )
            held = now is not None
    finally:
        await server.close()  # removes the socket only if this server bound it
        await coord.stop()
        if wrote_record:
            with contextlib.suppress(OSError):
                record.unlink()
        sm.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    failure = sm.failure_note()
    if failure is not None:
        print(f"agentshell: {failure}; stopped serving", file=sys.stderr, flush=True)
        return 1
    return 0


@cli.command()
@session_options
@click.option(
    "--socket",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Socket path [default: $AGENTSHELL_SOCKET, else <session>.sock in"
    " $XDG_RUNTIME_DIR/agentshell or /tmp/agentshell-<uid>].",
)
@click.option(
    "--project",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=".",
    show_default=True,
    help="Project directory (new terminals start here).",
)
@click.option("--shell", default=None, help="Shell for terminals [default: $SHELL].")
@click.option(
    "--no-user-rc",
    "no_user_rc",
    is_flag=True,
    help="Start shells without your rc file (~/.bashrc, ~/.zshrc): only the prompt marks.",
)
@click.option(
    "--agent-grace",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds an agent's pending command may go without its agent connected (after"
    " a restart, a crash) before it is marked withdrawn: no rule runs it, and the"
    " operator is told nobody will receive its output.",
)
@click.option(
    "--nats",
    "nats_url",
    default=None,
    metavar="URL",
    help="Keep the session's log on NATS JetStream at URL (3 replicas, a 5 s lease) and"
    " serve agents on NATS too: the first serve of a session leads it, a second one"
    " stands by and takes over. Same as `agentshell cluster serve --nats URL`, which has"
    " the options (--replicas, --ttl, --creds, --monitor).",
)
@token_file_option("With --nats: " + TOKEN_FILE_HELP)
def serve(
    data_dir: Path | None,
    session: str,
    socket: Path | None,
    project: Path,
    shell: str | None,
    no_user_rc: bool,
    agent_grace: float,
    nats_url: str | None,
    token_file: Path | None,
) -> None:
    """Run the coordinator and the agent socket headless (no TUI)."""
    import shutil

    from agentshell.core.errors import AgentShellError

    if shell is not None and shutil.which(shell) is None:
        raise click.BadParameter(f"{shell!r} is not an executable shell", param_hint="--shell")
    if nats_url is not None:
        from agentshell.cli.cmd_cluster import serve_cmd

        click.get_current_context().invoke(
            serve_cmd,
            data_dir=data_dir,
            session=session,
            url=nats_url,
            replicas=3,
            ttl=5.0,
            creds=None,
            monitor=(),
            socket=socket,
            project=project,
            shell=shell,
            no_user_rc=no_user_rc,
            token_file=token_file,
        )
        return
    if token_file is not None:
        raise click.BadParameter(
            "only with --nats (a local server's operator token is beside its socket)",
            param_hint="--operator-token-file",
        )

    try:
        code = asyncio.run(
            serve_session(
                resolve_data_dir(data_dir),
                session,
                socket,
                project.resolve(),
                shell,
                user_rc=not no_user_rc,
                agent_grace=agent_grace,
            )
        )
    except AgentShellError as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(code)
