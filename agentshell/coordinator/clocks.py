"""Vector clocks: what each agent has seen, for the causality of edits and doc ops."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from agentshell.core import events as ev
from agentshell.core.clock import merge

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager


class Clocks:
    """Per-agent vector clocks: the events delivered to each agent, plus its own count."""

    def __init__(self, session: SessionManager) -> None:
        self.session = session
        self._seen: dict[str, dict[str, int]] = {}

    def clock_of(self, agent_id: str) -> dict[str, int]:
        """What ``agent_id`` has seen (as far as the coordinator told it), plus its own count."""
        c = dict(self._seen.get(agent_id, {}))
        own = self.session.state["clock"].get(agent_id, 0)
        if own > c.get(agent_id, 0):
            c[agent_id] = own
        return c

    def saw(self, agent_id: str, event: ev.Event) -> None:
        """Record that ``event`` was delivered to ``agent_id`` (for edit causality)."""
        if event.clock:
            self.saw_clock(agent_id, event.clock)

    def saw_clock(self, agent_id: str, clock: Mapping[str, int]) -> None:
        """Record that ``agent_id`` has seen everything ``clock`` has seen."""
        seen = self._seen.get(agent_id)
        if seen is None:
            self._seen[agent_id] = dict(clock)
            return
        for k, v in clock.items():  # merge in place: this runs per delivery
            if v > seen.get(k, 0):
                seen[k] = v

    def clock_for(self, agent_id: str, given: dict[str, int] | None) -> dict[str, int]:
        """The clock of ``agent_id``'s next event: what it saw (and says it saw), ticked."""
        c = merge(self.clock_of(agent_id), given or {})
        c[agent_id] = self.session.state["clock"].get(agent_id, 0) + 1
        return c
