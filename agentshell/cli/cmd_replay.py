"""`agentshell replay`: watch a recorded session, export it as asciicast, screenshot it."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from agentshell.cli.main import cli
from agentshell.cli.options import DEFAULT_SESSION, resolve_data_dir, session_options
from agentshell.cli.progress import progress_line

if TYPE_CHECKING:
    from agentshell.replay.timeline import Timeline


POINT_HELP = "use seconds from the start (12.5), seq:N or end"


def _read_point(text: str) -> tuple[str, float]:
    """``("end", 0)``, ``("seq", N)`` or ``("time", seconds)`` for a position ``T``;
    ValueError, saying why, for anything else. Seconds are finite and >= 0 (``nan``,
    ``-3``, ``1e309`` are refused); ``seq:N`` takes N >= 0."""
    t = text.strip()
    if t == "end":
        return "end", 0
    if t.startswith("seq:"):
        try:
            n = int(t[4:])
        except ValueError:
            n = -1
        if n < 0:
            raise ValueError(f"{text!r} is not a position: seq:N takes a sequence number N >= 0")
        return "seq", n
    try:
        x = float(t)
    except ValueError:
        x = math.nan
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{text!r} is not a time: {POINT_HELP} (seconds are finite and >= 0)")
    return "time", x


def check_point(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback: ``value`` unless it is no position (see :func:`_read_point`)."""
    if value is None:
        return None
    try:
        _read_point(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value.strip()


def check_non_negative(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A click callback: ``value`` unless it is negative, infinite or nan."""
    if not math.isfinite(value) or value < 0:
        raise click.BadParameter(f"{value:g} is not a number of seconds >= 0", ctx=ctx, param=param)
    return value


def check_speed(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A click callback: ``value`` unless it is not a finite number > 0."""
    if not math.isfinite(value) or value <= 0:
        raise click.BadParameter(
            f"{value:g} is not a speed: give a number > 0", ctx=ctx, param=param
        )
    return value


def parse_point(timeline: Timeline, text: str | None, default: int) -> int:
    """A position from ``T``: seconds from the start (``12.5``), ``seq:N`` or ``end``."""
    if text is None:
        return default
    try:
        kind, x = _read_point(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if kind == "end":
        return len(timeline)
    if kind == "seq":
        return timeline.position_of_seq(int(x))
    return timeline.position_at(timeline.start_time + x)


@cli.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@session_options(
    session_default=None,
    session_help="Session to replay in the directory.",
    dir_help="Data directory instead of PATH: its only session, or the one --session names "
    "[default: the user's data directory, session 'default'].",
)
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    callback=check_speed,
    help="Playback speed (the interactive replay).",
)
@click.option(
    "--from",
    "from_",
    default=None,
    metavar="T",
    callback=check_point,
    help="Start at T (seconds, seq:N).",
)
@click.option(
    "--to",
    "to",
    default=None,
    metavar="T",
    callback=check_point,
    help="Stop at T (seconds, seq:N, end).",
)
@click.option(
    "--cast",
    "cast",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="OUT.cast",
    help="Export asciicast v2 instead of opening the replay (OUT-<terminal>.cast per "
    "terminal when several).",
)
@click.option("--terminal", default=None, metavar="NAME", help="Only this terminal (--cast).")
@click.option(
    "--idle-limit",
    default=2.0,
    show_default=True,
    callback=check_non_negative,
    help="Longest idle gap in seconds (--cast).",
)
@click.option(
    "--svg",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="OUT.svg",
    help="Save an SVG screenshot of the replay at --at T instead of opening it.",
)
@click.option(
    "--at",
    default=None,
    metavar="T",
    callback=check_point,
    help="Moment of the --svg screenshot [default: --to, else the end].",
)
@click.option("--paused", is_flag=True, help="Open paused.")
@click.pass_context
def replay(
    ctx: click.Context,
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
    seq:N (just after event N) or end. --cast and --svg write files instead of
    opening the replay.
    """
    from agentshell.core.errors import AgentShellError
    from agentshell.replay.timeline import Timeline, find_session_dir

    given = {
        name
        for name in ("at", "terminal", "idle_limit")
        if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)
    }
    if "at" in given and svg is None:
        raise click.UsageError("--at goes with --svg (the moment of the screenshot)")
    for dest in ("terminal", "idle_limit"):
        if dest in given and cast is None:
            option = "--" + dest.replace("_", "-")
            raise click.UsageError(f"{option} goes with --cast (it shapes the asciicast export)")
    if path is not None and data_dir is not None:
        raise click.UsageError(
            "give PATH or --dir, not both (PATH is a session or data directory itself)"
        )
    # PATH or --dir: its only session unless --session names one; neither: the
    # default data directory's session 'default' (or the one --session names)
    where = path or data_dir or resolve_data_dir(None)
    wanted = session if path or data_dir else session or DEFAULT_SESSION
    try:
        session_dir = find_session_dir(where, wanted)
        timeline = Timeline(session_dir, progress=progress_line("reading the recording"))
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
        from agentshell.replay.shots import save_replay_svg

        moment = parse_point(timeline, at, stop)
        asyncio.run(save_replay_svg(timeline, moment, svg))
        click.echo(f"wrote {svg}")
    if cast is None and svg is None:
        from agentshell.replay.app import ReplayApp

        ReplayApp(timeline, start=start, stop=stop, speed=speed, autoplay=not paused).run()
