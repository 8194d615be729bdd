"""`agentshell demo`: the event count it prints is the log's, a run that did not settle fails."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from agentshell.cli import commands  # noqa: F401  (registers subcommands)
from agentshell.cli.main import cli
from agentshell.store.session import read_events


def demo(tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path), "--session", "d", *args])


def test_demo_prints_the_number_of_events_in_the_log_and_exits_0(tmp_path: Path) -> None:
    result = demo(tmp_path, "--timeout", "60")
    assert result.exit_code == 0, result.output
    assert "did not settle" not in result.stderr
    found = re.search(r"Session recorded in .* \((\d+) events\)", result.stdout)
    assert found, result.stdout
    logged = list(read_events(tmp_path / "d" / "events.log"))
    assert int(found.group(1)) == len(logged)
    # the count includes the events logged as the demo stops (agents disconnecting)
    assert logged[-1].event_type == "agent_status_changed"


def test_a_demo_that_did_not_settle_warns_and_exits_1(tmp_path: Path) -> None:
    result = demo(tmp_path, "--timeout", "0.5")
    assert result.exit_code == 1, result.output
    assert "warning: the demo did not settle within 0.5 s" in result.stderr
    assert "Session recorded in" in result.stdout  # what happened is still on disk
    assert (tmp_path / "d" / "events.log").is_file()


def test_demo_options_have_help() -> None:
    result = CliRunner().invoke(cli, ["demo", "--help"])
    assert result.exit_code == 0
    options = result.output.split("Options:", 1)[1].splitlines()
    for opt in ("--cast", "--timeout"):
        line = next(x for x in options if x.strip().startswith(opt))
        assert len(line.split(maxsplit=2)) == 3, line
