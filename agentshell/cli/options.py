"""Options shared by every command that works on a session."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, overload

import click
import platformdirs

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SESSION = "default"


def default_data_dir() -> Path:
    """Where sessions live unless --dir says otherwise ($AGENTSHELL_DIR overrides)."""
    env = os.environ.get("AGENTSHELL_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("agentshell")) / "sessions"


def check_session(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback: ``value`` unless it is not a plain session name (``../x``, ``a/b``).

    Every command checks the name before it builds a path from it, including the
    ones that only look up the session's socket.
    """
    from agentshell.core.errors import InvalidNameError
    from agentshell.store.session import check_name

    if value is None:
        return None
    try:
        return check_name(value)
    except InvalidNameError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


DIR_HELP = (
    "Data directory holding sessions [default: the user's data directory, or $AGENTSHELL_DIR]."
)


@overload
def session_options(f: F) -> F: ...


@overload
def session_options(
    *, session_default: str | None = ..., session_help: str = ..., dir_help: str = ...
) -> Callable[[F], F]: ...


def session_options(
    f: F | None = None,
    *,
    session_default: str | None = DEFAULT_SESSION,
    session_help: str = "Session name.",
    dir_help: str = DIR_HELP,
) -> F | Callable[[F], F]:
    """Add ``--dir DIR`` and ``--session NAME`` (passed as ``data_dir``, ``session``).

    Used bare (``@session_options``) or with the default and help texts a command
    needs (``@session_options(session_default=None, session_help=...)``).
    """

    def add(f: F) -> F:
        f = click.option(
            "--session",
            "session",
            default=session_default,
            show_default=session_default is not None,
            metavar="NAME",
            help=session_help,
            callback=check_session,
        )(f)
        f = click.option(
            "--dir",
            "data_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            metavar="DIR",
            help=dir_help,
        )(f)
        return f

    return add(f) if f is not None else add


def resolve_data_dir(data_dir: Path | None) -> Path:
    return data_dir if data_dir is not None else default_data_dir()
