"""Reducers of the approval events: queued, decided, executed."""

from __future__ import annotations

from typing import Any

from agentshell.core import events as ev

from .model import ApprovalInfo, SessionState, replace_info


def approval_info(e: Any) -> ApprovalInfo:
    return ApprovalInfo(
        approval_id=e.approval_id,
        agent_id=e.agent_id,
        command=e.command,
        terminal=e.terminal,
        cwd=e.cwd,
        queued_at=e.timestamp,
        seq=e.seq,
        expires_at=e.expires_at,
        risk=tuple(e.risk),
        external=e.external,
        editable=e.editable,
    )


def queued(s: SessionState, e: Any) -> None:
    s["pending_approvals"][e.approval_id] = approval_info(e)
    a = s["agents"].get(e.agent_id)
    if a is not None:
        s["agents"][e.agent_id] = replace_info(a, status="waiting")


FINAL_DECISIONS = frozenset(("rejected", "expired"))


def decided(s: SessionState, e: Any) -> None:
    p = s["pending_approvals"].get(e.approval_id)
    if p is None:
        return
    if e.decision in FINAL_DECISIONS:
        done(s, e.approval_id)
        return
    s["pending_approvals"][e.approval_id] = replace_info(
        p,
        status=e.decision,
        approved_command=e.command if e.command is not None else p.approved_command,
        decided_by=e.by,
    )


def executed(s: SessionState, e: Any) -> None:
    p = s["pending_approvals"].get(e.approval_id)
    if p is None:
        return
    if e.status == "executing":
        s["pending_approvals"][e.approval_id] = replace_info(p, status="executing")
    else:
        done(s, e.approval_id)


def withdrawn(s: SessionState, e: Any) -> None:
    p = s["pending_approvals"].get(e.approval_id)
    if p is None:
        return
    s["pending_approvals"][e.approval_id] = replace_info(
        p, withdrawn=e.reason or "withdrawn by its agent"
    )


def done(s: SessionState, approval_id: str) -> None:
    """An approval ended: it leaves the queue, and its shared text goes with it (no op
    is accepted on it any more; a long session would keep one per command ever)."""
    del s["pending_approvals"][approval_id]
    s["docs"].pop(ev.approval_doc(approval_id), None)
