"""Outcomes: what each proposed command ended as, and the agents waiting to hear it.

An approval ends as a :class:`RunResult` (it ran) or a :class:`CommandError` (rejected,
expired, failed). The ending is handed to its waiters only once the event that says so
is durable; between the submit and that moment the approval is *closing*, so a
``wait`` that arrives then still finds it (the state has already folded it away).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable

from agentshell.core import events as ev
from agentshell.core.errors import AgentShellError

from .results import (
    CommandExpired,
    CommandFailed,
    CommandInterrupted,
    CommandRejected,
    RunResult,
)

#: Endings remembered for late waiters (and for "no longer pending: why").
FINISHED_KEEP = 4096

Outcome = RunResult | AgentShellError


class Outcomes:
    """Waiters per approval and the recent endings (see the module doc)."""

    def __init__(self) -> None:
        self._waiters: dict[str, list[asyncio.Future[RunResult]]] = {}
        self._finished: OrderedDict[str, Outcome] = OrderedDict()
        self._closing: set[str] = set()

    def submitted(self, e: ev.Event) -> None:
        """Called as ``e`` is submitted: an event that ends an approval makes it closing."""
        if (isinstance(e, ev.ApprovalDecided) and e.decision in ("rejected", "expired")) or (
            isinstance(e, ev.ApprovalExecuted) and e.status in ("executed", "failed")
        ):
            self._closing.add(e.approval_id)

    def durable(self, e: ev.Event) -> None:
        """Called once ``e`` is durable: settle the waiters of an approval it ended."""
        if isinstance(e, ev.ApprovalDecided):
            if e.decision == "rejected":
                self.settle(e.approval_id, CommandRejected(e.approval_id, e.reason, e.by))
            elif e.decision == "expired":
                self.settle(e.approval_id, CommandExpired(e.approval_id))
        elif isinstance(e, ev.ApprovalExecuted) and e.status == "failed":
            self.settle(e.approval_id, CommandFailed(e.approval_id, e.error or "failed"))

    def settle(self, approval_id: str, outcome: Outcome) -> None:
        self._closing.discard(approval_id)
        self._finished[approval_id] = outcome
        while len(self._finished) > FINISHED_KEEP:
            self._finished.popitem(last=False)
        for f in self._waiters.pop(approval_id, []):
            if f.done():
                continue
            if isinstance(outcome, RunResult):
                f.set_result(outcome)
            else:
                f.set_exception(outcome)

    def finished(self, approval_id: str) -> Outcome | None:
        """How ``approval_id`` ended, if it ended recently."""
        return self._finished.get(approval_id)

    async def wait(self, approval_id: str, lookup: Callable[[str], object]) -> RunResult:
        """The RunResult of ``approval_id`` once it ends, or raise how it ended.

        ``lookup`` raises NotFoundError for an approval that is not pending (called only
        when it has neither ended nor is closing)."""
        done = self._finished.get(approval_id)
        if done is not None:
            if isinstance(done, RunResult):
                return done
            raise done
        if approval_id not in self._closing:
            lookup(approval_id)
        fut: asyncio.Future[RunResult] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(approval_id, []).append(fut)
        return await fut

    def interrupt_all(self, message: str) -> None:
        """Every waiter raises CommandInterrupted(``message``) (the coordinator stops)."""
        for futs in self._waiters.values():
            for f in futs:
                if not f.done():
                    f.set_exception(CommandInterrupted("", message))
        self._waiters.clear()
