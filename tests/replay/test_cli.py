"""`agentshell replay` on small recorded sessions: paths, cast files, idle cap."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentshell.cli import commands  # noqa: F401  (registers subcommands)
from agentshell.cli.main import cli
from agentshell.replay.timeline import Timeline

from .sessions import write_session


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["replay", *args])
    return result.exit_code, result.output


def events(path: Path) -> tuple[dict[str, object], list[list[object]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(x) for x in lines[1:]]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing", "does not exist"),
        (lambda d: d, "no recorded session"),
        (lambda d: (d / "file.txt", (d / "file.txt").write_text("x"))[0], "is not a directory"),
    ],
)
def test_bad_paths_fail_clearly(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    code, out = run(str(make(tmp_path)), "--cast", str(tmp_path / "o.cast"))
    assert code != 0
    assert message in out
    assert "Traceback" not in out


def test_a_data_dir_with_two_sessions_needs_a_name(tmp_path: Path) -> None:
    write_session(tmp_path, "one")
    write_session(tmp_path, "two")
    code, out = run(str(tmp_path), "--cast", str(tmp_path / "o.cast"))
    assert code != 0 and "several sessions" in out and "--session" in out
    code, out = run(str(tmp_path), "--session", "two", "--cast", str(tmp_path / "o.cast"))
    assert code == 0, out
    code, out = run("--dir", str(tmp_path), "--session", "nope", "--cast", str(tmp_path / "o.cast"))
    assert code != 0 and "no session 'nope'" in out


def test_one_cast_per_terminal_unless_one_is_chosen(tmp_path: Path) -> None:
    session = write_session(tmp_path / "data")
    code, out = run(str(tmp_path / "data"), "--cast", str(tmp_path / "out.cast"))
    assert code == 0, out
    assert sorted(p.name for p in tmp_path.glob("*.cast")) == ["out-build.cast", "out-main.cast"]
    head, evs = events(tmp_path / "out-build.cast")
    assert (head["width"], head["height"]) == (30, 8)
    assert "".join(str(e[2]) for e in evs if e[1] == "o") == "building...\r\ndone\r\n"
    code, out = run(str(session), "--cast", str(tmp_path / "only.cast"), "--terminal", "main")
    assert code == 0, out
    assert (tmp_path / "only.cast").exists() and not list(tmp_path.glob("only-*.cast"))
    code, out = run(str(session), "--cast", str(tmp_path / "x.cast"), "--terminal", "nope")
    assert code != 0 and "no terminal 'nope'" in out


def test_cast_output_is_whole_utf8_with_markers_and_capped_gaps(tmp_path: Path) -> None:
    session = write_session(tmp_path / "data", two_terminals=False)
    for limit in ("2", "0.5"):
        out = tmp_path / f"c{limit}.cast"
        code, text = run(str(session), "--cast", str(out), "--idle-limit", limit)
        assert code == 0, text
        head, evs = events(out)
        assert head["version"] == 2 and (head["width"], head["height"]) == (40, 10)
        output = "".join(str(e[2]) for e in evs if e[1] == "o")
        assert "café\r\ncafé" in output and "\ufffd" not in output
        marks = [str(e[2]) for e in evs if e[1] == "m"]
        assert marks == [
            "approved: bot $ ls",
            "rejected: bot $ rm -rf /",
            "conflict: x.py (bot vs human)",
        ]
        times = [float(e[0]) for e in evs]  # type: ignore[arg-type]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert times == sorted(times)
        assert max(gaps) == pytest.approx(float(limit))  # the 100 s gap, capped


def test_from_and_to_select_a_range(tmp_path: Path) -> None:
    session = write_session(tmp_path / "data", two_terminals=False)
    tl = Timeline(session)
    out = tmp_path / "part.cast"
    code, text = run(str(session), "--cast", str(out), "--to", "seq:7")
    assert code == 0, text
    _, evs = events(out)
    assert [e[2] for e in evs if e[1] == "m"] == ["approved: bot $ ls"]
    assert "still here" not in "".join(str(e[2]) for e in evs if e[1] == "o")
    assert tl.position_of_seq(7) == 7
    code, text = run(str(session), "--cast", str(out), "--from", "abc")
    assert code != 0 and "not a time" in text


def test_svg_screenshot_at_a_moment(tmp_path: Path) -> None:
    session = write_session(tmp_path / "data")
    out = tmp_path / "shot.svg"
    code, text = run(str(session), "--svg", str(out), "--at", "seq:7")
    assert code == 0, text
    svg = out.read_text()
    assert svg.startswith("<svg") and "caf" in svg and "#7/" in svg.replace("&#160;", " ")


def test_demo_refuses_to_overwrite_a_session(tmp_path: Path) -> None:
    write_session(tmp_path, "taken")
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path), "--session", "taken"])
    assert result.exit_code != 0 and "already holds a session" in result.output


@pytest.fixture
def no_app(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The interactive replay app is never opened for real: calls are recorded."""
    from agentshell.replay import app

    opened: list[object] = []
    monkeypatch.setattr(app.ReplayApp, "run", lambda self, *a, **k: opened.append(self))
    return opened


@pytest.mark.parametrize(
    "args",
    [
        ["--at", "nan"],
        ["--at", "-3"],
        ["--at", "seq:-1"],
        ["--at", "seq:x"],
        ["--at", "1e309"],
        ["--at", "inf"],
        ["--from", "-1"],
        ["--to", "nan"],
    ],
)
def test_bad_positions_are_refused(tmp_path: Path, args: list[str]) -> None:
    session = write_session(tmp_path / "data")
    code, out = run(str(session), "--svg", str(tmp_path / "o.svg"), *args)
    assert code == 2, out
    assert f"Invalid value for '{args[0]}'" in out and "Traceback" not in out
    assert not (tmp_path / "o.svg").exists()


@pytest.mark.parametrize(("opt", "value"), [("--idle-limit", "-1"), ("--idle-limit", "nan")])
def test_a_negative_idle_limit_is_refused(tmp_path: Path, opt: str, value: str) -> None:
    session = write_session(tmp_path / "data")
    code, out = run(str(session), "--cast", str(tmp_path / "o.cast"), opt, value)
    assert code == 2 and "Invalid value for '--idle-limit'" in out, out
    assert not list(tmp_path.glob("*.cast"))


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_a_speed_that_is_not_positive_is_refused(
    tmp_path: Path, no_app: list[object], value: str
) -> None:
    code, out = run(str(write_session(tmp_path / "data")), "--speed", value)
    assert code == 2 and "Invalid value for '--speed'" in out, out
    assert no_app == []


def test_good_positions_still_work(tmp_path: Path) -> None:
    session = write_session(tmp_path / "data", two_terminals=False)
    for at in ("0", "1.5", "seq:0", "end", " 2 "):
        code, out = run(str(session), "--cast", str(tmp_path / "o.cast"), "--from", at)
        assert code == 0, (at, out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "seq:3"], "--at goes with --svg"),
        (["--terminal", "main"], "--terminal goes with --cast"),
        (["--idle-limit", "1"], "--idle-limit goes with --cast"),
        (["--idle-limit", "2.0"], "--idle-limit goes with --cast"),  # the default, but given
    ],
)
def test_options_of_an_export_alone_are_refused(
    tmp_path: Path, no_app: list[object], args: list[str], message: str
) -> None:
    session = write_session(tmp_path / "data")
    code, out = run(str(session), *args)
    assert code == 2 and message in out, out
    assert no_app == []
    # --at with --cast only (no --svg) is refused too
    code, out = run(str(session), "--cast", str(tmp_path / "o.cast"), "--at", "1")
    assert code == 2 and "--at goes with --svg" in out


def test_the_interactive_replay_still_opens(tmp_path: Path, no_app: list[object]) -> None:
    code, out = run(str(write_session(tmp_path / "data")), "--paused", "--speed", "2")
    assert code == 0, out
    assert len(no_app) == 1


def test_path_and_dir_together_are_refused(tmp_path: Path, no_app: list[object]) -> None:
    a = write_session(tmp_path / "a", "one")
    write_session(tmp_path / "b", "two")
    code, out = run(str(a), "--dir", str(tmp_path / "b"), "--session", "two")
    assert code == 2 and "PATH or --dir, not both" in out, out
    assert no_app == []


def test_dir_without_session_picks_the_only_one_like_path(tmp_path: Path) -> None:
    write_session(tmp_path / "data3", "only", two_terminals=False)
    for where in (["--dir", str(tmp_path / "data3")], [str(tmp_path / "data3")]):
        out = tmp_path / "o.cast"
        out.unlink(missing_ok=True)
        code, text = run(*where, "--cast", str(out))
        assert code == 0, (where, text)
        assert events(out)[0]["title"] == "AgentShell · only · main"
    write_session(tmp_path / "data3", "second", two_terminals=False)
    code, text = run("--dir", str(tmp_path / "data3"), "--cast", str(tmp_path / "x.cast"))
    assert code != 0 and "several sessions (only, second)" in text and "--session" in text


def test_no_path_and_no_dir_still_means_the_default_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_session(tmp_path, "default", two_terminals=False)
    write_session(tmp_path, "other", two_terminals=False)
    monkeypatch.setenv("AGENTSHELL_DIR", str(tmp_path))
    code, text = run("--cast", str(tmp_path / "d.cast"))
    assert code == 0, text
    assert events(tmp_path / "d.cast")[0]["title"] == "AgentShell · default · main"


def test_cast_and_svg_options_have_help() -> None:
    result = CliRunner().invoke(cli, ["replay", "--help"])
    assert result.exit_code == 0
    lines = result.output.split("Options:", 1)[1].splitlines()
    for opt in ("--cast", "--svg", "--at", "--idle-limit", "--terminal"):
        line = next(x for x in lines if x.strip().startswith(opt))
        assert len(line.split(maxsplit=2)) == 3, line  # option, metavar, help text


def _shell_session(data_dir: Path) -> Path:
    """Terminal ``a`` opened with bash (its output logged before the opened event, as
    the coordinator does), reopened with zsh; ``b`` recorded no shell."""
    import dataclasses

    from agentshell.core import events as ev
    from agentshell.store.session import SessionManager

    with SessionManager("sh", data_dir) as sm:
        t = 1_700_000_000.0
        for e in [
            ev.TerminalOutput(terminal="a", data=b"$ "),
            ev.TerminalOpened(terminal="a", columns=20, lines=5, shell="/bin/bash"),
            ev.TerminalOpened(terminal="b", columns=20, lines=5),
            ev.TerminalOutput(terminal="b", data=b"b$ "),
            ev.TerminalOutput(terminal="a", data=b"one\r\n"),
            ev.TerminalClosed(terminal="a"),
            ev.TerminalOpened(terminal="a", columns=20, lines=5, shell="/usr/bin/zsh"),
            ev.TerminalOutput(terminal="a", data=b"two\r\n"),
        ]:
            t += 1.0
            sm.append(dataclasses.replace(e, timestamp=t))
    return data_dir / "sh"


def test_cast_header_names_the_shell_the_terminal_ran(tmp_path: Path) -> None:
    session = _shell_session(tmp_path / "data")
    code, out = run(str(session), "--cast", str(tmp_path / "o.cast"))
    assert code == 0, out
    assert events(tmp_path / "o-a.cast")[0]["env"]["SHELL"] == "/bin/bash"  # type: ignore[index]
    assert events(tmp_path / "o-b.cast")[0]["env"]["SHELL"] == "/bin/sh"  # type: ignore[index]
    # from after the reopening: the second shell
    code, out = run(
        str(session), "--cast", str(tmp_path / "z.cast"), "--terminal", "a", "--from", "6.5"
    )
    assert code == 0, out
    head, evs = events(tmp_path / "z.cast")
    assert head["env"]["SHELL"] == "/usr/bin/zsh"  # type: ignore[index]
    assert [e[2] for e in evs if e[1] == "o"] == ["two\r\n"]
