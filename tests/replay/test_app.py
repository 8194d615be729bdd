"""The replay app: play/pause, speed, step between decisions, seek; nothing can be decided."""

from __future__ import annotations

from pathlib import Path

from agentshell.replay.app import READ_ONLY, ReplayApp, Scrubber
from agentshell.replay.timeline import Timeline
from agentshell.tui.widgets.sidebar.approvals import ApprovalQueue
from agentshell.tui.widgets.terminal.grid import TerminalGrid

from .conftest import until
from .sessions import write_session


def screen_text(app: ReplayApp, name: str) -> str:
    pane = app.query_one(TerminalGrid).pane(name)
    assert pane is not None
    return "\n".join(pane.screen_text())


async def test_play_pause_step_and_seek(tmp_path: Path) -> None:
    tl = Timeline(write_session(tmp_path / "data"))
    approved, rejected, conflict = tl.markers
    app = ReplayApp(tl, autoplay=False, speed=1.0)
    async with app.run_test(size=(140, 40)) as pilot:
        assert app.pos == 0 and not app.playing
        # n/p step between decisions and pause
        await pilot.press("n")
        assert app.pos == approved.pos
        assert "café" in screen_text(app, "main")
        assert "still here" not in screen_text(app, "main")
        await pilot.press("n")
        assert app.pos == rejected.pos
        queue = app.query_one(ApprovalQueue)
        await until(lambda: not queue.items, what="the queue to empty")
        await pilot.press("n", "n")
        assert app.pos == conflict.pos  # no marker after the last one: stays
        await pilot.press("p")
        assert app.pos == rejected.pos
        # left seeks back 5 s of recording time, right forward
        await pilot.press("left")
        assert app.pos < rejected.pos
        assert tl.time_of(app.pos) <= tl.time_of(rejected.pos) - 5 or app.pos < rejected.pos - 1
        await pilot.press("home")
        assert app.pos == 0
        await pilot.press("right")
        assert app.pos > 0
        # the scrubber draws a glyph per marker and the position
        text = app.query_one(Scrubber).render().plain
        assert text.count("✓") == 1 and "✗" in text and "!" in text and "●" in text
        # play runs to the end (idle gaps are skipped), pause stops it
        await pilot.press("plus")
        assert app.speed == 2.0
        await pilot.press("space")
        assert app.playing
        await pilot.press("plus", "plus", "plus")
        assert app.speed == 16.0
        await until(lambda: app.pos == len(tl), timeout=20, what="playback to reach the end")
        await until(lambda: not app.playing, what="playback to stop at the end")
        assert "still here" in screen_text(app, "main")
        assert [a.approval_id for a in queue.items] == ["a3"]
        # back to 1x first: at 16x a loaded machine replayed it all to the end again
        # between the key and the check
        await pilot.press("minus", "minus", "minus", "minus")
        assert app.speed == 1.0
        await pilot.press("space")  # at the end, play restarts from the start
        assert app.playing and app.pos < len(tl)
        await pilot.press("space")
        assert not app.playing
        paused_at = app.pos
        await pilot.pause(0.2)
        assert app.pos == paused_at


async def test_decisions_are_refused_read_only(tmp_path: Path) -> None:
    tl = Timeline(write_session(tmp_path / "data"))
    app = ReplayApp(tl, autoplay=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("end")
        assert [a.approval_id for a in app.query_one(ApprovalQueue).items] == ["a3"]
        for key in ("a", "r", "e", "s"):
            await pilot.press(key)
        # notifications land when their posted message is handled: poll for them
        await until(lambda: [n.message for n in app._notifications].count(READ_ONLY) >= 4)
        # the recorded state is untouched
        assert sorted(app.backend.state["pending_approvals"]) == ["a1", "a3"]
        assert app.backend.state["last_seq"] == tl.seqs[len(tl) - 1]


async def test_seek_moves_across_long_gaps(tmp_path: Path) -> None:
    """right/left always move at least one event (when not at the end/start), also
    when the next event is more than 5 s away; otherwise they show the last event at
    or before now ± 5 s."""
    tl = Timeline(write_session(tmp_path / "data"))
    # the position just before the recording's 100 s idle gap
    gap = next(p for p in range(1, len(tl)) if tl.time_of(p + 1) - tl.time_of(p) > 30)
    app = ReplayApp(tl, autoplay=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.seek(gap)
        await pilot.press("right")
        assert app.pos == gap + 1
        await pilot.press("left")
        assert app.pos == gap
        # within reach: the last event at or before the target
        await pilot.press("home", "right")
        assert app.pos == tl.position_at(tl.time_of(0) + 5) > 0
        await pilot.press("end", "right")
        assert app.pos == len(tl)


async def test_the_footer_shows_the_players_keys_not_the_decisions(tmp_path: Path) -> None:
    tl = Timeline(write_session(tmp_path / "data"))
    app = ReplayApp(tl, autoplay=False)
    async with app.run_test(size=(160, 40)):
        shown = {
            b.binding.action
            for b in app.screen.active_bindings.values()
            if b.binding.show and b.enabled
        }
        assert {"toggle_play", "step_marker(1)", "seek_by(5)"} <= shown
        assert not shown & {"approve", "edit", "reject", "similar", "take_over", "zoom"}
