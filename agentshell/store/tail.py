"""Reading part of a log without a scan from byte 0: its last events, or the events
after a sequence number.

A long session's log holds millions of records, mostly terminal output; a view that
wants the last few hundred events of some kinds (the TUI's log view at start) reads
a window from the end, finds where whole frames start in it
(:func:`~agentshell.store.framing.chain_start`) and decodes only that window,
growing it while it holds too few of the wanted events.

The events after a sequence number (:func:`records_after_seq`) start at a frame
boundary found by bisection: sequence numbers grow along the file, so each probe
reads a window in the middle of the remaining range, finds its first frame
boundary the same way and compares that record's seq.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from agentshell.core import events as ev
from agentshell.core.errors import LogCorruptionError
from agentshell.store.framing import ScanResult, chain_start, frame_starts, iter_records

#: The first window read from the end; it grows 4x while too few events are found.
TAIL_WINDOW = 1 << 20
#: Windows stop growing here: an older event is for `agentshell log` to show.
TAIL_MAX = 64 << 20
#: A seek by sequence number reads windows of this size while it bisects the log.
SEEK_WINDOW = 256 << 10


Keep = Callable[[dict[str, Any]], bool]


def read_recent_events(
    log_path: Path,
    limit: int,
    keep: Keep | None = None,
    *,
    also: Keep | None = None,
    window: int = TAIL_WINDOW,
    max_bytes: int = TAIL_MAX,
    result: ScanResult | None = None,
    anchor: int | None = None,
) -> list[ev.Event]:
    """The last ``limit`` events of the log at ``log_path`` whose record ``keep``
    accepts (all when None), oldest first, with those ``also`` accepts among them
    (not counted in ``limit``).

    Reads at most about ``max_bytes`` from the end: when that much holds fewer than
    ``limit`` kept events, those are returned. A frame being written at the end is
    left out (``result``, when given, says so: ``result.torn``); corruption inside
    the window raises :class:`~agentshell.core.errors.LogCorruptionError` as a full
    read does. ``anchor``, the offset of a frame known to be real (the writer's
    last), rules out a start inside a last record that holds copied frames: the
    chain from a start must pass through it (else the window grows).
    """
    if limit <= 0:
        return []
    with open(log_path, "rb") as f:
        size = f.seek(0, 2)
        while True:
            start = max(0, size - window)
            f.seek(start)
            data = memoryview(f.read(size - start))
            found = _records_from(data, start, str(log_path), result or ScanResult())
            if found and anchor is not None and not _reaches(data, start, found[0], anchor):
                found = None  # inside a copy: no real boundary in this window
            records = None if found is None else found[1]
            last = start == 0 or window >= max_bytes
            if records is not None:
                counted = [i for i, r in enumerate(records) if keep is None or keep(r)]
                if len(counted) >= limit or last:
                    first = counted[-limit] if len(counted) >= limit else 0
                    return [
                        ev.event_from_record(r)
                        for r in records[first:]
                        if keep is None or keep(r) or (also is not None and also(r))
                    ]
            elif last:
                return []
            window *= 4


def records_after_seq(
    log_path: Path,
    after_seq: int,
    result: ScanResult | None = None,
    *,
    anchor: int | None = None,
    window: int = SEEK_WINDOW,
) -> Iterator[dict[str, Any]]:
    """The records of the log with seq > ``after_seq``, in order; with ``anchor``,
    the offset of a frame known to be real at or near the end of the log (the
    writer's last frame), read from a frame boundary near them (:func:`seek_seq`)
    instead of from byte 0.

    Log bytes shown in a terminal put copies of real frames inside a record, and a
    probe can land in them: from there, frames chain and seqs run on as in the
    real log, up to its very end when the copy is the last record's. So the start
    is trusted only when the chain of frames from it passes through ``anchor``
    and every record on it decodes with seqs running on one by one from at most
    ``after_seq + 1``. That check reads the part once more, so the seek is used
    only when it skips at least half of the log; otherwise, and when the check
    fails, the log is read from byte 0. ``result`` describes the part read
    (``result.count`` counts from where reading started). A torn tail ends the
    records; corruption after the start raises as a full read does.
    """
    path = str(log_path)
    with open(log_path, "rb") as f:
        size = f.seek(0, 2)
        start = 0
        if anchor is not None and after_seq > 0:
            start = seek_seq(f, size, path, after_seq + 1, window)
            if start < size // 2:
                start = 0
        f.seek(start)
        data = f.read()
    if start > 0 and not _runs_on(data, start, path, after_seq, anchor):
        with open(log_path, "rb") as f:
            data, start = f.read(), 0
    for rec in iter_records(data, path, result, base=start):
        if rec["s"] > after_seq:
            yield rec


def _runs_on(data: bytes, base: int, path: str, after_seq: int, anchor: int | None) -> bool:
    """Whether the frames of ``data`` (the log from byte ``base`` to its end) chain
    through ``anchor`` and their records decode with consecutive seqs, the first
    at most ``after_seq + 1``."""
    if anchor is None or not _reaches(data, base, base, anchor):
        return False
    expected = None
    try:
        for rec in iter_records(data, path, ScanResult(), base=base):
            seq = rec.get("s")
            if expected is None:
                if not isinstance(seq, int) or seq > after_seq + 1:
                    return False
            elif seq != expected:
                return False
            expected = int(seq) + 1
    except LogCorruptionError:
        return False
    return expected is not None


def _reaches(data: bytes | memoryview, base: int, start: int, anchor: int) -> bool:
    """Whether frames hopped by their lengths from file offset ``start`` (in ``data``,
    the log from byte ``base``) land on file offset ``anchor``."""
    for pos in frame_starts(data, start - base):
        if base + pos >= anchor:
            return base + pos == anchor
    return False


def seek_seq(f: BinaryIO, size: int, path: str, seq: int, window: int = SEEK_WINDOW) -> int:
    """A frame boundary at or before the frame holding record ``seq`` in the open log
    ``f`` of ``size`` bytes (0 when none nearer is found).

    A bisection: each probe takes the first frame boundary in a window from the
    middle of the range left (:func:`_first_boundary`) and keeps the half that
    holds ``seq``; it stops when the range fits one window, or at damage (no
    boundary found), leaving the rest to the reader. About log2(size / window)
    reads of one window each.
    """
    lo, hi = 0, size
    while hi - lo > window:
        mid = (lo + hi) // 2
        found = _first_boundary(f, mid, size, path, window)
        if found is None:
            break
        off, records = found
        if int(records[0].get("s") or 0) <= seq:
            lo = off
        else:
            hi = mid
    return lo


def _first_boundary(
    f: BinaryIO, at: int, size: int, path: str, window: int
) -> tuple[int, list[dict[str, Any]]] | None:
    """:func:`_records_from` a window of the log from byte ``at``, grown 4x while it
    holds no frame boundary (a frame longer than the window), up to :data:`TAIL_MAX`."""
    while True:
        f.seek(at)
        try:
            found = _records_from(memoryview(f.read(window)), at, path, ScanResult())
        except LogCorruptionError:
            return None
        if found is not None and found[1]:
            return found
        if at + window >= size or window >= TAIL_MAX:
            return None
        window *= 4


def _records_from(
    data: memoryview, base: int, path: str, result: ScanResult
) -> tuple[int, list[dict[str, Any]]] | None:
    """``(start, records)``: every record of ``data`` (the log from byte ``base``,
    to its end or cut anywhere) from the first frame boundary in it, at file offset
    ``start``; None when no boundary is found.

    A start is taken only when the records from it carry consecutive sequence
    numbers: frames copied into a record (a log file shown in a terminal) could
    otherwise chain up to the real ones.
    """
    if base == 0:
        return 0, list(iter_records(data, path, result))
    after = -1
    while (off := chain_start(data, after)) is not None:
        records = list(iter_records(data[off:], path, result, base=base + off))
        seqs = [int(r.get("s") or 0) for r in records]
        if seqs and all(b == a + 1 for a, b in itertools.pairwise(seqs)):
            return base + off, records
        after = off
    return None
