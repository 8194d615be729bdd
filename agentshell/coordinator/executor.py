"""The executor: approved commands run one at a time per terminal, in approval order,
only at the prompt; the result goes to the log (``command_executed``) and the waiter."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from agentshell.core import events as ev

from .background import cancelled
from .results import AGENT_REMOVED, RunResult

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager
    from agentshell.terminal import Terminal

    from .outcomes import Outcomes
    from .terminals import TerminalSet
    from .writer import EventWriter


class Executor:
    """One worker per terminal draining its queue of approved commands."""

    def __init__(
        self,
        session: SessionManager,
        writer: EventWriter,
        terminals: TerminalSet,
        outcomes: Outcomes,
        *,
        run_timeout: float | None,
    ) -> None:
        self.session = session
        self._writer = writer
        self._terminals = terminals
        self._outcomes = outcomes
        self.run_timeout = run_timeout
        self._queues: dict[str, asyncio.Queue[str]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    def attach(self, terminal: str) -> None:
        """Start the worker of a newly opened terminal."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._queues[terminal] = queue
        self._workers[terminal] = asyncio.ensure_future(self._work(terminal, queue))

    def enqueue(self, terminal: str, approval_id: str) -> None:
        """Run ``approval_id`` (just approved) in ``terminal`` after those before it."""
        self._queues[terminal].put_nowait(approval_id)

    async def stop(self) -> None:
        """Cancel every worker (a running command is left to its terminal) and wait."""
        self._stopping = True
        for w in self._workers.values():
            w.cancel()
        for w in list(self._workers.values()):
            await cancelled(w)

    async def _work(self, terminal: str, queue: asyncio.Queue[str]) -> None:
        while not self._stopping:
            approval_id = await queue.get()
            try:
                await self._execute(terminal, approval_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let one command stop the terminal's queue
                info = self.session.state["pending_approvals"].get(approval_id)
                if info is not None and info.status == "executing":
                    with contextlib.suppress(Exception):
                        await self._writer.record(
                            ev.ApprovalExecuted(
                                approval_id=approval_id,
                                status="failed",
                                error=f"internal error: {exc}",
                            )
                        )

    async def _wait_prompt(self, term: Terminal) -> None:
        delay = 0.005
        while not term.at_prompt and not term.closed:  # closed: run() says so
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def _execute(self, name: str, approval_id: str) -> None:
        from agentshell.terminal import CommandTimeout, TerminalClosedError

        record = self._writer.record
        info = self.session.state["pending_approvals"].get(approval_id)
        if info is None or info.status != "approved":
            return  # decided otherwise (interrupted, rejected) while it waited
        term = self._terminals.get(name)
        if term.closed and not self._stopping:
            await self._terminals.restart_shell(name)  # its shell exited since: a new one runs it
        await self._wait_prompt(term)
        info = self.session.state["pending_approvals"].get(approval_id)
        if info is None or info.status != "approved":
            return
        if info.agent_id not in (ev.HUMAN, ev.SYSTEM) and (
            info.agent_id not in self.session.state["agents"]
        ):
            await record(
                ev.ApprovalExecuted(
                    agent_id=ev.SYSTEM,
                    approval_id=approval_id,
                    status="failed",
                    error=AGENT_REMOVED,
                )
            )
            return
        command = info.approved_command if info.approved_command is not None else info.command
        cwd = str(term.cwd or "")
        await record(
            ev.ApprovalExecuted(agent_id=ev.SYSTEM, approval_id=approval_id, status="executing")
        )
        try:
            res = await term.run(command, timeout=self.run_timeout)
        except (CommandTimeout, TerminalClosedError) as exc:
            error = str(exc) or type(exc).__name__
            if isinstance(exc, TerminalClosedError):
                status = "" if exc.exit_status is None else f" (exit status {exc.exit_status})"
                error = (
                    f"the shell of terminal {name!r} exited{status} while running it;"
                    " a new shell starts for the next command"
                )
            await record(ev.ApprovalExecuted(approval_id=approval_id, status="failed", error=error))
            if isinstance(exc, TerminalClosedError) and not self._stopping:
                with contextlib.suppress(Exception):
                    await self._terminals.restart_shell(name)
            return
        duration = float(res.duration)
        await record(
            ev.CommandExecuted(
                agent_id=info.agent_id,
                command=command,
                exit_code=res.exit_code,
                output=res.output,
                terminal=name,
                cwd=cwd,
                duration=duration,
                approval_id=approval_id,
            )
        )
        new_cwd = str(term.cwd or "")
        tinfo = self.session.state["terminals"].get(name)
        if new_cwd and tinfo is not None and new_cwd != tinfo.cwd:
            await record(ev.DirectoryChanged(path=new_cwd, terminal=name))
        result = RunResult(
            approval_id=approval_id,
            command=command,
            exit_code=res.exit_code,
            output=res.output,
            duration=duration,
            terminal=name,
        )
        await record(
            ev.ApprovalExecuted(approval_id=approval_id, status="executed", exit_code=res.exit_code)
        )
        self._outcomes.settle(approval_id, result)
