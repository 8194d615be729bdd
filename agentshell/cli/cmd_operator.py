"""Operator commands for headless use: `approvals`, `approve`, `reject`, `rules`.

Each connects to the running server as the operator (the operator token is read
from the 0600 file beside the socket, or $AGENTSHELL_OPERATOR_TOKEN).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from agentshell.cli.main import cli
from agentshell.cli.options import resolve_data_dir, session_options
from agentshell.core.text import printable

F = TypeVar("F", bound=Callable[..., Any])


def socket_option(f: F) -> F:
    return click.option(
        "--socket",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Server socket [default: the session's, or $AGENTSHELL_SOCKET].",
    )(f)


def resolve_socket(data_dir: Path | None, session: str, socket: Path | None) -> Path:
    from agentshell.server.paths import find_socket

    return find_socket(socket, resolve_data_dir(data_dir) / session, session)


def unreachable(path: Path, session: str, exc: BaseException) -> str:
    """A message for a failed connection that names the socket and what to do."""
    start = f"start one with `agentshell serve --session {session}` or pass --socket PATH"
    cause = getattr(exc, "cause", None)  # ServerUnreachable: retried until its deadline
    if isinstance(cause, OSError) and isinstance(exc, ConnectionError):
        seconds = getattr(exc, "seconds", 0.0)
        return unreachable(path, session, cause) + f" (retried for {seconds:g} s)"
    if isinstance(exc, BlockingIOError):
        return (
            f"the server at {path} did not accept the connection: its listen backlog"
            " stayed full (very many agents connecting at once); try again"
        )
    if isinstance(exc, FileNotFoundError):
        return f"no server is running for session {session!r}: no socket at {path} ({start})"
    if isinstance(exc, ConnectionRefusedError):
        return f"no server is listening on {path} (a stale socket; {start})"
    if isinstance(exc, PermissionError):
        return f"cannot open the socket {path}: permission denied (another user's server?)"
    if isinstance(exc, OSError):
        return f"cannot reach the server at {path}: {exc.strerror or exc}"
    if getattr(exc, "code", "") == "auth_failed":
        return (
            f"the server at {path} refused the token: {getattr(exc, 'message', exc)} "
            "(check --agent/$AGENTSHELL_AGENT and $AGENTSHELL_TOKEN; "
            "`agentshell agent add NAME` prints a new token)"
        )
    return f"the server at {path} refused the connection: {exc}"


def operator(data_dir: Path | None, session: str, socket: Path | None) -> Any:
    """A SyncAgentClient connected as the operator (ClickException when impossible)."""
    from agentshell.client.sync import SyncAgentClient
    from agentshell.core.errors import AgentShellError

    path = resolve_socket(data_dir, session, socket)
    try:
        # a server still starting gets a few seconds; a missing one is said soon
        return SyncAgentClient.connect(path, operator=True, retry_for=3.0)
    except (OSError, AgentShellError) as exc:
        raise click.ClickException(unreachable(path, session, exc)) from None


def call(fn: Callable[[], Any]) -> Any:
    from agentshell.core.errors import AgentShellError

    try:
        return fn()
    except AgentShellError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@session_options
@socket_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def approvals(data_dir: Path | None, session: str, socket: Path | None, as_json: bool) -> None:
    """List pending approvals (oldest first): id, status, agent, terminal, command.

    Status is queued (waiting for you), approved or executing (about to run or
    running) or interrupted (approved before a server restart: decide again).
    An approval whose agent is gone (it withdrew it, or its connection closed and
    did not come back) says so: nobody will receive its output. When the session
    cannot record events (a full disk), the first line says why every command is
    held.
    """
    with operator(data_dir, session, socket) as c:
        reply = call(lambda: c.request("approvals"))
    items = reply["approvals"]
    held = reply.get("held")
    if as_json:
        click.echo(json.dumps(items, indent=2))
        if held:
            click.echo(f"held: {held}", err=True)
        return
    if held:
        click.echo(f"HELD: {printable(held)}")
    if not items:
        click.echo("no pending approvals")
    for a in items:
        # an agent's text, escape codes shown, not obeyed by this terminal
        cmd = printable(a["approved_command"] or a["command"])
        risk = f"  [{', '.join(a['risk'])}]" if a["risk"] else ""
        agent, term = printable(a["agent_id"]), printable(a["terminal"])
        click.echo(f"{a['approval_id']}  {a['status']:<11} {agent:<12} {term:<8} {cmd}{risk}")
        if a.get("withdrawn"):
            click.echo(
                f"    agent gone: {printable(a['withdrawn'])}; nobody will receive the output"
            )


def describe_rule(rule_id: str, rule: dict[str, Any]) -> str:
    """``r-1: allow glob 'python3 *'`` (plus its scope when narrower than the session)."""
    if not rule.get("kind"):
        return rule_id
    text = f"{rule_id}: {rule.get('action', 'allow')} {rule['kind']} {rule.get('pattern', '')!r}"
    if rule.get("scope", "session") != "session":
        text += f" (only {rule['scope']} {rule.get('scope_value', '')!r})"
    return text


@cli.command()
@session_options
@socket_option
@click.argument("approval_id")
@click.option("--edit", "edit", default=None, metavar="TEXT", help="Run this text instead.")
@click.option("--similar", is_flag=True, help="Also add an allow rule for similar commands.")
def approve(
    data_dir: Path | None,
    session: str,
    socket: Path | None,
    approval_id: str,
    edit: str | None,
    similar: bool,
) -> None:
    """Approve pending command APPROVAL_ID (optionally edited, optionally as a rule).

    --similar also adds an allow rule for commands like it (see `rules list`).
    """
    with operator(data_dir, session, socket) as c:
        if similar:
            if edit is not None:
                raise click.UsageError("--similar and --edit cannot be combined")
            reply = call(lambda: c.request("approve_similar", approval_id=approval_id))
            rule = reply.get("rule") or {}
            click.echo(
                f"approved {approval_id}; added rule {describe_rule(reply['rule_id'], rule)}"
            )
            return
        reply = call(lambda: c.request("approve", approval_id=approval_id, command=edit))
    click.echo(f"approved {approval_id}")
    if reply.get("nobody_waiting"):
        click.echo(f"agentshell: {reply.get('note') or 'nobody waits for the output'}", err=True)


@cli.command()
@session_options
@socket_option
@click.argument("approval_id")
@click.option("--reason", default="", help="Sent back to the agent.")
def reject(
    data_dir: Path | None, session: str, socket: Path | None, approval_id: str, reason: str
) -> None:
    """Reject pending command APPROVAL_ID; the agent gets the --reason."""
    with operator(data_dir, session, socket) as c:
        call(lambda: c.reject(approval_id, reason))
    click.echo(f"rejected {approval_id}")


@cli.group()
def rules() -> None:
    """List, add and revoke approval rules (allow / ask / deny)."""


@rules.command("list")
@session_options
@socket_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rules_list(data_dir: Path | None, session: str, socket: Path | None, as_json: bool) -> None:
    """List the rules in force (deny beats ask beats allow)."""
    with operator(data_dir, session, socket) as c:
        items = call(lambda: c.request("rules")["rules"])
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    if not items:
        click.echo("no rules")
    for r in items:
        scope = r["scope"] + (f"={r['scope_value']}" if r["scope_value"] else "")
        click.echo(
            f"{r['rule_id']}  {r['action']:<5} {r['kind']:<6} {printable(scope):<16}"
            f" {printable(r['pattern'])}"
        )


@rules.command("add")
@session_options
@socket_option
@click.argument("action", type=click.Choice(["allow", "ask", "deny"]))
@click.argument("kind", type=click.Choice(["exact", "prefix", "glob"]))
@click.argument("pattern")
@click.option("--agent", default=None, help="Only for this agent.")
@click.option("--terminal", default=None, help="Only for this terminal.")
def rules_add(
    data_dir: Path | None,
    session: str,
    socket: Path | None,
    action: str,
    kind: str,
    pattern: str,
    agent: str | None,
    terminal: str | None,
) -> None:
    """Add an ACTION rule matching commands by KIND and PATTERN.

    ACTION: allow runs matching commands without asking, ask always asks, deny
    rejects them at once; deny beats ask beats allow. KIND: exact (the whole command
    line), prefix (leading words), glob (over the argument list). Scope: the whole
    session unless --agent or --terminal. Example:
    `agentshell rules add allow prefix "git status"`.
    """
    if agent and terminal:
        raise click.UsageError("a rule has one scope: --agent or --terminal")
    scope, value = (
        ("agent", agent) if agent else ("terminal", terminal) if terminal else ("session", "")
    )
    with operator(data_dir, session, socket) as c:
        r = call(
            lambda: c.request(
                "rule_add",
                action=action,
                kind=kind,
                pattern=pattern,
                scope=scope,
                scope_value=value,
            )
        )
        warning = unknown_scope_warning(c, scope, value)
    click.echo(r["rule_id"])
    if warning:
        click.echo(warning, err=True)


def unknown_scope_warning(client: Any, scope: str, value: str) -> str:
    """A warning when a rule's agent or terminal is not in the session (yet), else "".

    Such a rule is kept (it may be made before the agent exists); the warning catches
    a typo. Nothing is said when the server cannot list them.
    """
    from agentshell.core.errors import AgentShellError

    if scope not in ("agent", "terminal"):
        return ""
    try:
        if scope == "agent":
            known = [str(a.get("agent_id", "")) for a in client.request("agents")["agents"]]
        else:
            known = [str(t.get("name", "")) for t in client.request("terminals")["terminals"]]
    except (AgentShellError, KeyError, TypeError, AttributeError):
        return ""
    if value in known:
        return ""
    names = ", ".join(sorted(known)) or "none"
    plural = "agents" if scope == "agent" else "terminals"
    return (
        f"warning: no {scope} {value!r} in this session ({plural}: {names}); "
        f"the rule applies once there is one"
    )


@rules.command("revoke")
@session_options
@socket_option
@click.argument("rule_id")
def rules_revoke(data_dir: Path | None, session: str, socket: Path | None, rule_id: str) -> None:
    """Revoke rule RULE_ID (see `agentshell rules list`)."""
    with operator(data_dir, session, socket) as c:
        call(lambda: c.request("rule_revoke", rule_id=rule_id))
    click.echo(f"revoked {rule_id}")
