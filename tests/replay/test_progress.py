"""Opening a long recording reports how far its index pass got."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from agentshell.cli import progress
from agentshell.replay import timeline as timeline_mod
from agentshell.replay.timeline import Timeline
from tests.replay.sessions import write_session


def test_index_pass_reports_bytes_read_up_to_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdir = write_session(tmp_path)
    size = (sdir / "events.log").stat().st_size
    monkeypatch.setattr(timeline_mod, "PROGRESS_STEP", 64)
    calls: list[tuple[int, int]] = []
    tl = Timeline(sdir, progress=lambda done, total: calls.append((done, total)))
    assert len(calls) > 5
    assert all(total == size for _, total in calls)
    dones = [d for d, _ in calls]
    assert dones[0] >= 64  # at most one report a step (a frame may span several)
    assert all(b - a >= 64 for a, b in itertools.pairwise(dones[:-1]))
    assert calls[-1] == (size, size)  # finished: the last report says so
    assert len(tl) == len(Timeline(sdir))  # reporting changes nothing in the index


def test_short_recording_reports_only_the_end(tmp_path: Path) -> None:
    sdir = write_session(tmp_path)
    size = (sdir / "events.log").stat().st_size
    calls: list[tuple[int, int]] = []
    Timeline(sdir, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(size, size)]


def test_replay_command_draws_one_progress_line_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: False)
    assert progress.progress_line("reading the recording") is None  # pipes and logs: none
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: True)
    show = progress.progress_line("reading the recording")
    assert show is not None
    show(25 << 20, 100 << 20)
    show(50 << 20, 100 << 20)
    show(100 << 20, 100 << 20)
    err = capsys.readouterr().err
    assert "\rreading the recording: 25% of 105 MB" in err
    assert "\rreading the recording: 50% of 105 MB" in err
    assert err.endswith("\r\x1b[K")  # cleared once done
