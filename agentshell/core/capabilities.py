"""Agent capabilities: permission words that gate actions, skills that route tasks.

Permissions: ``run`` (propose commands), ``type`` (edit shared drafts), ``edit``
(report file edits), ``read`` (read screens, subscribe). Every other capability
string is a *skill* (``python``, ``debugging``). An agent that lists no permission
word gets ``read`` only.

Task routing (:meth:`CapabilityRegistry.find_agents_for_task`), the formula:

1. *Terms* of a text: lower-cased, split at every character that is not a letter
   or digit (so ``_``, ``-``, spaces and punctuation all separate words), stop
   words dropped, each word reduced by :func:`stem` (``tests`` -> ``test``,
   ``testing`` -> ``test``, ``debugging`` -> ``debug``).
2. ``T`` = the set of terms of the task description; ``C(agent)`` = the set of
   terms of the agent's skills (permission words do not count).
3. ``score(agent) = |T & C(agent)| / |T|`` -- the share of the task's terms the
   agent covers, in (0, 1]. Agents with no shared term are left out.
4. Order: higher score first; equal scores by agent id (ascending), so the result
   never depends on registration order.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentshell.core.errors import InvalidNameError
from agentshell.core.state import AgentInfo

PERMISSIONS: frozenset[str] = frozenset(("run", "type", "edit", "read"))

STOP_WORDS: frozenset[str] = frozenset(
    [
        "a",
        "an",
        "and",
        "or",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "at",
        "by",
        "from",
        "into",
        "is",
        "are",
        "be",
        "it",
        "this",
        "that",
        "these",
        "those",
        "my",
        "our",
        "your",
        "some",
        "all",
        "any",
        "please",
        "can",
        "could",
        "should",
        "would",
        "will",
    ]
)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_VOWELS = set("aeiou")


def stem(word: str) -> str:
    """A small suffix-stripping stemmer for matching word forms.

    Rules, in order (each only when at least 3 letters remain):
    ``ies`` -> ``y``; ``sses`` -> ``ss``; ``es`` after s/x/z/ch/sh dropped; a final
    ``s`` dropped unless after s/u/i; then one of ``ation``, ``ion``, ``ing``,
    ``ed``, ``er`` dropped, and a doubled final consonant (``debugg``) undoubled;
    finally a trailing ``e`` dropped (``file``/``files`` -> ``fil``).
    """
    w = word.lower()
    if len(w) <= 3:
        return w

    def strip(suffix: str, repl: str = "") -> str | None:
        if w.endswith(suffix) and len(w) - len(suffix) + len(repl) >= 3:
            return w[: len(w) - len(suffix)] + repl
        return None

    for suffix, repl in (("ies", "y"), ("sses", "ss")):
        got = strip(suffix, repl)
        if got is not None:
            w = got
            break
    else:
        if w.endswith(("ses", "xes", "zes", "ches", "shes")) and len(w) - 2 >= 3:
            w = w[:-2]
        elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) - 1 >= 3:
            w = w[:-1]
    for suffix in ("ation", "ion", "ing", "ed", "er"):
        got = strip(suffix)
        if got is not None:
            w = got
            if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in _VOWELS and w[-1] not in "lsz":
                w = w[:-1]
            break
    if w.endswith("e") and len(w) - 1 >= 3:
        w = w[:-1]
    return w


def terms(text: str) -> set[str]:
    """The stemmed, stop-word-free words of ``text`` (see the module docstring)."""
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in STOP_WORDS}


def permissions_of(capabilities: Iterable[str]) -> frozenset[str]:
    """The permission words among ``capabilities``; ``{"read"}`` when there are none."""
    got = frozenset(c.strip().lower() for c in capabilities) & PERMISSIONS
    return got or frozenset(("read",))


def skills_of(capabilities: Iterable[str]) -> tuple[str, ...]:
    """Every capability that is not a permission word, in order."""
    return tuple(c for c in capabilities if c.strip().lower() not in PERMISSIONS)


@dataclass(frozen=True, slots=True)
class RegisteredAgent:
    agent_id: str
    name: str
    capabilities: tuple[str, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    terms: frozenset[str] = frozenset()
    registered_at: float = 0.0

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.capabilities)

    @property
    def skills(self) -> tuple[str, ...]:
        return skills_of(self.capabilities)

    def info(self) -> AgentInfo:
        """The agent as the session state describes agents (:class:`AgentInfo`)."""
        return AgentInfo(
            agent_id=self.agent_id,
            capabilities=self.capabilities,
            metadata=dict(self.metadata),
            name=self.name,
            registered_at=self.registered_at,
        )


class CapabilityRegistry:
    """Which agents exist and what they can do; routes tasks to agents."""

    def __init__(self) -> None:
        self._agents: dict[str, RegisteredAgent] = {}

    def register_agent(
        self,
        agent_id: str,
        name: str = "",
        capabilities: Iterable[str] = (),
        metadata: Mapping[str, Any] | None = None,
        *,
        registered_at: float | None = None,
    ) -> RegisteredAgent:
        """Add (or replace) an agent. ``capabilities`` is a list of strings.

        ``registered_at`` defaults to now; registering an agent again replaces its
        name, capabilities and metadata and keeps its first registration time."""
        if not isinstance(agent_id, str) or not agent_id.strip():
            raise InvalidNameError(f"agent id must be a non-empty string, got {agent_id!r}")
        if isinstance(capabilities, str):
            raise TypeError("capabilities must be a list of strings, not one string")
        caps = tuple(capabilities)
        for c in caps:
            if not isinstance(c, str) or not c.strip():
                raise TypeError(f"capability {c!r} is not a non-empty string")
        old = self._agents.get(agent_id)
        if registered_at is None:
            registered_at = old.registered_at if old is not None else time.time()
        agent = RegisteredAgent(
            agent_id=agent_id,
            name=name or agent_id,
            capabilities=caps,
            metadata=dict(metadata or {}),
            terms=frozenset(t for c in skills_of(caps) for t in terms(c)),
            registered_at=registered_at,
        )
        self._agents[agent_id] = agent
        return agent

    def deregister_agent(self, agent_id: str) -> None:
        """Remove an agent; removing an unknown agent does nothing."""
        self._agents.pop(agent_id, None)

    def get_agent(self, agent_id: str) -> RegisteredAgent:
        """The agent's record; KeyError when unknown."""
        try:
            return self._agents[agent_id]
        except KeyError:
            raise KeyError(agent_id) from None

    def get_agent_capabilities(self, agent_id: str) -> list[str]:
        """The agent's capabilities, as registered; KeyError when unknown."""
        return list(self.get_agent(agent_id).capabilities)

    def list_agents(self) -> list[str]:
        """Registered agent ids, sorted."""
        return sorted(self._agents)

    def get_all_agents(self) -> dict[str, AgentInfo]:
        """Every registered agent, ``{agent_id: AgentInfo}`` in registration order (a
        new dict: changing it changes nothing here)."""
        return {agent_id: a.info() for agent_id, a in self._agents.items()}

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    def __len__(self) -> int:
        return len(self._agents)

    def find_agents_for_task(
        self, description: str, limit: int | None = None
    ) -> list[tuple[str, float]]:
        """``[(agent_id, score)]`` best first; see the module docstring for the formula."""
        wanted = terms(description)
        if not wanted:
            return []
        scored = []
        for agent in self._agents.values():
            hit = len(wanted & agent.terms)
            if hit:
                scored.append((agent.agent_id, hit / len(wanted)))
        scored.sort(key=lambda p: (-p[1], p[0]))
        return scored if limit is None else scored[: max(limit, 0)]
