"""Reducers of the task events: created, status changed."""

from __future__ import annotations

from typing import Any

from .model import SessionState, TaskInfo, replace_info


def created(s: SessionState, e: Any) -> None:
    s["tasks"][e.task_id] = TaskInfo(
        task_id=e.task_id,
        description=e.description,
        created_by=e.created_by,
        created_at=e.timestamp,
        suggested_agents=tuple((str(a), float(sc)) for a, sc in e.suggested_agents),
    )


def status_changed(s: SessionState, e: Any) -> None:
    t = s["tasks"].get(e.task_id)
    if t is not None:
        s["tasks"][e.task_id] = replace_info(
            t, status=e.status, assignee=e.assignee or t.assignee, note=e.note
        )
