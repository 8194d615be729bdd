"""`agentshell screenshots --out DIR`: SVGs of the demo (used by `make screenshots`)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import click

from agentshell.cli.main import cli


@cli.command(hidden=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("screenshots"),
    show_default=True,
)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for the demo.")
def screenshots(out_dir: Path, timeout: float) -> None:
    """Run the demo headless and save SVGs of the main screen, editor and conflicts,
    then of its recording replayed (at its end), then of agents of several vendors
    waiting in the queue (vendors.svg)."""
    from agentshell.replay.shots import save_replay_svg
    from agentshell.replay.timeline import Timeline
    from agentshell.tui.shots import take_screenshots, take_vendor_screenshot

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="agentshell-shots-") as tmp:
        saved = asyncio.run(take_screenshots(out_dir, Path(tmp), timeout=timeout))
        timeline = Timeline(Path(tmp) / "data" / "demo")
        saved.append(asyncio.run(save_replay_svg(timeline, len(timeline), out_dir / "replay.svg")))
        saved.append(asyncio.run(take_vendor_screenshot(out_dir, Path(tmp), timeout=timeout)))
    for path in saved:
        click.echo(f"wrote {path}")
