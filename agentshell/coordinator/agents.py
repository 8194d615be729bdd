"""The agent directory: registration, tokens, status and the permission words that
gate actions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from agentshell.core import events as ev
from agentshell.core.capabilities import permissions_of
from agentshell.core.errors import InvalidNameError, PermissionDeniedError
from agentshell.core.state import AgentInfo
from agentshell.store.session import check_name

from .results import InvalidRequestError, NotFoundError
from .tokens import hash_token, new_token, verify_token

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager

    from .writer import EventWriter

#: Permission words (the rest of an agent's capabilities are skills).
RUN, TYPE, EDIT, READ = "run", "type", "edit", "read"


class AgentDirectory:
    """Agents and their permissions."""

    def __init__(self, session: SessionManager, writer: EventWriter) -> None:
        self.session = session
        self._writer = writer

    def agent(self, agent_id: str) -> AgentInfo:
        a: AgentInfo | None = self.session.state["agents"].get(agent_id)
        if a is None:
            raise NotFoundError(f"no agent {agent_id!r}")
        return a

    def agents(self) -> list[AgentInfo]:
        return list(self.session.state["agents"].values())

    def is_known(self, agent_id: str) -> bool:
        """True for a registered agent (the human and AgentShell itself are not agents)."""
        return agent_id in self.session.state["agents"]

    def permissions(self, agent_id: str) -> frozenset[str]:
        """The permission words of ``agent_id`` (the human has every permission)."""
        if agent_id == ev.HUMAN:
            return frozenset((RUN, TYPE, EDIT, READ))
        return frozenset(permissions_of(self.agent(agent_id).capabilities))

    def require(self, agent_id: str, permission: str) -> None:
        """Raise PermissionDeniedError unless ``agent_id`` holds ``permission``."""
        if permission not in self.permissions(agent_id):
            raise PermissionDeniedError(f"agent {agent_id!r} lacks the {permission!r} capability")

    def authenticate(self, agent_id: str, token: str) -> AgentInfo | None:
        """The agent when ``token`` is its token, else None."""
        a: AgentInfo | None = self.session.state["agents"].get(agent_id)
        if a is None or not verify_token(token, a.token_hash):
            return None
        return a

    async def register(
        self,
        agent_id: str,
        capabilities: Iterable[str],
        *,
        name: str = "",
        metadata: dict[str, Any] | None = None,
        token_hash: str = "",
    ) -> AgentInfo:
        """Register (or update) an agent. Prefer :meth:`add`, which makes a token."""
        if agent_id in (ev.HUMAN, ev.SYSTEM):
            raise InvalidRequestError(
                f"agent id {agent_id!r} is reserved (it names the operator or AgentShell itself)"
            )
        try:  # the same rule as `agentshell agent add` without a server
            check_name(agent_id, "agent name")
        except InvalidNameError as exc:
            raise InvalidRequestError(str(exc)) from None
        await self._writer.record(
            ev.AgentRegistered(
                agent_id=agent_id,
                capabilities=[str(c) for c in capabilities],
                name=name or agent_id,
                metadata=dict(metadata or {}),
                token_hash=token_hash,
            )
        )
        return self.agent(agent_id)

    async def add(self, agent_id: str, capabilities: Iterable[str], *, name: str = "") -> str:
        """Register an agent with a fresh token; returns the token (only its hash is kept)."""
        token = new_token()
        await self.register(agent_id, capabilities, name=name, token_hash=hash_token(token))
        return token

    async def remove(self, agent_id: str, reason: str = "") -> None:
        """Log the agent's removal (its commands are ended by the approval gate)."""
        self.agent(agent_id)
        await self._writer.record(ev.AgentRemoved(agent_id=agent_id, reason=reason))

    async def set_status(self, agent_id: str, status: str) -> None:
        a = self.session.state["agents"].get(agent_id)
        if a is not None and a.status != status:
            await self._writer.record(ev.AgentStatusChanged(agent_id=agent_id, status=status))

    async def disconnect_all(self) -> None:
        """Mark every agent the log still shows as connected as disconnected (at start)."""
        for agent in list(self.session.state["agents"].values()):
            if agent.status in ("connected", "working", "waiting"):
                await self._writer.record(
                    ev.AgentStatusChanged(agent_id=agent.agent_id, status="disconnected")
                )
