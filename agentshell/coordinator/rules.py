"""The rule book: allow / ask / deny patterns the human made (deny beats ask beats allow)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from agentshell.core import events as ev
from agentshell.core.rules import ACTIONS, KINDS, SCOPES, RuleError, check_rule, decide
from agentshell.core.state import RuleInfo

from .results import InvalidRequestError, NotFoundError

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager

    from .writer import EventWriter

RULE_ACTIONS, RULE_KINDS, RULE_SCOPES = ACTIONS, KINDS, SCOPES


class RuleBook:
    """Adding, listing, revoking and applying rules."""

    def __init__(self, session: SessionManager, writer: EventWriter) -> None:
        self.session = session
        self._writer = writer

    def rules(self) -> list[RuleInfo]:
        return sorted(self.session.state["rules"].values(), key=lambda r: r.seq)

    def decide(self, command: str, agent_id: str, terminal: str) -> tuple[str | None, str | None]:
        """``(action, rule_id)`` of the rule deciding a proposed command (deny beats ask
        beats allow), or ``(None, None)``: no rule, ask the human."""
        return decide(list(self.session.state["rules"].values()), command, agent_id, terminal)

    async def add(
        self,
        action: str,
        kind: str,
        pattern: str,
        *,
        scope: str = "session",
        scope_value: str = "",
        by: str = ev.HUMAN,
    ) -> str:
        """Add a rule (allow/ask/deny; exact/prefix/glob; session/agent/terminal scope)."""
        if not isinstance(pattern, str) or not pattern:
            raise InvalidRequestError("rule pattern must be a non-empty string")
        try:  # one set of checks for every way a rule comes in (blank or unparsable too)
            check_rule(action, kind, pattern, scope, scope_value)
        except RuleError as exc:
            raise InvalidRequestError(f"bad rule: {exc}") from None
        rule_id = "r-" + uuid.uuid4().hex[:8]
        await self._writer.record(
            ev.RuleAdded(
                agent_id=ev.HUMAN if by == ev.HUMAN else ev.SYSTEM,
                rule_id=rule_id,
                action=action,
                kind=kind,
                pattern=pattern,
                scope=scope,
                scope_value=scope_value if scope != "session" else "",
                by=by,
            )
        )
        return rule_id

    async def revoke(self, rule_id: str, by: str = ev.HUMAN) -> None:
        if rule_id not in self.session.state["rules"]:
            raise NotFoundError(f"no rule {rule_id!r}")
        await self._writer.record(ev.RuleRevoked(agent_id=ev.HUMAN, rule_id=rule_id, by=by))
