"""Recordings whose terminals have names new terminals may no longer take still replay.

Before terminal names were checked, a session could open `web.server`, `bad/name`,
a name with a newline or an escape code; the SVG screenshot (a widget id per
terminal) and the cast export (a file per terminal) must derive safe forms.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from click.testing import CliRunner

from agentshell.cli import commands  # noqa: F401  (registers subcommands)
from agentshell.cli.main import cli
from agentshell.core import events as ev
from agentshell.replay.cast import cast_paths, file_part
from agentshell.replay.timeline import Timeline
from agentshell.store.session import SessionManager

from .sessions import T0

ODD = ["web.server", "bad/name", "a\nb", "\x1b[31mred", "x" * 300, "bad_name", ""]


def write_odd_session(data_dir: Path) -> Path:
    with SessionManager("odd", data_dir) as sm:
        t = T0
        for i, name in enumerate(["main", *ODD]):
            t += 1
            sm.append(
                dataclasses.replace(
                    ev.TerminalOpened(terminal=name, columns=30, lines=6), timestamp=t
                )
            )
            sm.append(
                dataclasses.replace(
                    ev.TerminalOutput(terminal=name, data=f"out-{i}\r\n".encode()),
                    timestamp=t + 0.5,
                )
            )
    return data_dir / "odd"


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["replay", *args])
    return r.exit_code, r.output


def test_cast_export_writes_one_safe_distinct_file_per_terminal(tmp_path: Path) -> None:
    session = write_odd_session(tmp_path / "data")
    out_dir = tmp_path / "out"
    code, text = run(str(session), "--cast", str(out_dir / "multi.cast"))
    assert code == 0, text
    files = sorted(out_dir.iterdir())
    assert len(files) == 1 + len(ODD)  # nothing written outside, nothing overwritten
    assert all(f.parent == out_dir and f.suffix == ".cast" for f in files)
    assert {"multi-main.cast", "multi-web.server.cast", "multi-bad_name.cast"} <= {
        f.name for f in files
    }
    outputs = set()
    for f in files:
        lines = f.read_text(encoding="utf-8").splitlines()
        json.loads(lines[0])
        outputs.add("".join(json.loads(x)[2] for x in lines[1:]))
    assert outputs == {f"out-{i}\r\n" for i in range(1 + len(ODD))}


def test_cast_paths_stay_distinct_when_a_safe_form_meets_a_plain_name(tmp_path: Path) -> None:
    crafted = file_part("bad/name")  # a plain name equal to another's safe form
    assert crafted != "bad_name" and crafted.startswith("bad_name-")
    tl = Timeline(write_odd_session(tmp_path / "data"))
    paths = cast_paths(tl, tmp_path / "o.cast", None)
    assert len(set(paths.values())) == len(paths)
    assert len(file_part("x" * 5000)) < 64


def test_svg_screenshot_at_the_end(tmp_path: Path) -> None:
    session = write_odd_session(tmp_path / "data")
    out = tmp_path / "shot.svg"
    code, text = run(str(session), "--svg", str(out), "--at", "end")
    assert code == 0, text
    assert out.read_text().startswith("<svg")
