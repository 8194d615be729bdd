"""The coordinator: the single writer of a session (see :mod:`agentshell.coordinator.api`).

The class is assembled from one module per concern, each a mixin on the one before
(so every part sees the parts it builds on, and mypy checks the calls):

``writer`` (shared state, durable append, broadcast; ``subscriptions``) <- ``agents`` <-
``clocks`` <- ``rules`` <- ``executor`` <- ``terminals`` <- ``approvals`` <- ``docs`` (OT)
<- ``edits`` (conflicts) <- ``tasks`` <- :class:`Coordinator` (lifecycle: start, stop).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from agentshell.core import events as ev
from agentshell.core.approvals import after_crash

from .agents import EDIT, READ, RUN, TYPE
from .results import CommandInterrupted
from .rules import RULE_ACTIONS, RULE_KINDS, RULE_SCOPES
from .subscriptions import Subscription
from .tasks import TASK_STATUSES, TasksMixin

__all__ = [
    "EDIT",
    "READ",
    "RULE_ACTIONS",
    "RULE_KINDS",
    "RULE_SCOPES",
    "RUN",
    "TASK_STATUSES",
    "TYPE",
    "Coordinator",
    "Subscription",
]


class Coordinator(TasksMixin):
    """Owns one session: its log, terminals, approval queue, rules, agents and tasks."""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Recover what the log says and open the terminals. Nothing is executed again."""
        if self._started:
            return
        self._loop = asyncio.get_running_loop()
        self._started = True
        state = self.session.state
        # approvals cut short by a crash come back as "interrupted": a new decision is needed
        for info in list(state["pending_approvals"].values()):
            if after_crash(info.status) == "interrupted" and info.status != "interrupted":
                await self._emit(
                    ev.ApprovalDecided(
                        approval_id=info.approval_id,
                        decision="interrupted",
                        by=ev.SYSTEM,
                        reason=f"the coordinator restarted while the command was {info.status}",
                    )
                )
            elif info.status == "queued":
                self._arm_expiry(info)
        # a log written before removal ended an agent's commands may still hold some
        known = state["agents"]
        gone = {a.agent_id for a in self.approvals()} - set(known) - {ev.HUMAN, ev.SYSTEM}
        for agent_id in sorted(gone):
            await self._end_approvals_of_removed(agent_id)
        for agent in list(state["agents"].values()):
            if agent.status in ("connected", "working", "waiting"):
                await self._emit(
                    ev.AgentStatusChanged(agent_id=agent.agent_id, status="disconnected")
                )
        # every terminal comes back, a shell that exited included (its pane offered a
        # new shell on the next key; after a restart it simply has one)
        terminals = list(state["terminals"].values())
        if not terminals:
            await self.open_terminal("main", self.project_dir)
        else:
            for t in terminals:
                await self.open_terminal(
                    t.name, t.cwd or self.project_dir, columns=t.columns, lines=t.lines
                )

    async def stop(self) -> None:
        """Stop executors and terminals, close subscriptions. The session stays open."""
        self._stopping = True
        for h in self._timers.values():
            h.cancel()
        self._timers.clear()
        for slot in self._slots.values():
            if slot.worker is not None:
                slot.worker.cancel()
        for slot in list(self._slots.values()):
            if slot.worker is not None:
                await _cancelled(slot.worker)
            with contextlib.suppress(Exception):
                await slot.term.close()
        if self._snapshotting is not None:  # a thread writing one: let it finish
            with contextlib.suppress(Exception):
                await self._snapshotting
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            await _cancelled(t)
        for sub in list(self._subscribers):
            sub.close()
        for futs in self._waiters.values():
            for f in futs:
                if not f.done():
                    f.set_exception(CommandInterrupted("", "the coordinator stopped"))
        self._waiters.clear()
        if self.session.events_since_snapshot and self.session.failure is None:
            # the next open then reads this snapshot, not the log since the last one
            await asyncio.to_thread(self._write_snapshot)


async def _cancelled(task: asyncio.Task[Any]) -> None:
    """Wait until ``task`` is done, cancelling it again while it is not.

    One ``cancel()`` is not always enough: Python 3.11's ``asyncio.wait_for`` swallows
    a cancellation that arrives as its inner future completes (the executor awaits a
    command's end that way), and the task then waits on its queue for ever.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.5)
    if not task.cancelled():
        with contextlib.suppress(Exception):
            task.result()
