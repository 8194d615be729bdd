"""Reducers of the agent events: registered, removed, status changed."""

from __future__ import annotations

from typing import Any

from .model import AgentInfo, SessionState, replace_info


def registered(s: SessionState, e: Any) -> None:
    old = s["agents"].get(e.agent_id)
    s["agents"][e.agent_id] = AgentInfo(
        agent_id=e.agent_id,
        capabilities=tuple(e.capabilities),
        metadata=dict(e.metadata),
        name=e.name or (old.name if old else ""),
        registered_at=old.registered_at if old else e.timestamp,
        status=old.status if old else "registered",
        last_command=old.last_command if old else "",
        token_hash=e.token_hash or (old.token_hash if old else ""),
    )
    s["current_working_dirs"].setdefault(e.agent_id, "/")


def removed(s: SessionState, e: Any) -> None:
    s["agents"].pop(e.agent_id, None)


def status_changed(s: SessionState, e: Any) -> None:
    a = s["agents"].get(e.agent_id)
    if a is not None:
        s["agents"][e.agent_id] = replace_info(a, status=e.status)
