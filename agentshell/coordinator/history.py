"""History: how approvals that ended before this coordinator started ended, read from
the log (the in-memory :class:`Outcomes` remember only this run's).

An agent that reconnects after a restart asks ``result`` for the approval it was
waiting on; if the command ended just before the crash, the answer is in the log:
its ``command_executed`` (the result), or the decision that ended it. A resent
``propose`` (its first reply was lost with the connection) is recognised the same
way, so it is never queued twice. The log is read once, on the first such question,
and only the part after what was read before on later ones.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from agentshell.core import events as ev

from .results import CommandExpired, CommandFailed, CommandRejected, RunResult

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager

    from .outcomes import Outcome

_TYPES = frozenset(("approval_queued", "approval_decided", "approval_executed", "command_executed"))


class History:
    """Approval ids ever queued and how the ended ones ended (see the module doc)."""

    def __init__(self, session: SessionManager) -> None:
        self.session = session
        self._read_to = 0
        self._queued: dict[str, str] = {}  # approval id -> its agent
        self._approved: dict[str, str] = {}  # approval id -> the text approved
        self._ran: dict[str, RunResult] = {}
        self._ended: dict[str, Outcome] = {}
        self._lock = asyncio.Lock()

    async def _catch_up(self) -> None:
        async with self._lock:
            upto = self.session.last_seq
            if upto <= self._read_to:
                return
            events = await asyncio.to_thread(self._read, self._read_to)
            for e in events:
                self._fold(e)
            self._read_to = max(upto, events[-1].seq if events else 0)

    def _read(self, after: int) -> list[ev.Event]:
        return list(self.session.iter_events(after, types=_TYPES))

    def _fold(self, e: Any) -> None:
        aid = e.approval_id
        if isinstance(e, ev.ApprovalQueued):
            self._queued[aid] = e.agent_id
            self._approved[aid] = e.command
        elif isinstance(e, ev.ApprovalDecided):
            if e.decision == "rejected":
                self._ended[aid] = CommandRejected(aid, e.reason, e.by)
            elif e.decision == "expired":
                self._ended[aid] = CommandExpired(aid)
            elif e.decision == "approved" and e.command is not None:
                self._approved[aid] = e.command
        elif isinstance(e, ev.CommandExecuted) and aid:
            self._ran[aid] = RunResult(
                approval_id=aid,
                command=e.command,
                exit_code=e.exit_code,
                output=e.output,
                duration=e.duration,
                terminal=e.terminal,
            )
        elif isinstance(e, ev.ApprovalExecuted):
            if e.status == "failed":
                self._ended[aid] = CommandFailed(aid, e.error or "failed")
            elif e.status == "executed":
                ran = self._ran.pop(aid, None)
                self._ended[aid] = ran or RunResult(  # external: the agent ran it
                    approval_id=aid,
                    command=self._approved.get(aid, ""),
                    exit_code=None,
                    output="",
                    duration=0.0,
                    terminal="main",
                )
            self._approved.pop(aid, None)

    async def ended(self, approval_id: str) -> Outcome | None:
        """How ``approval_id`` ended according to the log (None: not ended there)."""
        await self._catch_up()
        return self._ended.get(approval_id)

    async def queued_by(self, approval_id: str) -> str | None:
        """The agent that queued ``approval_id`` (None: never queued)."""
        await self._catch_up()
        return self._queued.get(approval_id)
