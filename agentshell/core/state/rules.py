"""Reducers of the rule events: added, revoked."""

from __future__ import annotations

from typing import Any

from .model import RuleInfo, SessionState


def added(s: SessionState, e: Any) -> None:
    s["rules"][e.rule_id] = RuleInfo(
        rule_id=e.rule_id,
        action=e.action,
        kind=e.kind,
        pattern=e.pattern,
        scope=e.scope,
        scope_value=e.scope_value,
        by=e.by,
        created_at=e.timestamp,
        seq=e.seq,
    )


def revoked(s: SessionState, e: Any) -> None:
    s["rules"].pop(e.rule_id, None)
