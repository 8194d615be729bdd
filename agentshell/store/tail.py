"""Reading the last events of a log from its end (no scan from byte 0).

A long session's log holds millions of records, mostly terminal output; a view that
wants the last few hundred events of some kinds (the TUI's log view at start) reads
a window from the end, finds where whole frames start in it
(:func:`~agentshell.store.framing.chain_start`) and decodes only that window,
growing it while it holds too few of the wanted events.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentshell.core import events as ev
from agentshell.store.framing import ScanResult, chain_start, iter_records

#: The first window read from the end; it grows 4x while too few events are found.
TAIL_WINDOW = 1 << 20
#: Windows stop growing here: an older event is for `agentshell log` to show.
TAIL_MAX = 64 << 20


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
) -> list[ev.Event]:
    """The last ``limit`` events of the log at ``log_path`` whose record ``keep``
    accepts (all when None), oldest first, with those ``also`` accepts among them
    (not counted in ``limit``).

    Reads at most about ``max_bytes`` from the end: when that much holds fewer than
    ``limit`` kept events, those are returned. A frame being written at the end is
    left out (``result``, when given, says so: ``result.torn``); corruption inside
    the window raises :class:`~agentshell.core.errors.LogCorruptionError` as a full
    read does.
    """
    if limit <= 0:
        return []
    with open(log_path, "rb") as f:
        size = f.seek(0, 2)
        while True:
            start = max(0, size - window)
            f.seek(start)
            data = memoryview(f.read(size - start))
            records = _records_from(data, start, str(log_path), result or ScanResult())
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


def _records_from(
    data: memoryview, base: int, path: str, result: ScanResult
) -> list[dict[str, Any]] | None:
    """Every record of ``data`` (the log from byte ``base`` to its end) from the first
    frame boundary in it; None when no boundary is found.

    A start is taken only when the records from it carry consecutive sequence
    numbers: frames copied into a record (a log file shown in a terminal) could
    otherwise chain up to the real ones.
    """
    if base == 0:
        return list(iter_records(data, path, result))
    after = -1
    while (off := chain_start(data, after)) is not None:
        records = list(iter_records(data[off:], path, result, base=base + off))
        seqs = [int(r.get("s") or 0) for r in records]
        if seqs and all(b == a + 1 for a, b in itertools.pairwise(seqs)):
            return records
        after = off
    return None
