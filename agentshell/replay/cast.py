"""asciicast v2 export of one terminal of a recorded session.

The file is a JSON header line then one JSON array per event::

    {"version": 2, "width": 80, "height": 24, "timestamp": 1700000000, "title": "...",
     "env": {"TERM": "xterm-256color"}}
    [0.0, "o", "$ ls\\r\\n"]
    [1.5, "m", "approved: claude $ ls"]
    [2.0, "r", "100x30"]

``o`` carries output decoded with one incremental UTF-8 decoder per terminal (a
multi-byte character split across two recorded chunks stays whole); ``m`` markers
are the session's approvals, rejections and conflicts; ``r`` is a resize. Times are
seconds from the terminal's first event with every idle gap capped at
``idle_limit``.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from pathlib import Path
from typing import IO

from agentshell.replay.timeline import ReplayError, Timeline


def cast_paths(timeline: Timeline, out: Path, terminal: str | None) -> dict[str, Path]:
    """Terminal -> output file: ``out`` for one terminal, ``OUT-<terminal>.cast`` for several
    (the name made safe for a file name by :func:`file_part`, each file distinct)."""
    names = [n for n, tr in timeline.tracks.items() if tr.kinds]
    if terminal is not None:
        if terminal not in timeline.tracks:
            known = ", ".join(sorted(timeline.tracks)) or "none"
            raise ReplayError(f"no terminal {terminal!r} in this session (terminals: {known})")
        return {terminal: out}
    if not names:
        raise ReplayError("this session recorded no terminal")
    if len(names) == 1:
        return {names[0]: out}
    suffix = out.suffix or ".cast"
    paths: dict[str, Path] = {}
    used: set[str] = set()
    for n in names:
        base = f"{out.stem}-{file_part(n)}"
        file, k = f"{base}{suffix}", 1
        while file in used:
            k += 1
            file = f"{base}-{k}{suffix}"
        used.add(file)
        paths[n] = out.with_name(file)
    return paths


_FILE_SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")
_FILE_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def file_part(terminal: str) -> str:
    """``terminal`` as a piece of a file name: itself when plain, else made safe.

    Recordings from before terminal names were checked may hold ``bad/name``, control
    characters or 5000 characters: those characters become ``_`` (cut to 48) and 8 hex
    digits of the name's hash follow, so two such names never share a file.
    """
    if _FILE_SAFE.fullmatch(terminal):
        return terminal
    digest = hashlib.blake2s(terminal.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
    return f"{_FILE_UNSAFE.sub('_', terminal)[:48]}-{digest}"


def write_cast(
    timeline: Timeline,
    terminal: str,
    fh: IO[str],
    *,
    idle_limit: float = 2.0,
    start: int = 0,
    stop: int | None = None,
    title: str | None = None,
) -> int:
    """Write ``terminal``'s recording (positions ``start..stop``) as asciicast v2.

    Returns the number of events written (markers included).
    """
    track = timeline.tracks[terminal]
    stop = len(timeline) if stop is None else stop
    times = timeline.times
    first = _first_index(track.index, start)
    columns, lines = _initial_size(track.kinds, track.values, track.size, first or 0)
    t0 = timeline.time_of(start) if first is None else times[track.index[first]]
    header = {
        "version": 2,
        "width": columns,
        "height": lines,
        "timestamp": int(t0),
        "title": title or f"AgentShell · {timeline.session_name} · {terminal}",
        "env": {"TERM": "xterm-256color", "SHELL": recorded_shell(timeline, terminal, first)},
    }
    write = fh.write
    write(json.dumps(header) + "\n")
    markers = [m for m in timeline.markers if start < m.pos <= stop]
    mi = 0
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    dumps = json.dumps
    idle = max(0.0, idle_limit)
    out_t = 0.0
    last = t0
    count = 0
    idx, kinds, values = track.index, track.kinds, track.values
    begin = first if first is not None else len(idx)
    for j in range(begin, len(idx)):
        i = idx[j]
        if i >= stop:
            break
        while mi < len(markers) and markers[mi].pos <= i:
            m = markers[mi]
            out_t, last = _advance(out_t, last, times[m.pos - 1], idle)
            write(dumps([round(out_t, 6), "m", m.label]) + "\n")
            mi += 1
            count += 1
        kind = kinds[j]
        if kind == "output":
            text = decoder.decode(values[j])
            if not text:
                continue
            out_t, last = _advance(out_t, last, times[i], idle)
            write(dumps([round(out_t, 6), "o", text]) + "\n")
            count += 1
        elif kind in ("resize", "reset") and values[j] is not None and j > begin:
            out_t, last = _advance(out_t, last, times[i], idle)
            write(dumps([round(out_t, 6), "r", f"{values[j][0]}x{values[j][1]}"]) + "\n")
            count += 1
    tail = decoder.decode(b"", final=True)
    if tail:
        write(dumps([round(out_t, 6), "o", tail]) + "\n")
        count += 1
    for m in markers[mi:]:
        out_t, last = _advance(out_t, last, times[m.pos - 1], idle)
        write(dumps([round(out_t, 6), "m", m.label]) + "\n")
        count += 1
    return count


#: The header's SHELL when the recording does not say which shell ran.
DEFAULT_SHELL = "/bin/sh"


def recorded_shell(timeline: Timeline, terminal: str, first: int | None = None) -> str:
    """The shell ``terminal`` ran, from its ``terminal_opened`` event (``shell``).

    The opening in effect at the track's event ``first`` counts (the terminal may have
    been reopened with another shell); :data:`DEFAULT_SHELL` when none says.
    """
    track = timeline.tracks[terminal]
    resets = [j for j, kind in enumerate(track.kinds) if kind == "reset"]
    if not resets:
        return DEFAULT_SHELL
    before = [j for j in resets if first is None or j <= first]
    k = resets.index(before[-1]) if before else 0
    lo = track.index[resets[k]]
    # the opened event is the reset itself, or (output logged before it) comes after it
    hi = track.index[resets[k + 1]] if k + 1 < len(resets) else len(timeline)
    step = 64  # records() decodes its whole range at once: look a few at a time
    for chunk in range(lo, hi, step):
        for rec in timeline.records(chunk, min(hi, chunk + step)):
            p = rec.get("p") or {}
            if rec.get("t") == "terminal_opened" and p.get("terminal") == terminal:
                shell = p.get("shell")
                return shell if isinstance(shell, str) and shell else DEFAULT_SHELL
    return DEFAULT_SHELL


def _advance(out_t: float, last: float, ts: float, idle: float) -> tuple[float, float]:
    gap = ts - last
    if gap > 0:
        out_t += min(gap, idle)
        last = ts
    return out_t, last


def _first_index(index: list[int], start: int) -> int | None:
    for j, i in enumerate(index):
        if i >= start:
            return j
    return None


def _initial_size(
    kinds: list[str], values: list[object], fallback: tuple[int, int], first: int
) -> tuple[int, int]:
    """The size in effect at event ``first`` (else the first size recorded after it)."""
    size: tuple[int, int] | None = None
    for j, (kind, value) in enumerate(zip(kinds, values, strict=True)):
        if kind in ("reset", "resize") and isinstance(value, tuple):
            if j <= first or size is None:
                size = (int(value[0]), int(value[1]))
            if j > first:
                break
    return size or fallback


def export_casts(
    timeline: Timeline,
    out: Path,
    *,
    terminal: str | None = None,
    idle_limit: float = 2.0,
    start: int = 0,
    stop: int | None = None,
) -> list[Path]:
    """Write one cast per terminal (see :func:`cast_paths`); return the paths written."""
    written = []
    for name, path in cast_paths(timeline, out, terminal).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            write_cast(timeline, name, fh, idle_limit=idle_limit, start=start, stop=stop)
        written.append(path)
    return written
