"""`agentshell screenshots`: the demo's SVGs, its recording replayed among them."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from agentshell.cli import commands  # noqa: F401  (registers subcommands)
from agentshell.cli.main import cli


def test_screenshots_of_the_demo_and_of_its_replay(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    r = CliRunner().invoke(cli, ["screenshots", "--out", str(out)])
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "approval-editor.svg",
        "conflicts.svg",
        "main.svg",
        "replay.svg",
        "vendors.svg",
    ]
    replay = (out / "replay.svg").read_text().replace("&#160;", " ")
    # the replay at the recording's end: the scrubber's counter reads N/N, with markers
    (n, total) = re.search(r"#(\d+)/(\d+)", replay).groups()  # type: ignore[union-attr]
    assert n == total and int(total) > 10
    assert "✓" in replay and "paused" in replay
