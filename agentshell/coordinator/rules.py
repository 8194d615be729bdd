"""Rules: allow / ask / deny patterns the human made (deny beats ask beats allow)."""

from __future__ import annotations

import uuid

from agentshell.core import events as ev
from agentshell.core.rules import ACTIONS, KINDS, SCOPES, RuleError, check_rule
from agentshell.core.state import (
    RuleInfo,
)

from .clocks import ClocksMixin
from .results import (
    InvalidRequestError,
    NotFoundError,
)

RULE_ACTIONS, RULE_KINDS, RULE_SCOPES = ACTIONS, KINDS, SCOPES


class RulesMixin(ClocksMixin):
    """Adding, listing and revoking rules."""

    def rules(self) -> list[RuleInfo]:
        return sorted(self.session.state["rules"].values(), key=lambda r: r.seq)

    async def add_rule(
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
        await self._emit(
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

    async def revoke_rule(self, rule_id: str, by: str = ev.HUMAN) -> None:
        if rule_id not in self.session.state["rules"]:
            raise NotFoundError(f"no rule {rule_id!r}")
        await self._emit(ev.RuleRevoked(agent_id=ev.HUMAN, rule_id=rule_id, by=by))
