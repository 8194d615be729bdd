"""The executor: approved commands run one at a time per terminal, in approval order,
only at the prompt; the result goes to the log (``command_executed``) and the waiter."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from typing import TYPE_CHECKING

from agentshell.core import events as ev

from .results import AGENT_REMOVED, RunResult
from .rules import RulesMixin

if TYPE_CHECKING:
    from agentshell.terminal import Terminal


@dataclasses.dataclass
class _Slot:
    name: str
    term: Terminal
    queue: asyncio.Queue[str]
    worker: asyncio.Task[None] | None = None


class ExecutorMixin(RulesMixin):
    """One worker per terminal draining its queue of approved commands."""

    async def _executor(self, slot: _Slot) -> None:
        while not self._stopping:
            approval_id = await slot.queue.get()
            try:
                await self._execute(slot, approval_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let one command stop the terminal's queue
                info = self.session.state["pending_approvals"].get(approval_id)
                if info is not None and info.status == "executing":
                    with contextlib.suppress(Exception):
                        await self._emit(
                            ev.ApprovalExecuted(
                                approval_id=approval_id,
                                status="failed",
                                error=f"internal error: {exc}",
                            )
                        )

    async def _restart_shell(self, slot: _Slot) -> None:
        """Start a new shell in a terminal whose shell exited, logged as
        terminal_opened (where a replay resets the screen, as the live one was)."""
        term = slot.term
        await term.restart()
        await self._emit(
            ev.TerminalOpened(
                terminal=slot.name,
                cwd=str(term.cwd or ""),
                columns=term.columns,
                lines=term.lines,
                shell=self.shell or os.environ.get("SHELL", ""),
            )
        )

    async def _wait_prompt(self, term: Terminal) -> None:
        delay = 0.005
        while not term.at_prompt and not term.closed:  # closed: run() says so
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def _execute(self, slot: _Slot, approval_id: str) -> None:
        from agentshell.terminal import CommandTimeout, TerminalClosedError

        info = self.session.state["pending_approvals"].get(approval_id)
        if info is None or info.status != "approved":
            return  # decided otherwise (interrupted, rejected) while it waited
        if slot.term.closed and not self._stopping:
            await self._restart_shell(slot)  # its shell exited since: a new one runs it
        await self._wait_prompt(slot.term)
        info = self.session.state["pending_approvals"].get(approval_id)
        if info is None or info.status != "approved":
            return
        if info.agent_id not in (ev.HUMAN, ev.SYSTEM) and (
            info.agent_id not in self.session.state["agents"]
        ):
            await self._emit(
                ev.ApprovalExecuted(
                    agent_id=ev.SYSTEM,
                    approval_id=approval_id,
                    status="failed",
                    error=AGENT_REMOVED,
                )
            )
            return
        command = info.approved_command if info.approved_command is not None else info.command
        cwd = str(slot.term.cwd or "")
        await self._emit(
            ev.ApprovalExecuted(agent_id=ev.SYSTEM, approval_id=approval_id, status="executing")
        )
        try:
            res = await slot.term.run(command, timeout=self.run_timeout)
        except (CommandTimeout, TerminalClosedError) as exc:
            error = str(exc) or type(exc).__name__
            if isinstance(exc, TerminalClosedError):
                status = "" if exc.exit_status is None else f" (exit status {exc.exit_status})"
                error = (
                    f"the shell of terminal {slot.name!r} exited{status} while running it;"
                    " a new shell starts for the next command"
                )
            await self._emit(
                ev.ApprovalExecuted(approval_id=approval_id, status="failed", error=error)
            )
            if isinstance(exc, TerminalClosedError) and not self._stopping:
                with contextlib.suppress(Exception):
                    await self._restart_shell(slot)
            return
        duration = float(res.duration)
        await self._emit(
            ev.CommandExecuted(
                agent_id=info.agent_id,
                command=command,
                exit_code=res.exit_code,
                output=res.output,
                terminal=slot.name,
                cwd=cwd,
                duration=duration,
                approval_id=approval_id,
            )
        )
        new_cwd = str(slot.term.cwd or "")
        tinfo = self.session.state["terminals"].get(slot.name)
        if new_cwd and tinfo is not None and new_cwd != tinfo.cwd:
            await self._emit(ev.DirectoryChanged(path=new_cwd, terminal=slot.name))
        result = RunResult(
            approval_id=approval_id,
            command=command,
            exit_code=res.exit_code,
            output=res.output,
            duration=duration,
            terminal=slot.name,
        )
        await self._emit(
            ev.ApprovalExecuted(approval_id=approval_id, status="executed", exit_code=res.exit_code)
        )
        self._settle(approval_id, result)
