"""An SVG screenshot of a recording at one moment (``replay --svg``, ``screenshots``)."""

from __future__ import annotations

from pathlib import Path

from agentshell.replay.timeline import Timeline

#: The screenshot's size in cells (columns, lines).
SHOT_SIZE = (160, 48)


async def save_replay_svg(timeline: Timeline, pos: int, out: Path) -> Path:
    """Render the replay app at position ``pos`` headless and save it to ``out``."""
    from agentshell.replay.app import ReplayApp

    app = ReplayApp(timeline, autoplay=False)
    async with app.run_test(size=SHOT_SIZE) as pilot:
        app.seek(pos, in_steps=False)  # there on return, not on the way
        app.refresh_state()
        await pilot.pause()
        await pilot.pause(0.2)
        out.parent.mkdir(parents=True, exist_ok=True)
        return Path(app.save_screenshot(out.name, str(out.parent or Path("."))))
