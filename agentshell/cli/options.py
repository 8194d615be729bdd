"""Options shared by every command that works on a session."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

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


def session_options(f: F) -> F:
    """Add ``--dir DIR`` and ``--session NAME`` (passed as ``data_dir``, ``session``)."""
    f = click.option(
        "--session",
        "session",
        default=DEFAULT_SESSION,
        show_default=True,
        metavar="NAME",
        help="Session name.",
        callback=check_session,
    )(f)
    f = click.option(
        "--dir",
        "data_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        metavar="DIR",
        help="Data directory holding sessions [default: the user's data directory, "
        "or $AGENTSHELL_DIR].",
    )(f)
    return f


def resolve_data_dir(data_dir: Path | None) -> Path:
    return data_dir if data_dir is not None else default_data_dir()
