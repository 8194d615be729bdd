"""`agentshell log | check | repair`: read, verify and repair a session's event log."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from agentshell.cli.main import cli
from agentshell.cli.options import resolve_data_dir, session_options
from agentshell.cli.progress import progress_line
from agentshell.core import events as ev
from agentshell.core.errors import InvalidNameError, LogCorruptionError, SessionLockedError
from agentshell.store.framing import ScanResult, iter_records
from agentshell.store.lock import SessionLock
from agentshell.store.log import copy_whole_and_cut
from agentshell.store.session import LOG_NAME, SNAPSHOT_DIR, check_name
from agentshell.store.snapshots import SnapshotError, load_snapshot, snapshot_paths
from agentshell.store.tail import read_recent_events

path_argument = click.argument(
    "path",
    required=False,
    type=click.Path(path_type=Path),
    metavar="[PATH]",
)


def session_dir(path: Path | None, data_dir: Path | None, session: str) -> Path:
    """The session directory from PATH or --dir/--session; a clear error when missing."""
    if path is None:
        try:
            check_name(session)
        except InvalidNameError as exc:
            raise click.UsageError(str(exc)) from exc
        path = resolve_data_dir(data_dir) / session
    if path.is_file() and path.name == LOG_NAME:
        path = path.parent
    if not (path / LOG_NAME).is_file():
        raise click.ClickException(
            f"no session at {path} (no {LOG_NAME} there). "
            "Give a session directory, or --dir DIR --session NAME."
        )
    return path


# --------------------------------------------------------------------------- log


def _short(v: Any, width: int = 60) -> str:
    if isinstance(v, bytes):
        s = repr(v.decode("utf-8", "backslashreplace"))
        s = f"<{len(v)} bytes> {s}"
    elif isinstance(v, str):
        s = repr(v)
    else:
        s = json.dumps(v, default=str, separators=(",", ":"))
    return s if len(s) <= width else s[: width - 1] + "…"


def _summary(e: ev.Event) -> str:
    p = e.payload
    t = e.event_type
    if t == "command_executed":
        code = "" if p["exit_code"] is None else f" -> exit {p['exit_code']}"
        return f"$ {_short(p['command'])}{code} in {p['terminal']}"
    if t == "directory_changed":
        where = f" (terminal {p['terminal']})" if p["terminal"] else ""
        return f"cd {p['path']}{where}"
    if t == "file_edited":
        return f"{p['file_path']} lines {p['ranges']} -> {p['new_ranges']} (+{p['lines_added']} -{p['lines_removed']})"
    if t in ("terminal_output", "terminal_input"):
        return f"{p['terminal']}: {_short(p['data'])}"
    parts = [f"{k}={_short(v, 40)}" for k, v in p.items() if v not in ("", [], {}, None)]
    return " ".join(parts)


def format_event(e: ev.Event) -> str:
    """One readable line: seq, local time, agent, type, summary."""
    when = datetime.fromtimestamp(e.timestamp).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return f"{e.seq:>7} {when} {e.agent_id:<12} {e.event_type:<22} {_summary(e)}"


def _follow(log_path: Path, offset: int, number: int) -> Iterator[ev.Event]:
    """Events appended after byte ``offset``, as they come (poll the file)."""
    while True:
        size = log_path.stat().st_size
        if size > offset:
            with open(log_path, "rb") as f:
                f.seek(offset)
                data = f.read()
            res = ScanResult()
            for rec in iter_records(data, str(log_path), res, base=offset, first_number=number):
                yield ev.event_from_record(rec)
            offset, number = res.end, res.count + 1
        time.sleep(0.2)  # polling interval of --follow


@cli.command()
@path_argument
@session_options
@click.option("--follow", "-f", is_flag=True, help="Keep printing events as they are appended.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--type", "types", multiple=True, metavar="T", help="Only events of type T (repeatable)."
)
@click.option(
    "--agent", "agents", multiple=True, metavar="A", help="Only events of agent A (repeatable)."
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Only the last N matching events.",
)
def log(
    path: Path | None,
    data_dir: Path | None,
    session: str,
    follow: bool,
    as_json: bool,
    types: tuple[str, ...],
    agents: tuple[str, ...],
    limit: int | None,
) -> None:
    """Print a session's events, one line each.

    PATH is a session directory (default: --dir/--session).
    """
    sdir = session_dir(path, data_dir, session)
    unknown = [t for t in types if t not in ev.EVENT_TYPES]
    if unknown:
        raise click.UsageError(
            f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(sorted(ev.EVENT_TYPES))}"
        )
    log_path = sdir / LOG_NAME

    def matches(kind: str, agent: str) -> bool:
        return (not types or kind in types) and (not agents or agent in agents)

    def show(e: ev.Event) -> None:
        click.echo(json.dumps(ev.event_to_json(e)) if as_json else format_event(e))

    def say_torn(res: ScanResult) -> None:
        click.echo(
            f"(log ends with an unfinished frame at byte {res.end}: {res.tail_reason})", err=True
        )

    if limit is not None and not follow:
        # the last N: read from the end of the log, not all of it
        tail = ScanResult()
        try:
            last = read_recent_events(
                log_path,
                limit,
                lambda r: matches(r["t"], r["a"]),
                max_bytes=1 << 62,
                result=tail,
            )
        except LogCorruptionError:
            last = None  # damaged: the full read below shows the good records, then why
        if last is not None:
            for e in last:
                show(e)
            if tail.torn:
                say_torn(tail)
            return
    res = ScanResult()
    data = log_path.read_bytes()
    selected: list[ev.Event] = []
    damage: LogCorruptionError | None = None
    try:
        for r in iter_records(data, str(log_path), res):
            if matches(r["t"], r["a"]):
                selected.append(ev.event_from_record(r))
    except LogCorruptionError as exc:
        damage = exc  # the good records before the damage are still shown
    if limit is not None:
        selected = selected[max(0, len(selected) - limit) :]
    for e in selected:
        show(e)
    if damage is not None:
        raise click.ClickException(str(damage)) from damage
    if res.torn and not follow:
        say_torn(res)
    if follow:
        try:
            for e in _follow(log_path, res.end, res.count + 1):
                if matches(e.event_type, e.agent_id):
                    show(e)
        except KeyboardInterrupt:
            pass
        except LogCorruptionError as exc:
            raise click.ClickException(str(exc)) from exc


# ------------------------------------------------------------------ check / repair


class _Verdict:
    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.size = log_path.stat().st_size
        self.result = ScanResult()
        self.error: LogCorruptionError | None = None
        self.seq_problem: str | None = None
        self.last_seq = 0
        data = log_path.read_bytes()
        expected = 1
        show = progress_line("checking the log")
        try:
            for rec in iter_records(data, str(log_path), self.result, progress=show):
                if rec.get("s") != expected and self.seq_problem is None:
                    self.seq_problem = (
                        f"record #{expected} carries seq {rec.get('s')!r}, expected {expected}"
                    )
                self.last_seq = rec.get("s", 0)
                expected += 1
        except LogCorruptionError as exc:
            self.error = exc
        if show is not None:
            show(self.size, self.size)  # done: clears the line

    @property
    def clean(self) -> bool:
        return self.error is None and not self.result.torn and self.seq_problem is None

    @property
    def cut_at(self) -> int:
        """Where a repair cuts: just after the last good record."""
        return self.error.offset if self.error is not None else self.result.end


@cli.command()
@path_argument
@session_options
def check(path: Path | None, data_dir: Path | None, session: str) -> None:
    """Verify a session's event log (and snapshots); exit 1 when anything is wrong.

    Says where (byte offset, record number) and what is wrong.
    """
    sdir = session_dir(path, data_dir, session)
    v = _Verdict(sdir / LOG_NAME)
    r = v.result
    # the log's line comes first, but says OK only when no later check fails either
    later: list[tuple[bool, str]] = []  # (is a problem, line)
    if v.seq_problem:
        later.append((True, f"SEQUENCE {v.log_path}: {v.seq_problem}"))
    for snap_path in snapshot_paths(sdir / SNAPSHOT_DIR):
        try:
            snap = load_snapshot(snap_path)
        except SnapshotError as exc:
            later.append(
                (
                    True,
                    f"BAD SNAPSHOT {exc} (it will be skipped; an older one or a full replay is used)",
                )
            )
            continue
        fits = snap.log_offset <= v.cut_at
        note = "" if fits else " (beyond the good part of the log: it will be skipped)"
        later.append(
            (
                False,
                f"snapshot {snap_path.name}: ok, seq {snap.last_seq}, "
                f"log byte {snap.log_offset}{note}",
            )
        )
    bad = any(problem for problem, _ in later)
    if v.error is not None:
        bad = True
        click.echo(
            f"CORRUPT {v.log_path}: at byte {v.error.offset}: {v.error.reason}. "
            f"{r.count} good record(s) before it (bytes 0..{v.error.offset}). "
            f"Run `agentshell repair {sdir}` to cut the log there (a copy is kept)."
        )
    elif r.torn:
        bad = True
        click.echo(
            f"TORN TAIL {v.log_path}: the frame at byte {r.end} (record #{r.count + 1} on) "
            f"is unfinished: "
            f"{r.tail_reason} ({v.size - r.end} byte(s) after the last good record). "
            f"{r.count} good record(s). Opening the session cuts it and keeps the bytes "
            f"as {LOG_NAME}.broken; `agentshell repair {sdir}` does the same now."
        )
    else:
        summary = f"{r.count} record(s), {v.size} bytes, last seq {v.last_seq}"
        if bad:
            click.echo(f"frames intact {v.log_path}: {summary}")
        else:
            click.echo(f"OK {v.log_path}: {summary}")
    for _, line in later:
        click.echo(line)
    if bad:
        raise SystemExit(1)


@cli.command()
@path_argument
@session_options
def repair(path: Path | None, data_dir: Path | None, session: str) -> None:
    """Cut a damaged event log at its last good record, keeping a copy of the original."""
    sdir = session_dir(path, data_dir, session)
    log_path = sdir / LOG_NAME
    v = _Verdict(log_path)
    if v.clean:
        click.echo(f"{log_path}: nothing to repair ({v.result.count} good records)")
        return
    if v.error is None and not v.result.torn:
        raise click.ClickException(
            f"{log_path}: frames are intact but {v.seq_problem}; not cutting anything"
        )
    cut = v.cut_at
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        lock = SessionLock(sdir)  # never cut a log another process is writing
    except SessionLockedError as exc:
        raise click.ClickException(str(exc)) from None
    with lock:
        copy = copy_whole_and_cut(log_path, cut, f".before-repair-{stamp}")
    click.echo(f"kept a copy of the original log at {copy}")
    click.echo(
        f"cut {v.size - cut} byte(s) at byte {cut}: the log now holds {v.result.count} "
        f"record(s) (last seq {v.last_seq})"
        + ("" if v.error is None else f"; dropped from the first bad record: {v.error.reason}")
    )
