"""Every command taking --session refuses a name that is not plain, before it builds a path.

A clean `Error:` line and exit code 2, never a traceback, and never a look-up outside
the data directory (`approvals --session ../x` used to look for `<dir>/../x/server.socket`).
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from agentshell.cli import commands  # noqa: F401  (registers subcommands)
from agentshell.cli.main import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            out += _commands(cmd, (*prefix, name))
        elif any(p.name == "session" for p in cmd.params):
            out.append((*prefix, name))
    return out


def _required_args(path: tuple[str, ...]) -> list[str]:
    cmd: click.Command = cli
    for name in path:
        assert isinstance(cmd, click.Group)
        cmd = cmd.commands[name]
    args: list[str] = []
    for p in cmd.params:
        if not p.required:
            continue
        if p.nargs == -1:
            args += ["--", "echo"]
        elif isinstance(p.type, click.Choice):
            args.append(str(p.type.choices[0]))
        else:
            args.append("x1")
    return args


COMMANDS = _commands(cli)


def test_the_commands_with_a_session_option_are_all_here() -> None:
    names = {" ".join(c) for c in COMMANDS}
    assert {"demo", "approvals", "approve", "run", "log", "replay", "serve", "tui"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", ""])
def test_a_bad_session_name_is_a_clean_error(
    path: tuple[str, ...], name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTSHELL_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("AGENTSHELL_SOCKET", raising=False)
    args = [*path, "--dir", str(tmp_path / "data"), "--session", name, *_required_args(path)]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2, (r.output, r.exception)
    assert isinstance(r.exception, SystemExit)  # no traceback
    assert "Error: Invalid value for '--session'" in r.output
    assert "is not a plain name" in r.output
    assert not (tmp_path / "evil").exists() and not (tmp_path / "data").exists()


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_a_data_directory_that_cannot_be_made_is_a_clean_error(
    path: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--dir` under a file (or a missing read-only place): an `Error:` line that
    names the problem, never a traceback (tui, serve and agent add printed one)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    data = blocker / "data"
    monkeypatch.setenv("AGENTSHELL_DIR", str(data))
    monkeypatch.delenv("AGENTSHELL_SOCKET", raising=False)
    args = [*path, "--dir", str(data), "--session", "s", *_required_args(path)]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code in (1, 2), (r.output, r.exception)
    assert isinstance(r.exception, SystemExit), r.exception  # no traceback
    # an agent's `run` says first what it lacks (no agent, no token), in its own words
    assert "Error:" in r.output or r.output.startswith("agentshell run:")
