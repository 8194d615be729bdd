"""The operator token of a session served through NATS, shared by its coordinators and
its remote operators.

A served session's operator token is otherwise made fresh by each coordinator (and
written beside its socket): a standby that takes over would then refuse the remote
operators of the old leader. ``--operator-token-file FILE`` gives every coordinator
of the session (leader and standbys, on any machine) and every remote ``agentshell
tui --nats`` the same token: copy the file to each machine (mode 0600).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

ENV = "AGENTSHELL_OPERATOR_TOKEN"

TOKEN_FILE_HELP = (
    "File holding the session's operator token (one line). Give the same file to the"
    " leader and every standby, and to remote operators (agentshell tui --nats):"
    " they then keep working through a failover. Created (0600) when missing."
)


def token_file_option(help: str = TOKEN_FILE_HELP) -> Callable[[F], F]:
    """``--operator-token-file FILE`` (the parameter ``token_file``)."""
    return click.option(
        "--operator-token-file",
        "token_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        metavar="FILE",
        help=help,
    )


def read_token_file(path: Path, what: str = "operator token file") -> str:
    """The first line of ``path`` (a token), or a clear error naming ``what`` it is."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise click.ClickException(
            f"cannot read the {what} {path}: {exc.strerror or exc}"
        ) from None
    if not text:
        raise click.ClickException(f"the {what} {path} is empty")
    return text.splitlines()[0].strip()


def serving_token(path: Path | None) -> str | None:
    """The token a coordinator serves with: read from ``path``, which is made (with a
    new random token, mode 0600) when it does not exist; None without a path."""
    if path is None:
        return None
    if not path.exists():
        from agentshell.server.paths import write_private_file

        try:
            write_private_file(path, secrets.token_urlsafe(32) + "\n")
        except OSError as exc:
            raise click.ClickException(
                f"cannot write the operator token file {path}: {exc.strerror or exc}"
            ) from None
        click.echo(f"agentshell: wrote a new operator token to {path}", err=True)
    return read_token_file(path)


def operator_token(path: Path | None) -> str:
    """The token a remote operator says hello with: ``path``'s, else $AGENTSHELL_OPERATOR_TOKEN."""
    if path is not None:
        return read_token_file(path)
    env = os.environ.get(ENV, "").strip()
    if env:
        return env
    raise click.ClickException(
        "the session's operator token is needed: pass --operator-token-file FILE (the"
        " file its coordinators serve with, `cluster serve --operator-token-file FILE`)"
        f" or set ${ENV}"
    )
