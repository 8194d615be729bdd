"""`agentshell tasks`: list, add and update tasks (routed to agents by their skills)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from agentshell.cli.cmd_operator import call, operator, socket_option
from agentshell.cli.main import cli
from agentshell.cli.options import session_options
from agentshell.core.text import printable


@cli.group(invoke_without_command=True)
@session_options
@socket_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def tasks(
    ctx: click.Context, data_dir: Path | None, session: str, socket: Path | None, as_json: bool
) -> None:
    """List tasks: id, status, assignee, description (and suggested agents).

    `tasks add DESCRIPTION` creates one (agents are suggested by their skills);
    `tasks update ID STATUS` moves it (open, assigned, in_progress, blocked, done).
    """
    if ctx.invoked_subcommand is not None:
        return
    with operator(data_dir, session, socket) as c:
        items = call(c.tasks)
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    if not items:
        click.echo("no tasks")
    for t in items:
        sugg = ", ".join(f"{printable(a)} ({s:.2f})" for a, s in t["suggested_agents"])
        who = printable(t["assignee"] or "-")
        click.echo(
            f"{t['task_id']}  {t['status']:<11} {who:<12} {printable(t['description'])}"
            + (f"  [suggested: {sugg}]" if sugg and not t["assignee"] else "")
        )


@tasks.command("add")
@session_options
@socket_option
@click.argument("description")
def tasks_add(data_dir: Path | None, session: str, socket: Path | None, description: str) -> None:
    """Create a task; prints its id and the agents suggested for it."""
    with operator(data_dir, session, socket) as c:
        t = call(lambda: c.request("task_create", description=description)["task"])
    sugg = ", ".join(a for a, _ in t["suggested_agents"]) or "none"
    click.echo(f"{t['task_id']}  (suggested: {sugg})")


@tasks.command("update")
@session_options
@socket_option
@click.argument("task_id")
@click.argument("status", type=click.Choice(["open", "assigned", "in_progress", "blocked", "done"]))
@click.option("--assignee", default=None, help="Assign it to this agent.")
@click.option("--note", default="", help="Why (kept in the log).")
def tasks_update(
    data_dir: Path | None,
    session: str,
    socket: Path | None,
    task_id: str,
    status: str,
    assignee: str | None,
    note: str,
) -> None:
    """Set a task's status (and assignee)."""
    with operator(data_dir, session, socket) as c:
        call(
            lambda: c.request(
                "task_update", task_id=task_id, status=status, assignee=assignee, note=note
            )
        )
    click.echo(f"{task_id}: {status}")
