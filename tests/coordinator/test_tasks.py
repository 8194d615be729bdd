"""Tasks: created with suggested agents, assigned, started, blocked, done."""

from __future__ import annotations

import pytest

from agentshell.coordinator import api
from agentshell.coordinator.coordinator import Coordinator
from agentshell.core import events as ev
from agentshell.core.errors import PermissionDeniedError

from .conftest import collect


@pytest.fixture
async def team(co: Coordinator) -> Coordinator:
    await co.add_agent("py", ["read", "run", "python", "testing"])
    await co.add_agent("web", ["read", "run", "javascript", "css"])
    return co


async def test_created_task_suggests_agents_by_skill(team: Coordinator) -> None:
    sub = team.subscribe(["task_created"])
    tid = await team.create_task("fix the failing python tests")
    (e,) = await collect(sub, 1)
    assert isinstance(e, ev.TaskCreated) and e.task_id == tid
    assert e.suggested_agents and e.suggested_agents[0][0] == "py"
    assert "web" not in [a for a, _ in e.suggested_agents[:1]]
    other = await team.create_task("style the javascript form with css")
    assert team.task(other).suggested_agents[0][0] == "web"
    assert [t.task_id for t in team.tasks()] == [tid, other]


async def test_lifecycle_events(team: Coordinator) -> None:
    tid = await team.create_task("debug python import error")
    sub = team.subscribe(["task_status_changed"])
    await team.update_task(tid, "assigned", assignee="py")
    await team.update_task(tid, "in_progress", by="py")
    await team.update_task(tid, "blocked", note="needs a token", by="py")
    await team.update_task(tid, "done", by="py")
    got = await collect(sub, 4)
    assert [(e.status, e.assignee) for e in got if isinstance(e, ev.TaskStatusChanged)] == [
        ("assigned", "py"),
        ("in_progress", ""),
        ("blocked", ""),
        ("done", ""),
    ]
    t = team.task(tid)
    assert (t.status, t.assignee) == ("done", "py")


async def test_claim_and_permissions(team: Coordinator) -> None:
    tid = await team.create_task("python refactor")
    await team.claim_task(tid, "py")
    assert (team.task(tid).status, team.task(tid).assignee) == ("assigned", "py")
    with pytest.raises(api.InvalidStateError):
        await team.claim_task(tid, "web")  # already someone's
    with pytest.raises(PermissionDeniedError):
        await team.update_task(tid, "done", by="web")  # not web's task
    with pytest.raises(PermissionDeniedError):
        await team.update_task(tid, "assigned", assignee="web", by="py")  # only the human
    await team.update_task(tid, "assigned", assignee="web")  # the human reassigns
    assert team.task(tid).assignee == "web"
    with pytest.raises(api.InvalidRequestError):
        await team.update_task(tid, "finished")
    with pytest.raises(api.NotFoundError):
        await team.update_task(tid, "done", assignee="ghost")
    with pytest.raises(api.InvalidRequestError):
        await team.create_task("   ")
