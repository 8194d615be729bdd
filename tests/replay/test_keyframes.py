"""Screen keyframes: seeking starts from a copy of a recent emulator, and shows
exactly what feeding the whole recording from the terminal's start shows."""

from __future__ import annotations

import bisect
import random
from pathlib import Path

import pytest

from agentshell.core import events as ev
from agentshell.replay import timeline as tl_mod
from agentshell.replay.timeline import Timeline
from agentshell.store.session import SessionManager
from agentshell.terminal.emulator import Emulator
from tests.terminal.test_clone import state

#: Small keyframe spacing, so that a few hundred kB of output holds many keyframes.
SPACING = 4096


def _chunk(rnd: random.Random) -> bytes:
    """Output as shells and full-screen programs write it, cut anywhere (inside
    escape sequences and UTF-8 characters too)."""
    pieces = []
    for _ in range(rnd.randint(1, 12)):
        k = rnd.random()
        if k < 0.5:
            words = " ".join(rnd.choice(["make", "ok", "café", "中文", "error"]) for _ in range(6))
            pieces.append(f"\x1b[3{rnd.randint(0, 7)}m{words}\x1b[0m\r\n")
        elif k < 0.6:
            pieces.append("\x1b7\x1b[2;5H\x1b[1mstatus\x1b8")
        elif k < 0.7:
            pieces.append(f"\x1b[?1049h\x1b[H\x1b[2Jfull screen {rnd.random()}\x1b[?1049l")
        elif k < 0.8:
            pieces.append("progress 10%\rprogress 99%\r\n")
        elif k < 0.9:
            pieces.append("\x1b]0;title\x07\x1b[3;1r\x1bD\x1b[r\t\ttab\r\n")
        else:
            pieces.append(
                "".join(f"{i:05d} plain log line\r\n" for i in range(rnd.randint(50, 400)))
            )
    data = "".join(pieces).encode()
    cut = rnd.randint(0, len(data))
    return data[:cut] + data[cut:]


def record(data_dir: Path, seed: int = 5, events: int = 400) -> Path:
    rnd = random.Random(seed)
    with SessionManager("rec", data_dir) as sm:
        sm.append_buffered(ev.TerminalOpened(terminal="main", columns=40, lines=10))
        sm.append_buffered(ev.TerminalOpened(terminal="side", columns=30, lines=6))
        for i in range(events):
            k = rnd.random()
            term = "main" if rnd.random() < 0.8 else "side"
            if i == events // 2:  # the shell exits and a new one starts: a reset
                sm.append_buffered(ev.TerminalClosed(terminal="main", exit_status=0))
                sm.append_buffered(ev.TerminalOpened(terminal="main", columns=50, lines=12))
            elif k < 0.05:
                cols, lines = rnd.randint(20, 60), rnd.randint(5, 15)
                sm.append_buffered(ev.TerminalResized(terminal=term, columns=cols, lines=lines))
            elif k < 0.1:
                sm.append_buffered(ev.AgentStatusChanged(agent_id="bot", status="working"))
            else:
                sm.append_buffered(ev.TerminalOutput(terminal=term, data=_chunk(rnd)))
        sm.flush()
    return data_dir / "rec"


@pytest.fixture
def fed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every chunk fed to any emulator from now on."""
    sizes: list[int] = []
    real_feed = Emulator.feed

    def counting_feed(self: Emulator, data: bytes) -> None:
        sizes.append(len(data))
        real_feed(self, data)

    monkeypatch.setattr(Emulator, "feed", counting_feed)
    return sizes


def screens(tl: Timeline, pos: int) -> dict[str, object]:
    _, got = tl.seek(pos)
    return {name: state(em) for name, em in got.items()}


def fed_from_the_start(tl: Timeline, pos: int) -> dict[str, object]:
    """The oracle: each terminal's recorded events before ``pos`` applied to fresh
    emulators one by one (every track here starts with its terminal_opened)."""
    out: dict[str, object] = {}
    for name, track in tl.tracks.items():
        k = bisect.bisect_left(track.index, pos)
        em: Emulator | None = None
        for kind, value in zip(track.kinds[:k], track.values[:k], strict=True):
            if kind == "reset":
                em = Emulator(*value)
            elif kind == "resize":
                assert em is not None
                em.resize(*value)
            elif kind == "output":
                assert em is not None
                em.feed(value)
        if em is not None:
            out[name] = state(em)
    return out


def test_seeks_from_keyframes_show_what_feeding_from_the_start_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdir = record(tmp_path)
    index = Timeline(sdir)
    n = len(index)
    main = index.tracks["main"]
    reopened = main.index[main.resets[-1]]  # the record of the second terminal_opened
    rnd = random.Random(11)
    positions = [n, n - 1, reopened + 1, reopened, reopened - 1, n, 3]
    positions += [reopened, *rnd.sample(range(n + 1), 14)]
    expected = [fed_from_the_start(index, p) for p in positions]
    monkeypatch.setattr(tl_mod, "KEYFRAME_BYTES", SPACING)
    tl = Timeline(sdir)
    got = [screens(tl, p) for p in positions]
    assert tl.keyframe_count > 20
    for p, want, have in zip(positions, expected, got, strict=True):
        assert have == want, f"screens differ at position {p} of {n}"


def test_a_step_back_feeds_only_the_output_after_a_keyframe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fed: list[int]
) -> None:
    sdir = record(tmp_path, seed=8)
    monkeypatch.setattr(tl_mod, "KEYFRAME_BYTES", SPACING)
    tl = Timeline(sdir)
    n = len(tl)
    tl.seek(n)
    total = sum(fed)
    biggest = max(
        len(v)
        for t in tl.tracks.values()
        for kind, v in zip(t.kinds, t.values, strict=True)
        if kind == "output"
    )
    for back in (1, 7, 40):
        fed.clear()
        tl.seek(n - back)
        # at most one keyframe's spacing per terminal, plus the event that crossed it
        assert sum(fed) <= len(tl.tracks) * (SPACING + biggest), (back, sum(fed), total)
        tl.seek(n)
    assert sum(fed) < total / 10


def test_seek_cost_counts_what_a_seek_feeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fed: list[int]
) -> None:
    sdir = record(tmp_path, seed=9)
    monkeypatch.setattr(tl_mod, "KEYFRAME_BYTES", SPACING)
    tl = Timeline(sdir)
    n = len(tl)
    total = tl.output_bytes(0, n)
    for target in (n, 3, n - 1, n // 2, n, 0, n):
        cost = tl.seek_cost(target)
        fed.clear()
        tl.seek(target)
        assert sum(fed) == cost, (target, sum(fed), cost)
    assert tl.seek_cost(n) == 0  # there already
    tl.seek(0)
    assert 0 < tl.seek_cost(n) <= len(tl.tracks) * (SPACING + 64 * 1024) < total


def test_recorded_output_is_kept_as_views_of_the_mapped_log(tmp_path: Path) -> None:
    from agentshell.store.framing import encode_record

    sdir = record(tmp_path, events=30)
    # a record laid out otherwise (its data not last): kept as the decoded copy
    odd = ev.TerminalOutput(terminal="side", data=b"odd-layout\r\n", seq=10_000).to_record()
    odd["p"] = {"data": odd["p"]["data"], "terminal": "side"}
    with open(sdir / "events.log", "ab") as f:
        f.write(encode_record(odd))
    tl = Timeline(sdir)
    outputs = [
        v
        for t in tl.tracks.values()
        for kind, v in zip(t.kinds, t.values, strict=True)
        if kind == "output"
    ]
    assert len(outputs) > 20
    assert all(isinstance(v, memoryview) for v in outputs[:-1])  # no copies
    assert outputs[-1] == b"odd-layout\r\n" and isinstance(outputs[-1], bytes)
    _, got = tl.seek(len(tl))
    assert "odd-layout" in "\n".join(got["side"].display)


def test_a_log_that_cannot_be_mapped_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdir = record(tmp_path, events=30)
    mapped = Timeline(sdir)

    def no_mmap(*args: object, **kwargs: object) -> None:
        raise OSError(19, "No such device")

    monkeypatch.setattr(tl_mod.mmap, "mmap", no_mmap)
    read = Timeline(sdir)
    assert isinstance(read.data, bytes) and len(read) == len(mapped)
    assert screens(read, len(read)) == screens(mapped, len(mapped))
