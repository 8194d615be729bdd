"""Tasks over the socket (claim, update) and the `agentshell tasks` CLI."""

from __future__ import annotations

import asyncio
import json
import sys

from .conftest import Served


async def cli(served: Served, *args: str) -> tuple[int, str, str]:
    p = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agentshell",
        *args,
        "--socket",
        str(served.socket),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(p.communicate(), 60)
    return p.returncode or 0, out.decode(), err.decode()


async def test_tasks_cli_and_claim_over_the_socket(served: Served) -> None:
    await served.agent("py", ["read", "run", "python"])
    a = await served.agent("py")
    try:
        code, out, err = await cli(served, "tasks")
        assert (code, out.strip()) == (0, "no tasks"), err
        code, out, err = await cli(served, "tasks", "add", "fix the python import")
        assert code == 0, err
        task_id = out.split()[0]
        assert "suggested: py" in out
        code, out, _ = await cli(served, "tasks")
        assert task_id in out and "open" in out and "py" in out
        # the agent sees it, claims it and starts it over the socket
        assert [t["task_id"] for t in await a.tasks()] == [task_id]
        claimed = await a.claim_task(task_id)
        assert (claimed["status"], claimed["assignee"]) == ("assigned", "py")
        started = await a.update_task(task_id, "in_progress")
        assert started["status"] == "in_progress"
        code, out, err = await cli(served, "tasks", "update", task_id, "done", "--note", "ok")
        assert code == 0, err
        code, out, _ = await cli(served, "tasks", "--json")
        (t,) = json.loads(out)
        assert (t["task_id"], t["status"], t["assignee"]) == (task_id, "done", "py")
        code, _, err = await cli(served, "tasks", "update", "t-nope", "done")
        assert code != 0 and "t-nope" in err
    finally:
        await a.close()
