"""The approval gate: the queue of proposed commands and the decisions on them.

It queues a checked proposal, applies decisions (the human's, a rule's, an expiry's,
a restart's) through the approval state machine, and hands each approved command to
``on_approved`` (the executor). It knows nothing of rules, documents or terminals.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from agentshell.core import events as ev
from agentshell.core.approvals import AWAITING_DECISION, after_crash, transition
from agentshell.core.errors import AgentShellError
from agentshell.core.risk import risk_hints
from agentshell.core.state import ApprovalInfo

from .results import (
    AGENT_REMOVED,
    CommandError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    RunResult,
)

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager

    from .background import Background
    from .outcomes import Outcomes
    from .writer import EventWriter

#: An approval id an agent may choose (see ``queue``).
APPROVAL_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")

_ACTIONS = {
    "approved": "approve",
    "rejected": "reject",
    "expired": "expire",
    "interrupted": "interrupt",
}


def check_command(command: object, what: str = "command") -> str:
    """``command`` when it is one non-blank line, else InvalidRequestError."""
    if not isinstance(command, str) or not command.strip():
        raise InvalidRequestError(f"{what} must be a non-empty string")
    if "\n" in command.strip() or "\r" in command:
        raise InvalidRequestError(f"{what} must be a single line")
    return command


class ApprovalGate:
    """The approval queue (see the module doc)."""

    def __init__(
        self,
        session: SessionManager,
        writer: EventWriter,
        outcomes: Outcomes,
        background: Background,
        *,
        project_dir: str,
        on_approved: Callable[[str, str], None],
    ) -> None:
        self.session = session
        self._writer = writer
        self._outcomes = outcomes
        self._background = background
        self.project_dir = project_dir
        self._on_approved = on_approved
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def approvals(self) -> list[ApprovalInfo]:
        """Pending approvals (queued, approved, executing, interrupted) in queue order."""
        return sorted(self.session.state["pending_approvals"].values(), key=lambda a: a.seq)

    def approval(self, approval_id: str) -> ApprovalInfo:
        a: ApprovalInfo | None = self.session.state["pending_approvals"].get(approval_id)
        if a is None:
            done = self._outcomes.finished(approval_id)
            if isinstance(done, CommandError):
                raise NotFoundError(f"approval {approval_id!r} is no longer pending: {done}")
            raise NotFoundError(f"no pending approval {approval_id!r}")
        return a

    def submit_queued(
        self,
        agent_id: str,
        command: str,
        terminal: str,
        cwd: str,
        timeout: float | None,
        *,
        external: bool = False,
        editable: bool = True,
        approval_id: str | None = None,
    ) -> tuple[str, Coroutine[Any, Any, ev.Event]]:
        """Submit a checked proposal as queued (with its risk hints): its approval id
        and what to await for the event to be durable (it must be awaited). The state
        holds the item at once, so a rule can decide it in the same fsync round.

        ``external``: the agent runs it itself once approved (nothing runs here);
        ``editable`` False: it may be approved or rejected only, not changed.
        ``approval_id``: the id the agent chose (so that it can ask for the result
        even when the reply to its proposal was lost); None: a new one."""
        if timeout is not None and (timeout <= 0 or timeout != timeout):
            raise InvalidRequestError("timeout must be a positive number of seconds")
        if approval_id is None:
            approval_id = uuid.uuid4().hex[:12]
        elif not APPROVAL_ID.fullmatch(approval_id):
            raise InvalidRequestError(
                "approval_id must be 8-64 letters, digits, '_' or '-' (a random one)"
            )
        elif (
            approval_id in self.session.state["pending_approvals"]
            or self._outcomes.finished(approval_id) is not None
        ):
            raise InvalidStateError(f"approval id {approval_id!r} is taken")
        pending = self._writer.submit(
            ev.ApprovalQueued(
                agent_id=agent_id,
                approval_id=approval_id,
                command=command,
                terminal=terminal,
                cwd=cwd,
                expires_at=time.time() + timeout if timeout is not None else None,
                risk=list(risk_hints(command, self.project_dir)),
                external=external,
                editable=editable,
            )
        )
        return approval_id, pending

    async def queue(
        self,
        agent_id: str,
        command: str,
        terminal: str,
        cwd: str,
        timeout: float | None,
        **options: Any,
    ) -> str:
        """:meth:`submit_queued`, returning once the queued event is durable."""
        approval_id, pending = self.submit_queued(
            agent_id, command, terminal, cwd, timeout, **options
        )
        await pending
        return approval_id

    async def decide(
        self,
        approval_id: str,
        decision: str,
        *,
        by: str,
        reason: str = "",
        command: str | None = None,
        revision: int | None = None,
        rule_id: str = "",
    ) -> None:
        """Apply ``decision`` (approved / rejected / expired / interrupted) if the
        approval's state allows it; an approved command goes to ``on_approved``."""
        info = self.approval(approval_id)
        if decision == "approved" and by == ev.SYSTEM and info.withdrawn:
            raise InvalidStateError(
                f"approval {approval_id}: nobody waits for its outcome ({info.withdrawn});"
                " no rule approves it, only the human"
            )
        try:
            transition(info.status, _ACTIONS[decision])
        except AgentShellError as exc:
            raise InvalidStateError(f"approval {approval_id} is {info.status}: {exc}") from None
        timer = self._timers.pop(approval_id, None)
        if timer is not None:
            timer.cancel()
        decided = ev.ApprovalDecided(
            agent_id=ev.SYSTEM if by == ev.SYSTEM else ev.HUMAN,
            approval_id=approval_id,
            decision=decision,
            by=by,
            reason=reason,
            command=command,
            revision=revision,
            rule_id=rule_id,
        )
        if decision == "approved" and info.external:
            await self._hand_over(info, command, decided)
            return
        await self._writer.record(decided)
        if decision == "approved":
            self._on_approved(info.terminal, approval_id)

    async def _hand_over(
        self, info: ApprovalInfo, command: str | None, decided: ev.ApprovalDecided
    ) -> None:
        """An approved external command is the agent's to run: it ends here as
        executed with no exit code (nothing runs in the terminal), and a waiter
        learns what was approved. The decision and its end share one fsync round."""
        aid = info.approval_id
        approved = command if command is not None else info.command
        await self._writer.record_all(
            [
                decided,
                ev.ApprovalExecuted(agent_id=ev.SYSTEM, approval_id=aid, status="executing"),
                ev.ApprovalExecuted(agent_id=ev.SYSTEM, approval_id=aid, status="executed"),
            ]
        )
        self._outcomes.settle(
            aid,
            RunResult(
                approval_id=aid,
                command=approved,
                exit_code=None,
                output="",
                duration=0.0,
                terminal=info.terminal,
            ),
        )

    async def approve(
        self,
        approval_id: str,
        by: str = ev.HUMAN,
        command: str | None = None,
        revision: int | None = None,
    ) -> None:
        """Approve a queued (or interrupted) command; ``command`` replaces its text."""
        if command is not None:
            if not command.strip():
                raise InvalidRequestError("the approved command is empty")
            # as for a proposal: one command line, whose exit code is the command's
            check_command(command, "the approved command")
        await self.decide(approval_id, "approved", by=by, command=command, revision=revision)

    async def reject(self, approval_id: str, reason: str = "", by: str = ev.HUMAN) -> None:
        """Reject a pending command; ``reason`` is sent back to the agent."""
        await self.decide(approval_id, "rejected", by=by, reason=reason)

    def arm_expiry(self, approval_id: str) -> None:
        """Expire a queued command at its ``expires_at`` (if it has one). One the human
        decided meanwhile (between its queued event and this call) needs none."""
        info = self.session.state["pending_approvals"].get(approval_id)
        loop = self._background.loop
        if info is None or info.status != "queued" or info.expires_at is None or loop is None:
            return
        delay = max(0.0, info.expires_at - time.time())
        self._timers[approval_id] = loop.call_later(
            delay, lambda: self._background.spawn(self._expire(approval_id))
        )

    async def _expire(self, approval_id: str) -> None:
        self._timers.pop(approval_id, None)
        info = self.session.state["pending_approvals"].get(approval_id)
        if info is not None and info.status == "queued":
            await self.decide(
                approval_id, "expired", by=ev.SYSTEM, reason="no decision before the timeout"
            )

    async def recover(self) -> None:
        """After a restart: approvals cut short by a crash (approved, executing) come
        back as interrupted and need a new decision; queued ones wait on, their expiry
        armed again. Nothing is executed again."""
        for info in list(self.session.state["pending_approvals"].values()):
            if after_crash(info.status) == "interrupted" and info.status != "interrupted":
                await self._writer.record(
                    ev.ApprovalDecided(
                        approval_id=info.approval_id,
                        decision="interrupted",
                        by=ev.SYSTEM,
                        reason=f"the coordinator restarted while the command was {info.status}",
                    )
                )
            elif info.status == "queued":
                self.arm_expiry(info.approval_id)

    async def end_approvals_of(self, agent_id: str) -> None:
        """End every command of a removed agent still waiting to run: queued (or
        interrupted) ones are rejected, approved ones that have not started fail, both
        with the reason "agent removed"; one already executing runs to its end."""
        ids = [a.approval_id for a in self.approvals() if a.agent_id == agent_id]
        for aid in ids:
            # re-read each time: the human or the executor may have moved it meanwhile
            info = self.session.state["pending_approvals"].get(aid)
            if info is None:
                continue
            if info.status in AWAITING_DECISION:
                await self.decide(aid, "rejected", by=ev.SYSTEM, reason=AGENT_REMOVED)
            elif info.status == "approved":
                await self._writer.record(
                    ev.ApprovalExecuted(
                        agent_id=ev.SYSTEM, approval_id=aid, status="failed", error=AGENT_REMOVED
                    )
                )

    async def withdraw(self, approval_id: str, reason: str, *, by: str) -> bool:
        """Mark a command waiting for a decision as one nobody waits for (its agent
        gave up, or its connection went and did not come back); False when it is
        already marked, or decided (an approved command runs; its agent just does
        not hear of it)."""
        info = self.approval(approval_id)
        if info.withdrawn or info.status not in AWAITING_DECISION:
            return False
        await self._writer.record(
            ev.ApprovalWithdrawn(
                agent_id=by if by != ev.HUMAN else ev.SYSTEM,
                approval_id=approval_id,
                reason=reason,
                by=by,
            )
        )
        return True

    def stop(self) -> None:
        """Cancel the expiry timers (queued commands stay queued in the log)."""
        for h in self._timers.values():
            h.cancel()
        self._timers.clear()
