"""`agentshell hook` (one vendor tool-call hook: stdin JSON in, the vendor's answer
out) and `agentshell hooks install|uninstall|status` (the vendors' configs that call
it). See docs/vendors.md."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from agentshell.cli.main import cli
from agentshell.cli.options import session_options

VENDOR = click.Choice(["claude", "codex", "gemini"])


@cli.command(
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def hook(args: tuple[str, ...]) -> None:
    """Answer one tool-call hook of Claude Code, Codex CLI or Gemini CLI.

    \b
    agentshell hook --vendor claude|codex|gemini [--event EVENT] [--socket PATH]
                    [--session NAME [--dir DIR]] [--timeout SECONDS] [--fail-open]

    The hook's JSON comes on stdin, the vendor's answer goes to stdout. Installed
    configs call the same entry as `python -m agentshell.bridges.hooks` (faster to
    start). `agentshell hook --help` lists the options.
    """
    from agentshell.bridges.hooks.entry import main

    sys.exit(main(list(args)))


def _where(project: Path | None, user: bool) -> Path | None:
    if user and project is not None:
        raise click.UsageError("give --project DIR or --user, not both")
    if user:
        return None
    return (project or Path.cwd()).resolve()


F = TypeVar("F", bound=Callable[..., Any])


def _scope_options(f: F) -> F:
    f = click.option("--user", is_flag=True, help="The user's settings file.")(f)
    f = click.option(
        "--project",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        metavar="DIR",
        help="The project's settings file [default: the current directory's].",
    )(f)
    return f


def _check_data_dir(path: Path) -> None:
    """A --dir that can hold sessions (or be made): the nearest existing part of it is a
    directory. Checked before any file is written."""
    probe = path.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise click.ClickException(
            f"the data directory {path} cannot be used: {probe} is not a directory"
        )


@cli.group()
def hooks() -> None:
    """Install, remove and inspect the vendor hooks that call `agentshell hook`."""


@hooks.command("install")
@click.argument("vendor", type=VENDOR)
@_scope_options
@click.option(
    "--mode",
    type=click.Choice(["permission", "pretooluse"]),
    default=None,
    help="permission: only what the vendor would ask its human goes to the queue"
    " (PermissionRequest; default for claude and codex); pretooluse: every shell call"
    " (PreToolUse / BeforeTool; the only mode for gemini, and the one for codex exec).",
)
@click.option(
    "--socket",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The session's socket, written into the hook command [default: none written:"
    " the hook uses $AGENTSHELL_SOCKET, else the default socket of --session].",
)
@session_options(
    session_default=None,
    session_help="The session whose socket the hook uses (the one its server recorded"
    " under --dir, else its default socket) [default: default].",
    dir_help="Data directory holding the session, written into the hook command with"
    " --session [default: not written: the default socket of the session].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=None,
    help="The vendor's hook timeout in seconds, written into its config; the hook answers"
    " before it and a waiting item expires [default: 600].",
)
def hooks_install(
    vendor: str,
    project: Path | None,
    user: bool,
    mode: str | None,
    socket: Path | None,
    data_dir: Path | None,
    session: str | None,
    timeout: float | None,
) -> None:
    """Make VENDOR's hooks call `agentshell hook` (merged into its settings)."""
    from agentshell.bridges.install import InstallError, install

    where = _where(project, user)
    if data_dir is not None:
        _check_data_dir(data_dir)
    try:
        rep = install(
            vendor,
            where,
            mode=mode,
            socket=socket.resolve() if socket is not None else None,
            session=session,
            data_dir=data_dir.resolve() if data_dir is not None and session else None,
            timeout=timeout,
        )
    except InstallError as exc:
        raise click.ClickException(str(exc)) from None
    verb = "installed" if rep.changed else "already installed (nothing changed)"
    click.echo(f"{vendor}: {verb} in {rep.path}: {', '.join(rep.entries)}")
    if rep.backup is not None and rep.changed:
        click.echo(f"  the file as it was: {rep.backup}")
    for note in rep.notes:
        click.echo(f"  {note}")


@hooks.command("uninstall")
@click.argument("vendor", type=VENDOR)
@_scope_options
def hooks_uninstall(vendor: str, project: Path | None, user: bool) -> None:
    """Remove only our entries from VENDOR's settings (the rest stays)."""
    from agentshell.bridges.install import InstallError, uninstall

    try:
        rep = uninstall(vendor, _where(project, user))
    except InstallError as exc:
        raise click.ClickException(str(exc)) from None
    if rep.changed:
        click.echo(f"{vendor}: removed from {rep.path}: {', '.join(rep.entries)}")
    else:
        click.echo(f"{vendor}: nothing of ours in {rep.path}")


@hooks.command("status")
@click.argument("vendor", type=VENDOR, required=False)
@_scope_options
def hooks_status(vendor: str | None, project: Path | None, user: bool) -> None:
    """Say what is installed where (both files unless --project or --user); for codex,
    ask Codex whether it will really run the hooks."""
    from agentshell.bridges.install import VENDORS, InstallError, status

    scopes: list[Path | None]
    if user or project is not None:
        scopes = [_where(project, user)]
    else:
        scopes = [Path.cwd().resolve(), None]
    for v in [vendor] if vendor else list(VENDORS):
        for scope in scopes:
            try:
                rep = status(v, scope)
            except InstallError as exc:
                click.echo(f"{v}: {exc}")
                continue
            if rep.entries:
                click.echo(f"{v}: installed in {rep.path}: {', '.join(rep.entries)}")
            else:
                click.echo(f"{v}: not installed in {rep.path}")
            for note in rep.notes:
                click.echo(f"  {note}")
