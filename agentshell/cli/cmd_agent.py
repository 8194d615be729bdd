"""`agentshell agent add|list|remove`: the agents allowed on a session's socket.

`agent add` prints the new token once; the log keeps only its SHA-256 hash. When the
session's server is running the change goes through it (it is the single writer);
otherwise the session log is written directly, unless another process holds the
session (a server whose socket is not where we looked): then nothing is written.
`agent list` and `agent remove` need an existing session (a typo creates nothing).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from agentshell.cli.cmd_operator import call, operator, resolve_socket, socket_option
from agentshell.cli.main import cli
from agentshell.cli.options import resolve_data_dir, session_options


def _serving(data_dir: Path | None, session: str, socket: Path | None) -> bool:
    from agentshell.server.paths import is_serving

    return is_serving(resolve_socket(data_dir, session, socket))


def _open(data_dir: Path | None, session: str, socket: Path | None, *, create: bool) -> Any:
    """The session's SessionManager, or a clear error (missing, or held elsewhere)."""
    from agentshell.core.errors import AgentShellError, SessionLockedError
    from agentshell.store.session import SessionManager

    try:
        return SessionManager(session, resolve_data_dir(data_dir), create=create)
    except SessionLockedError as exc:
        sock = resolve_socket(data_dir, session, socket)
        raise click.ClickException(f"{exc}; nothing answers on {sock}") from None
    except AgentShellError as exc:
        raise click.ClickException(str(exc)) from None


@cli.group()
def agent() -> None:
    """Add, list and remove agents (each gets its own token)."""


@agent.command("add")
@session_options
@socket_option
@click.argument("name")
@click.option(
    "--capabilities",
    "-c",
    default="read,run",
    show_default=True,
    help="Comma-separated: permissions (run, type, edit, read) and skills (python, ...).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="NAME exists: give it a new token (the old one stops working) and these capabilities.",
)
def agent_add(
    data_dir: Path | None,
    session: str,
    socket: Path | None,
    name: str,
    capabilities: str,
    replace: bool,
) -> None:
    """Register agent NAME and print its token (shown only this once)."""
    caps = [c.strip() for c in capabilities.split(",") if c.strip()]

    def refuse_existing(current: list[str]) -> None:
        if not replace:
            raise click.ClickException(
                f"agent {name!r} exists (capabilities {','.join(current) or 'none'}); "
                "`agent add --replace` gives it a new token (the old one stops working)"
            )

    if _serving(data_dir, session, socket):
        with operator(data_dir, session, socket) as c:
            for a in call(lambda: c.request("agents")["agents"]):
                if a["agent_id"] == name:
                    refuse_existing(list(a["capabilities"]))
            token = call(lambda: c.request("agent_add", agent=name, capabilities=caps)["token"])
    else:
        from agentshell.coordinator.tokens import hash_token, new_token
        from agentshell.core import events as ev
        from agentshell.store.session import check_name

        call(lambda: check_name(name, "agent name"))
        token = new_token()
        with _open(data_dir, session, socket, create=True) as sm:
            old = sm.state["agents"].get(name)
            if old is not None:
                refuse_existing(list(old.capabilities))
            sm.append(
                ev.AgentRegistered(
                    agent_id=name, name=name, capabilities=caps, token_hash=hash_token(token)
                )
            )
    click.echo(token)
    click.echo(
        f"agent {name!r} added; give it AGENTSHELL_AGENT={name} AGENTSHELL_TOKEN=<the token above>",
        err=True,
    )


def _list(data_dir: Path | None, session: str, socket: Path | None) -> list[dict[str, Any]]:
    if _serving(data_dir, session, socket):
        with operator(data_dir, session, socket) as c:
            return list(call(lambda: c.request("agents")["agents"]))
    with _open(data_dir, session, socket, create=False) as sm:
        return [
            {
                "agent_id": a.agent_id,
                "capabilities": list(a.capabilities),
                "status": a.status,
                "name": a.name,
            }
            for a in sm.state["agents"].values()
        ]


@agent.command("list")
@session_options
@socket_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (id, capabilities, status).")
def agent_list(data_dir: Path | None, session: str, socket: Path | None, as_json: bool) -> None:
    """List registered agents."""
    items = _list(data_dir, session, socket)
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    if not items:
        click.echo("no agents")
    for a in items:
        click.echo(f"{a['agent_id']:<16} {a['status']:<13} {','.join(a['capabilities'])}")


@agent.command("remove")
@session_options
@socket_option
@click.argument("name")
def agent_remove(data_dir: Path | None, session: str, socket: Path | None, name: str) -> None:
    """Remove agent NAME (its token stops working)."""
    if _serving(data_dir, session, socket):
        with operator(data_dir, session, socket) as c:
            call(lambda: c.request("agent_remove", agent=name))
    else:
        from agentshell.core import events as ev

        with _open(data_dir, session, socket, create=False) as sm:
            if name not in sm.state["agents"]:
                raise click.ClickException(f"no agent {name!r}")
            sm.append(ev.AgentRemoved(agent_id=name, reason="removed by the operator"))
    click.echo(f"removed {name}")
