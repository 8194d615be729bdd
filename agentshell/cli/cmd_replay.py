"""`agentshell replay`: watch a recorded session, export it as asciicast, screenshot it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import click

from agentshell.cli.main import cli
from agentshell.cli.options import check_session, resolve_data_dir

if TYPE_CHECKING:
    from agentshell.replay.timeline import Timeline


def parse_point(timeline: Timeline, text: str | None, default: int) -> int:
    """A position from ``T``: seconds from the start (``12.5``), ``seq:N`` or ``end``."""
    if text is None:
        return default
    t = text.strip()
    try:
        if t == "end":
            return len(timeline)
        if t.startswith("seq:"):
            return timeline.position_of_seq(int(t[4:]))
        return timeline.position_at(timeline.start_time + float(t))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a time: use seconds from the start (12.5), seq:N or end"
        ) from None


@cli.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--session",
    default=None,
    metavar="NAME",
    help="Session to replay in the directory.",
    callback=check_session,
)
@click.option(
    "--dir",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Data directory (with --session, instead of PATH).",
)
@click.option("--speed", default=1.0, show_default=True, help="Playback speed.")
@click.option("--from", "from_", default=None, metavar="T", help="Start at T (seconds, seq:N).")
@click.option("--to", "to", default=None, metavar="T", help="Stop at T (seconds, seq:N, end).")
@click.option("--cast", "cast", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--terminal", default=None, metavar="NAME", help="Only this terminal (--cast).")
@click.option("--idle-limit", default=2.0, show_default=True, help="Longest idle gap (s).")
@click.option("--svg", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--at", default=None, metavar="T", help="Moment of the --svg screenshot.")
@click.option("--paused", is_flag=True, help="Open paused.")
def replay(
    path: Path | None,
    session: str | None,
    data_dir: Path | None,
    speed: float,
    from_: str | None,
    to: str | None,
    cast: Path | None,
    terminal: str | None,
    idle_limit: float,
    svg: Path | None,
    at: str | None,
    paused: bool,
) -> None:
    """Replay a recorded session read-only: panes, queue, conflicts as they were.

    PATH is a session directory, or a data directory holding one session (or use
    --dir/--session). Nothing is executed. Keys: space play/pause, +/- speed,
    n/p next/previous decision, left/right seek. T is seconds from the start,
    seq:N (just after event N) or end.

    \b
    --cast OUT.cast   asciicast v2 (OUT-<terminal>.cast per terminal when several)
    --svg OUT.svg     screenshot of the replay at --at T
    """
    from agentshell.core.errors import AgentShellError
    from agentshell.replay.timeline import Timeline, find_session_dir

    where = path if path is not None else resolve_data_dir(data_dir)
    try:
        session_dir = find_session_dir(where, session or (None if path else "default"))
        timeline = Timeline(session_dir)
    except (AgentShellError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    if timeline.stopped:
        click.echo(f"note: the log ends early ({timeline.stopped}); replaying what is durable")
    start = parse_point(timeline, from_, 0)
    stop = parse_point(timeline, to, len(timeline))
    if stop < start:
        raise click.BadParameter("--to is before --from")
    if cast is not None:
        from agentshell.replay.cast import export_casts

        try:
            paths = export_casts(
                timeline, cast, terminal=terminal, idle_limit=idle_limit, start=start, stop=stop
            )
        except AgentShellError as exc:
            raise click.ClickException(str(exc)) from exc
        for p in paths:
            click.echo(f"wrote {p}")
    if svg is not None:
        moment = parse_point(timeline, at, stop)
        asyncio.run(_screenshot(timeline, moment, svg))
        click.echo(f"wrote {svg}")
    if cast is None and svg is None:
        from agentshell.replay.app import ReplayApp

        ReplayApp(timeline, start=start, stop=stop, speed=speed, autoplay=not paused).run()


async def _screenshot(timeline: Timeline, pos: int, out: Path) -> None:
    from agentshell.replay.app import ReplayApp

    app = ReplayApp(timeline, autoplay=False)
    async with app.run_test(size=(160, 48)) as pilot:
        app.seek(pos)
        app.refresh_state()
        await pilot.pause()
        await pilot.pause(0.2)
        out.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(out.name, str(out.parent or Path(".")))
