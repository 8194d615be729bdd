"""A seek through a lot of recorded output goes in steps: the app keeps drawing and
taking keys, says how far it got, and ends where it was asked to go."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from agentshell.core import events as ev
from agentshell.replay import app as app_mod
from agentshell.replay.app import ReplayApp
from agentshell.replay.timeline import Timeline
from agentshell.store.session import SessionManager
from agentshell.tui.widgets.terminal.grid import TerminalGrid

from .conftest import until
from .sessions import T0


def record(data_dir: Path, chunks: int = 400) -> Path:
    """Two terminals' output, ~2.4 MB in all, numbered so a screen says where it is."""
    rnd = random.Random(3)
    with SessionManager("long", data_dir) as sm:
        for name in ("main", "side"):
            sm.append_buffered(ev.TerminalOpened(terminal=name, columns=60, lines=12, timestamp=T0))
        for i in range(chunks):  # one a second
            name = "main" if i % 3 else "side"
            lines = b"".join(b"%08x filler line\r\n" % rnd.getrandbits(32) for _ in range(300))
            data = lines + b"AT-%d\r\n" % i
            sm.append_buffered(ev.TerminalOutput(terminal=name, data=data, timestamp=T0 + i))
            if i % 50 == 0:
                sm.append_buffered(
                    ev.AgentStatusChanged(agent_id="bot", status="working", timestamp=T0 + i)
                )
        sm.flush()
    return data_dir / "long"


def test_output_between_positions_and_the_position_after_some_output(tmp_path: Path) -> None:
    tl = Timeline(record(tmp_path, chunks=60))
    n = len(tl)
    sizes = [0] * n  # output bytes of each record, from the tracks themselves
    for track in tl.tracks.values():
        for i, kind, value in zip(track.index, track.kinds, track.values, strict=True):
            if kind == "output":
                sizes[i] += len(value)
    for a, b in [(0, n), (0, 1), (3, 40), (17, 18), (n - 5, n), (20, 20)]:
        assert tl.output_bytes(a, b) == sum(sizes[a:b]), (a, b)
    for start, want in [(0, 1), (0, 10_000), (5, 150_000), (30, 1), (n - 2, 10**9)]:
        p = tl.position_after_output(start, want)
        assert tl.output_bytes(start, p) >= want or p == n
        assert p == n or tl.output_bytes(start, p - 1) < want  # the first such position


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_mod, "LONG_SEEK_BYTES", 100_000)
    monkeypatch.setattr(app_mod, "SEEK_STEP_BYTES", 20_000)


def screen_text(app: ReplayApp, name: str) -> str:
    pane = app.query_one(TerminalGrid).pane(name)
    assert pane is not None
    return "\n".join(pane.screen_text())


@pytest.mark.usefixtures("small_steps")
async def test_a_long_seek_goes_in_steps_and_takes_keys_meanwhile(tmp_path: Path) -> None:
    tl = Timeline(record(tmp_path))
    app = ReplayApp(tl, autoplay=False)
    steps: list[tuple[int, float]] = []
    real_step = app._seek_step

    def step() -> None:
        steps.append((tl.position, app.speed))
        real_step()

    app._seek_step = step  # type: ignore[method-assign]
    async with app.run_test(size=(140, 40)) as pilot:
        # (a pilot's press waits for the app to be idle: the whole seek, so start it
        # as the End key does and look at once)
        app.action_seek_to(-1)
        assert app.seeking and app.pos == 0 and "seeking: 0% of 3 MB" in str(app.sub_title)
        await pilot.press("plus")  # handled between two steps
        await until(lambda: not app.seeking, timeout=30, what="the seek to finish")
        assert app.pos == len(tl) and "paused" in str(app.sub_title)
        assert "AT-399" in screen_text(app, "main") or "AT-399" in screen_text(app, "side")
        assert "AT-398" in screen_text(app, "main")
        assert len(steps) > 20
        assert [p for p, _ in steps] == sorted(p for p, _ in steps)  # always forward
        assert {s for _, s in steps} == {1.0, 2.0}  # the key came in mid-seek
        assert app.speed == 2.0


@pytest.mark.usefixtures("small_steps")
async def test_home_during_a_long_seek_goes_back_at_once(tmp_path: Path) -> None:
    tl = Timeline(record(tmp_path))
    app = ReplayApp(tl, autoplay=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("right")  # a first screen that differs from the start's
        await until(lambda: app.pos > 0)
        first = app.pos
        before = screen_text(app, "side")
        app.action_seek_to(-1)  # End (see above)
        await until(lambda: tl.position > first + 10, what="some steps")
        assert app.seeking
        app.action_seek_by(-5)  # back past the steps made: an ordinary seek
        assert not app.seeking
        assert app.pos < first + 10 and tl.position == app.pos
        await pilot.press("home")
        await until(lambda: app.pos == 0)
        await pilot.press("right")
        await until(lambda: app.pos == first)
        assert screen_text(app, "side") == before  # the steps left nothing behind


@pytest.mark.usefixtures("small_steps")
async def test_home_from_the_start_during_a_long_seek_shows_the_start_again(
    tmp_path: Path,
) -> None:
    tl = Timeline(record(tmp_path))
    app = ReplayApp(tl, autoplay=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        start = screen_text(app, "main")
        app.action_seek_to(-1)  # End (a pilot's press would wait for all of it)
        await until(lambda: tl.position > 20, what="some steps")
        app.action_seek_to(0)  # Home: where the app still is, but not the timeline
        assert not app.seeking and app.pos == 0 and tl.position == 0
        await pilot.pause()
        assert screen_text(app, "main") == start


@pytest.mark.usefixtures("small_steps")
async def test_a_screenshot_far_in_is_taken_there_not_on_the_way(tmp_path: Path) -> None:
    from agentshell.replay.shots import save_replay_svg

    tl = Timeline(record(tmp_path))
    out = tmp_path / "far.svg"
    assert await save_replay_svg(tl, len(tl), out) == out
    svg = out.read_text().replace("&#160;", " ")
    assert f"#{len(tl)}/{len(tl)}" in svg and "AT-398" in svg and "seeking" not in svg


@pytest.mark.usefixtures("small_steps")
async def test_a_seek_further_on_during_a_long_seek_goes_there(tmp_path: Path) -> None:
    tl = Timeline(record(tmp_path))
    app = ReplayApp(tl, autoplay=False)
    async with app.run_test(size=(140, 40)):
        app.seek(len(tl) // 2)  # a long seek to the middle
        assert app.seeking
        app.seek(len(tl) - 3)  # then further on, before it got there: one seek, retargeted
        assert app.seeking
        await until(lambda: not app.seeking, timeout=30, what="the seek to finish")
        assert app.pos == len(tl) - 3 == tl.position
