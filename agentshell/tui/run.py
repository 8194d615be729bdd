"""Run the operator's app with the coordinator and the socket server in-process."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import shlex
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from agentshell.tui.agents_start import AgentSpec
from agentshell.tui.app import AgentShellApp
from agentshell.tui.live import CoordinatorBackend

DemoRunner = Callable[[str, Any, Path], Awaitable[None]]


def attach_help(socket_path: str, session: str, data_dir: Path | None) -> str:
    where = f" --dir {data_dir}" if data_dir is not None else ""
    sess = f" --session {session}" if session != "default" else ""
    return (
        f"Agents attach to {socket_path}\n"
        f"  agentshell agent add NAME --capabilities run,read{where}{sess}   (prints a token)\n"
        f"  AGENTSHELL_TOKEN=... agentshell run --socket {socket_path} --agent NAME -- make test"
    )


def reopen_hint(session: str, data_dir: Path | None, socket_path: Path | None) -> str:
    """What to print after the app exits: the command that reopens this session.

    ``data_dir`` and ``socket_path`` are the ``--dir`` and ``--socket`` given (``None``
    when not given): the command repeats them, else it would open another session.
    """
    args = ["agentshell", "tui", "--session", session]
    if data_dir is not None:
        args += ["--dir", str(data_dir)]
    if socket_path is not None:
        args += ["--socket", str(socket_path)]
    return f"Session {session!r} saved; `{shlex.join(args)}` reopens it."


async def _start_demo(coordinator: Any, sock: str, project: Path) -> None:
    demo_mod = importlib.import_module("agentshell.client.demo")
    known = coordinator.state["agents"]
    for action, kind, pattern in demo_mod.DEMO_RULES:
        if not any(r.pattern == pattern for r in coordinator.state["rules"].values()):
            await coordinator.add_rule(action, kind, pattern)
    tokens: dict[str, str] = {}
    for name, caps in demo_mod.DEMO_AGENTS:
        if name in known:
            await coordinator.remove_agent(name, reason="demo restart")
        tokens[name] = await coordinator.add_agent(name, list(caps))
    await demo_mod.run_demo(sock, tokens, project)


async def run_tui(
    *,
    session: str,
    data_dir: Path,
    socket_path: Path | None,
    project_dir: Path | None = None,
    demo: bool = False,
    headless_pilot: Callable[[AgentShellApp], Awaitable[None]] | None = None,
    size: tuple[int, int] = (160, 48),
    on_ready: Callable[[], None] | None = None,
    agents: Sequence[AgentSpec] = (),
) -> str | None:
    """Open (or create) the session, serve it, and run the app until the operator quits.

    ``headless_pilot`` runs the app under ``App.run_test`` instead (screenshots).
    ``on_ready`` is called once the session is open and served, before the app
    takes the screen (the CLI prints how agents attach then, not before a refusal).
    ``agents``: started in new panes, supervised, once the app shows (``--agent``).
    Returns why the event log stopped recording, if it did (None: all recorded).
    """
    from agentshell.coordinator.coordinator import Coordinator
    from agentshell.coordinator.starting import start_saying_why
    from agentshell.server.paths import check_socket_path, default_socket_path, socket_record_path
    from agentshell.server.server import Server
    from agentshell.store.session import SessionManager

    scratch: tempfile.TemporaryDirectory[str] | None = None
    if demo and project_dir is None:
        scratch = tempfile.TemporaryDirectory(prefix="agentshell-demo-")
        project_dir = Path(scratch.name) / "project"
        project_dir.mkdir()
    project = project_dir or Path.cwd()
    sock = socket_path or default_socket_path(session)
    manager = SessionManager(session, persist_dir=data_dir)
    for note in manager.open_notes():  # stays on the main screen, beside the attach help
        print(f"agentshell: {note}", file=sys.stderr, flush=True)
    coordinator = Coordinator(manager, project_dir=str(project))
    server = Server(coordinator, sock)
    demo_task: Any = None
    wrote_record = False
    try:
        check_socket_path(sock)  # refuse a bad socket before any shell starts or logs
        # on a full disk the start waits for room: say so before the app takes the screen
        await start_saying_why(
            coordinator,
            lambda why: print(f"agentshell: {why} (waiting)", file=sys.stderr, flush=True),
        )
        await server.start()
        # `agentshell agent add / run / approvals` find the socket through this record
        socket_record_path(manager.session_dir).write_text(str(sock) + "\n")
        wrote_record = True
        banner = f"session {session} · socket {sock}"
        app = AgentShellApp(CoordinatorBackend(coordinator, socket_path=str(sock)), banner=banner)
        app.attach_text = attach_help(str(sock), session, data_dir)
        app.start_agents = list(agents)
        if demo:
            demo_task = asyncio.ensure_future(_start_demo(coordinator, str(sock), project))
        if on_ready is not None:
            on_ready()
        if headless_pilot is not None:
            async with app.run_test(size=size) as pilot:
                await headless_pilot(app)
                del pilot
        else:
            await app.run_async()
    finally:
        if demo_task is not None:
            demo_task.cancel()
            with contextlib.suppress(BaseException):
                await demo_task
        with contextlib.suppress(Exception):
            await server.close()
        with contextlib.suppress(Exception):
            await coordinator.stop()
        if wrote_record:
            with contextlib.suppress(OSError):
                socket_record_path(manager.session_dir).unlink()
        with contextlib.suppress(Exception):
            manager.close()
        if scratch is not None:
            scratch.cleanup()
    return manager.failure_note()
