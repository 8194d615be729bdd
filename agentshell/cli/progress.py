"""A progress line on stderr for long reads (a big log's check, a recording's index)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click


def progress_line(what: str) -> Callable[[int, int], None] | None:
    """``show(done, total)`` drawing one line on stderr, redrawn in place ("``what``:
    40% of 125 MB") and cleared once ``done == total``; None when stderr is not a
    terminal (nothing in pipes and logs)."""
    if not sys.stderr.isatty():
        return None
    shown = False

    def show(done: int, total: int) -> None:
        nonlocal shown
        if done < total:
            shown = True
            click.echo(
                f"\r{what}: {done * 100 // total}% of {total / 1e6:,.0f} MB", nl=False, err=True
            )
        elif shown:
            click.echo("\r\x1b[K", nl=False, err=True)  # done: clear the line

    return show
