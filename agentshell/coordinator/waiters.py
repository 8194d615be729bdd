"""Waiters: who is waiting to hear how each agent's approval ends.

A holder (a socket connection that proposed or awaits an approval, an in-process
:meth:`Coordinator.wait_result`) holds the approval while it waits. When the last
holder lets go (the connection closed: the agent crashed, the coordinator restarted,
the network went) a grace timer starts; a holder that comes back within it (a client
reconnecting and asking ``result`` again) stops it. When it runs out, ``on_gone`` is
called: the approval gate logs it withdrawn, so the queue shows that nobody will
receive the output and no rule approves it. After a restart every approval waiting
for a decision starts without holders, so each gets the grace to be claimed again.

The human's and AgentShell's own proposals (``human``, ``system``) are never withdrawn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from agentshell.core import events as ev
from agentshell.core.approvals import AWAITING_DECISION

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager

    from .background import Background

#: Seconds an approval may go without anyone waiting for it before it is withdrawn
#: (a client reconnects within about two seconds of a server being back).
AGENT_GRACE = 10.0


class Waiters:
    """Holders per approval and the grace timers of approvals without one."""

    def __init__(
        self,
        session: SessionManager,
        background: Background,
        *,
        on_gone: Callable[[str, str], Awaitable[object]],
        grace: float = AGENT_GRACE,
    ) -> None:
        self.session = session
        self._background = background
        self._on_gone = on_gone
        #: Seconds without a holder before an approval is withdrawn.
        self.grace = grace
        self._holders: dict[str, set[object]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def _agents_own(self, approval_id: str) -> bool:
        info = self.session.state["pending_approvals"].get(approval_id)
        return (
            info is not None
            and not info.withdrawn
            and info.agent_id not in (ev.HUMAN, ev.SYSTEM)
            and info.status in AWAITING_DECISION
        )

    def hold(self, approval_id: str, holder: object) -> None:
        """``holder`` waits for ``approval_id`` (stops its grace timer)."""
        self._holders.setdefault(approval_id, set()).add(holder)
        timer = self._timers.pop(approval_id, None)
        if timer is not None:
            timer.cancel()

    def release(self, approval_id: str, holder: object) -> None:
        """``holder`` stopped waiting; with nobody left, the grace timer starts."""
        held = self._holders.get(approval_id)
        if held is None:
            return
        held.discard(holder)
        if not held:
            del self._holders[approval_id]
            self.orphan(approval_id)

    @contextmanager
    def holding(self, approval_id: str) -> Iterator[None]:
        """Hold ``approval_id`` for the duration of the block."""
        token = object()
        self.hold(approval_id, token)
        try:
            yield
        finally:
            self.release(approval_id, token)

    def waiting(self, approval_id: str) -> bool:
        """Whether someone holds ``approval_id`` now."""
        return bool(self._holders.get(approval_id))

    def orphan(self, approval_id: str) -> None:
        """Start the grace timer of an approval nobody holds (if it is an agent's and
        still pending)."""
        loop = self._background.loop
        if (
            loop is None
            or approval_id in self._timers
            or self._holders.get(approval_id)
            or not self._agents_own(approval_id)
        ):
            return
        self._timers[approval_id] = loop.call_later(
            self.grace, lambda: self._background.spawn(self._expire(approval_id))
        )

    def ended(self, e: ev.Event) -> None:
        """Once durable: an approval that left the queue needs no holders or timer."""
        aid = getattr(e, "approval_id", None)
        if aid is None or aid in self.session.state["pending_approvals"]:
            return
        self._holders.pop(aid, None)
        timer = self._timers.pop(aid, None)
        if timer is not None:
            timer.cancel()

    async def _expire(self, approval_id: str) -> None:
        self._timers.pop(approval_id, None)
        if self._holders.get(approval_id) or not self._agents_own(approval_id):
            return
        s = f"{self.grace:g}"
        await self._on_gone(
            approval_id,
            f"its agent's connection closed and it did not come back within {s} s",
        )

    def stop(self) -> None:
        for h in self._timers.values():
            h.cancel()
        self._timers.clear()
