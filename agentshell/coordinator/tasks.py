"""Tasks: created with suggested agents (CapabilityRegistry), claimed, updated."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from agentshell.core import events as ev
from agentshell.core.capabilities import CapabilityRegistry
from agentshell.core.errors import PermissionDeniedError
from agentshell.core.state import TaskInfo

from .results import InvalidRequestError, InvalidStateError, NotFoundError

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager

    from .writer import EventWriter

TASK_STATUSES = ("open", "assigned", "in_progress", "blocked", "done")


class TaskBoard:
    """Tasks and routing."""

    def __init__(self, session: SessionManager, writer: EventWriter) -> None:
        self.session = session
        self._writer = writer

    def tasks(self) -> list[TaskInfo]:
        return sorted(self.session.state["tasks"].values(), key=lambda t: t.created_at)

    def task(self, task_id: str) -> TaskInfo:
        t: TaskInfo | None = self.session.state["tasks"].get(task_id)
        if t is None:
            raise NotFoundError(f"no task {task_id!r}")
        return t

    def suggest_agents(self, description: str, limit: int = 3) -> list[tuple[str, float]]:
        """Agents whose skills fit ``description`` best (CapabilityRegistry), best first."""
        reg = CapabilityRegistry()
        for a in self.session.state["agents"].values():
            reg.register_agent(a.agent_id, a.name, list(a.capabilities))
        return [(str(a), float(s)) for a, s in reg.find_agents_for_task(description, limit)]

    async def create(self, description: str, created_by: str = ev.HUMAN) -> str:
        if not isinstance(description, str) or not description.strip():
            raise InvalidRequestError("a task needs a description")
        task_id = "t-" + uuid.uuid4().hex[:8]
        await self._writer.record(
            ev.TaskCreated(
                agent_id=created_by if created_by in self.session.state["agents"] else ev.HUMAN,
                task_id=task_id,
                description=description,
                created_by=created_by,
                suggested_agents=[[a, s] for a, s in self.suggest_agents(description)],
            )
        )
        return task_id

    async def claim(self, task_id: str, agent_id: str) -> None:
        """``agent_id`` takes an open task (assigned to it)."""
        t = self.task(task_id)
        if t.status not in ("open",) and t.assignee != agent_id:
            raise InvalidStateError(f"task {task_id} is {t.status} (assignee {t.assignee or '-'})")
        await self._writer.record(
            ev.TaskStatusChanged(
                agent_id=agent_id, task_id=task_id, status="assigned", assignee=agent_id
            )
        )

    async def update(
        self,
        task_id: str,
        status: str,
        *,
        assignee: str | None = None,
        note: str = "",
        by: str = ev.HUMAN,
    ) -> None:
        """Change a task's status (open, assigned, in_progress, blocked, done).

        The human may do anything; an agent only on a task assigned to it."""
        t = self.task(task_id)
        if status not in TASK_STATUSES:
            raise InvalidRequestError(f"task status must be one of {', '.join(TASK_STATUSES)}")
        if by != ev.HUMAN:
            if t.assignee != by:
                raise PermissionDeniedError(f"task {task_id} is not assigned to {by!r}")
            if assignee not in (None, by):
                raise PermissionDeniedError("only the human reassigns tasks")
        if assignee is not None and assignee and assignee not in self.session.state["agents"]:
            raise NotFoundError(f"no agent {assignee!r}")
        await self._writer.record(
            ev.TaskStatusChanged(
                agent_id=by if by in self.session.state["agents"] else ev.HUMAN,
                task_id=task_id,
                status=status,
                assignee=assignee or "",
                note=note,
            )
        )
