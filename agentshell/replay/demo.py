"""The built-in demo, headless: real coordinator, socket server and agents, with a
scripted operator making the human's decisions, run to the end (``agentshell demo``).

The operator approves each queued command after a short "reading" pause, rejects
the risky ``rm -rf`` one, and resolves conflicts keeping both sides. The run ends
when nothing is pending, no conflict is open and the session has been quiet for a
moment; the session stays on disk for ``agentshell replay``.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentshell.core import events as ev

#: (columns, lines) of the demo's terminals: small enough for a readable cast.
DEMO_SIZE = (100, 30)


@dataclass
class DemoResult:
    session_dir: Path
    decisions: list[tuple[str, str, str]] = field(default_factory=list)  # (id, decision, cmd)
    events: int = 0  # the events in the session's log once the demo closed it
    settled: bool = False


def operator_decision(command: str, risk: tuple[str, ...]) -> tuple[str, str]:
    """What the scripted operator does with a queued command: (decision, reason)."""
    if "rm -rf" in command:
        return "rejected", "no deleting build outputs in the demo"
    return "approved", ""


async def run_headless_demo(
    data_dir: Path,
    session: str = "demo",
    *,
    timeout: float = 120.0,
    quiet: float = 2.0,
    think: float = 0.8,
    on_event: Callable[[Any, ev.Event], Any] | None = None,
    on_end: Callable[[Any], Awaitable[Any]] | None = None,
) -> DemoResult:
    """Run the demo scenario to the end; ``on_event(coordinator, event)`` sees every
    event as it is broadcast and ``await on_end(coordinator)`` runs once it settled,
    before anything stops (tests record the live screens with them)."""
    from agentshell.client import demo as demo_mod
    from agentshell.coordinator.coordinator import Coordinator
    from agentshell.server.server import Server
    from agentshell.store.session import SessionManager, read_events

    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="agentshell-demo-") as scratch:
        project = Path(scratch) / "project"
        project.mkdir()
        sock = Path(scratch) / "demo.sock"
        manager = SessionManager(session, persist_dir=data_dir)
        co = Coordinator(
            manager, project_dir=str(project), columns=DEMO_SIZE[0], lines=DEMO_SIZE[1]
        )
        server = Server(co, str(sock))
        result = DemoResult(manager.session_dir)
        last_activity = [loop.time()]
        tasks: set[asyncio.Task[Any]] = set()
        sub = co.subscribe()
        try:
            await co.start()
            await server.start()
            for action, kind, pattern in demo_mod.DEMO_RULES:
                await co.add_rule(action, kind, pattern)
            tokens = {
                name: await co.add_agent(name, list(caps)) for name, caps in demo_mod.DEMO_AGENTS
            }

            async def decide(e: ev.ApprovalQueued) -> None:
                await asyncio.sleep(think)  # the operator reads the request
                info = co.state["pending_approvals"].get(e.approval_id)
                if info is None or info.status != "queued":
                    return
                doc = co.state["docs"].get(ev.approval_doc(e.approval_id))
                command = doc.text if doc is not None and doc.text else info.command
                decision, reason = operator_decision(command, tuple(info.risk))
                with contextlib.suppress(Exception):
                    if decision == "approved":
                        await co.approve(e.approval_id)
                    else:
                        await co.reject(e.approval_id, reason)
                    result.decisions.append((e.approval_id, decision, command))

            async def resolve(e: ev.ConflictDetected) -> None:
                await asyncio.sleep(think)
                with contextlib.suppress(Exception):
                    await co.resolve_conflict(e.conflict_id, "keep_both")

            async def follow() -> None:
                async for e in sub:
                    if on_event is not None:
                        on_event(co, e)
                    if e.event_type != "terminal_output":
                        last_activity[0] = loop.time()
                    job: Any = None
                    if isinstance(e, ev.ApprovalQueued):
                        job = decide(e)
                    elif isinstance(e, ev.ConflictDetected):
                        job = resolve(e)
                    if job is not None:
                        task = asyncio.ensure_future(job)
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)

            follower = asyncio.ensure_future(follow())
            agents = asyncio.ensure_future(demo_mod.run_demo(str(sock), tokens, project))

            def settled() -> bool:
                st = co.state
                return (
                    bool(result.decisions)
                    and not st["pending_approvals"]
                    and not st["active_conflicts"]
                    and bool(st["tasks"])
                    and loop.time() - last_activity[0] > quiet
                )

            end = loop.time() + timeout
            while not settled() and loop.time() < end:
                await asyncio.sleep(0.1)
            result.settled = settled()
            if on_end is not None:
                await on_end(co)
            agents.cancel()
            with contextlib.suppress(BaseException):
                await agents
            follower.cancel()
            with contextlib.suppress(BaseException):
                await follower
            for task in list(tasks):
                task.cancel()
        finally:
            sub.close()
            with contextlib.suppress(Exception):
                await server.close()
            with contextlib.suppress(Exception):
                await co.stop()
            with contextlib.suppress(Exception):
                manager.persist_snapshot()
            manager.close()
        # what the log holds now it is closed: the follower stopped before the
        # coordinator's last events (terminals closing, the stop itself)
        result.events = sum(1 for _ in read_events(manager.log_path))
    return result
