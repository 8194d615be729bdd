"""Approvals: proposing commands, rules deciding first, the human's decisions, expiry
and waiting for the result."""

from __future__ import annotations

import asyncio
import time
import uuid

from agentshell.core import events as ev
from agentshell.core.approvals import AWAITING_DECISION, transition
from agentshell.core.errors import AgentShellError
from agentshell.core.risk import risk_hints
from agentshell.core.rules import decide, suggest_rule
from agentshell.core.state import (
    ApprovalInfo,
)

from .agents import RUN
from .results import (
    AGENT_REMOVED,
    CommandError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    RunResult,
)
from .terminals import TerminalsMixin


class ApprovalsMixin(TerminalsMixin):
    """The approval queue."""

    def approvals(self) -> list[ApprovalInfo]:
        """Pending approvals (queued, approved, executing, interrupted) in queue order."""
        return sorted(self.session.state["pending_approvals"].values(), key=lambda a: a.seq)

    def approval(self, approval_id: str) -> ApprovalInfo:
        a: ApprovalInfo | None = self.session.state["pending_approvals"].get(approval_id)
        if a is None:
            done = self._finished.get(approval_id)
            if isinstance(done, CommandError):
                raise NotFoundError(f"approval {approval_id!r} is no longer pending: {done}")
            raise NotFoundError(f"no pending approval {approval_id!r}")
        return a

    async def remove_agent(self, agent_id: str, reason: str = "") -> None:
        """Remove the agent, then end every command of its still waiting to run.

        Queued (or interrupted) ones are rejected and approved ones that have not
        started fail, both with the reason "agent removed"; a command already
        executing runs to its end. A removed agent can propose nothing more.
        """
        await super().remove_agent(agent_id, reason)
        await self._end_approvals_of_removed(agent_id)

    async def _end_approvals_of_removed(self, agent_id: str) -> None:
        ids = [a.approval_id for a in self.approvals() if a.agent_id == agent_id]
        for aid in ids:
            # re-read each time: the human or the executor may have moved it meanwhile
            info = self.session.state["pending_approvals"].get(aid)
            if info is None:
                continue
            if info.status in AWAITING_DECISION:
                await self._decide(aid, "rejected", by=ev.SYSTEM, reason=AGENT_REMOVED)
            elif info.status == "approved":
                await self._emit(
                    ev.ApprovalExecuted(
                        agent_id=ev.SYSTEM, approval_id=aid, status="failed", error=AGENT_REMOVED
                    )
                )

    async def propose(
        self,
        agent_id: str,
        command: str,
        terminal: str = "main",
        timeout: float | None = None,
    ) -> str:
        """Queue ``command`` from ``agent_id`` for ``terminal``; returns the approval id.

        Rules decide first: deny -> rejected at once, allow -> approved (the decision
        names the rule), ask / no rule -> waits for the human. ``timeout`` (seconds)
        is how long the agent will wait for a decision; then it expires.
        """
        self.require(agent_id, RUN)
        if not isinstance(command, str) or not command.strip():
            raise InvalidRequestError("command must be a non-empty string")
        if "\n" in command.strip() or "\r" in command:
            raise InvalidRequestError("command must be a single line")
        slot = self._slot(terminal)
        if timeout is not None and (timeout <= 0 or timeout != timeout):
            raise InvalidRequestError("timeout must be a positive number of seconds")
        approval_id = uuid.uuid4().hex[:12]
        expires_at = time.time() + timeout if timeout is not None else None
        await self._emit(
            ev.ApprovalQueued(
                agent_id=agent_id,
                approval_id=approval_id,
                command=command,
                terminal=terminal,
                cwd=slot.term.cwd or "",
                expires_at=expires_at,
                risk=list(risk_hints(command, self.project_dir)),
            )
        )
        rules = list(self.session.state["rules"].values())
        action, rule_id = decide(rules, command, agent_id, terminal)
        if action == "deny":
            await self._decide(
                approval_id,
                "rejected",
                by=ev.SYSTEM,
                rule_id=rule_id or "",
                reason=f"denied by rule {rule_id}",
            )
        elif action == "allow":
            await self._decide(approval_id, "approved", by=ev.SYSTEM, rule_id=rule_id or "")
        else:
            self._arm_expiry(self.approval(approval_id))
        return approval_id

    def _arm_expiry(self, info: ApprovalInfo) -> None:
        if info.expires_at is None or self._loop is None:
            return
        delay = max(0.0, info.expires_at - time.time())
        aid = info.approval_id
        self._timers[aid] = self._loop.call_later(delay, lambda: self._spawn(self._expire(aid)))

    async def _expire(self, approval_id: str) -> None:
        self._timers.pop(approval_id, None)
        info = self.session.state["pending_approvals"].get(approval_id)
        if info is not None and info.status == "queued":
            await self._decide(
                approval_id, "expired", by=ev.SYSTEM, reason="no decision before the timeout"
            )

    async def _decide(
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
        info = self.approval(approval_id)
        action = {
            "approved": "approve",
            "rejected": "reject",
            "expired": "expire",
            "interrupted": "interrupt",
        }[decision]
        try:
            transition(info.status, action)
        except AgentShellError as exc:
            raise InvalidStateError(f"approval {approval_id} is {info.status}: {exc}") from None
        timer = self._timers.pop(approval_id, None)
        if timer is not None:
            timer.cancel()
        await self._emit(
            ev.ApprovalDecided(
                agent_id=ev.SYSTEM if by == ev.SYSTEM else ev.HUMAN,
                approval_id=approval_id,
                decision=decision,
                by=by,
                reason=reason,
                command=command,
                revision=revision,
                rule_id=rule_id,
            )
        )
        if decision == "approved":
            self._slot(info.terminal).queue.put_nowait(approval_id)

    async def approve(
        self,
        approval_id: str,
        by: str = ev.HUMAN,
        command: str | None = None,
        revision: int | None = None,
    ) -> None:
        """Approve a queued (or interrupted) command; ``command`` replaces its text."""
        if command is not None and (not isinstance(command, str) or not command.strip()):
            raise InvalidRequestError("an edited command must be a non-empty string")
        info = self.approval(approval_id)
        sd = self._docs.get(ev.approval_doc(approval_id))
        if revision is not None:
            if sd is None or sd.revision != revision:
                current = sd.revision if sd is not None else 0
                raise InvalidStateError(
                    f"approval {approval_id}: revision {revision} is not the current text "
                    f"(revision {current}); review it again"
                )
            command = sd.text
        elif command is None and sd is not None and sd.text != info.command:
            command, revision = sd.text, sd.revision
        if command is not None and not command.strip():
            raise InvalidRequestError("the approved command is empty")
        if command is not None and ("\n" in command.strip() or "\r" in command):
            # as for a proposal: one command line, whose exit code is the command's
            raise InvalidRequestError("the approved command must be a single line")
        await self._decide(approval_id, "approved", by=by, command=command, revision=revision)

    async def reject(self, approval_id: str, reason: str = "", by: str = ev.HUMAN) -> None:
        """Reject a pending command; ``reason`` is sent back to the agent."""
        await self._decide(approval_id, "rejected", by=by, reason=reason)

    def suggest_rule(self, approval_id: str) -> tuple[str, str]:
        """The (kind, pattern) "approve similar" would propose for this approval."""
        kind, pattern = suggest_rule(self.approval(approval_id).command)
        return kind, pattern

    async def approve_similar(
        self,
        approval_id: str,
        kind: str | None = None,
        pattern: str | None = None,
        *,
        scope: str = "session",
        scope_value: str = "",
        by: str = ev.HUMAN,
    ) -> str:
        """Add an allow rule (suggested unless given) for this command, then approve it."""
        info = self.approval(approval_id)
        if kind is None or pattern is None:
            skind, spattern = suggest_rule(info.command)
            kind = kind or skind
            pattern = pattern if pattern is not None else spattern
        rule_id = await self.add_rule(
            "allow", kind, pattern, scope=scope, scope_value=scope_value, by=by
        )
        if self.approval(approval_id).status in ("queued", "interrupted"):
            await self.approve(approval_id, by=by)
        return rule_id

    async def wait_result(self, approval_id: str) -> RunResult:
        """Wait until the approval ends: its RunResult, or raise CommandRejected /
        CommandExpired / CommandFailed / CommandInterrupted (coordinator stopped)."""
        done = self._finished.get(approval_id)
        if done is not None:
            if isinstance(done, RunResult):
                return done
            raise done
        if approval_id not in self._closing:
            self.approval(approval_id)  # NotFoundError when unknown
        fut: asyncio.Future[RunResult] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(approval_id, []).append(fut)
        return await fut

    async def run(
        self, agent_id: str, command: str, terminal: str = "main", timeout: float | None = None
    ) -> RunResult:
        """propose + wait_result."""
        return await self.wait_result(await self.propose(agent_id, command, terminal, timeout))
