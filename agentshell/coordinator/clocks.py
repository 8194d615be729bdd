"""Vector clocks: what each agent has seen, for the causality of edits and doc ops."""

from __future__ import annotations

from agentshell.core import events as ev
from agentshell.core.clock import merge

from .agents import AgentsMixin


class ClocksMixin(AgentsMixin):
    """Per-agent vector clocks."""

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
            seen = self._seen.get(agent_id)
            if seen is None:
                self._seen[agent_id] = dict(event.clock)
                return
            for k, v in event.clock.items():  # merge in place: this runs per delivery
                if v > seen.get(k, 0):
                    seen[k] = v

    def _clock_for(self, agent_id: str, given: dict[str, int] | None) -> dict[str, int]:
        c = merge(self.clock_of(agent_id), given or {})
        c[agent_id] = self.session.state["clock"].get(agent_id, 0) + 1
        return c
