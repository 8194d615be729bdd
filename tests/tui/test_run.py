"""`agentshell tui` around the app: what it prints when the operator quits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agentshell.cli import commands  # noqa: F401  (registers subcommands)
from agentshell.cli.main import cli
from agentshell.tui import run


@pytest.fixture
def no_app(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`run_tui` replaced: the command returns at once, as if the operator quit."""
    calls: list[dict[str, Any]] = []

    async def fake_run_tui(**kwargs: Any) -> None:
        calls.append(kwargs)

    monkeypatch.setattr(run, "run_tui", fake_run_tui)
    monkeypatch.delenv("AGENTSHELL_SOCKET", raising=False)
    return calls


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_exit_hint_repeats_dir_and_socket(no_app: list[dict[str, Any]], tmp_path: Path) -> None:
    data, sock = tmp_path / "my data", tmp_path / "s.sock"
    args = ["tui", "--session", "s2", "--dir", str(data), "--socket", str(sock)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert no_app[0]["data_dir"] == data
    hint = f"agentshell tui --session s2 --dir '{data}' --socket {sock}"
    assert last_line(result.output) == f"Session 's2' saved; `{hint}` reopens it."


def test_exit_hint_without_dir(no_app: list[dict[str, Any]], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["tui", "--session", "s2"], env={"AGENTSHELL_DIR": ""})
    assert result.exit_code == 0, result.output
    assert (
        last_line(result.output) == "Session 's2' saved; `agentshell tui --session s2` reopens it."
    )
