"""State snapshots: ``snapshots/snapshot-{taken_at}.bin`` = gzip(msgpack(envelope)).

``taken_at`` is the wall-clock time (seconds since the epoch) the snapshot was
written, printed with six decimals (``snapshot-1795323289.765745.bin``); files sort
by the number. The envelope is a msgpack map::

    {"v": 1, "last_seq": int, "log_offset": int, "last_record": [offset, crc32],
     "max_ts": float, "taken_at": float, "state": bin, "checksum": hex sha256(state)}

``state`` is the msgpack bytes of :func:`state_to_plain`; ``checksum`` covers exactly
those bytes. ``log_offset`` is the byte offset in ``events.log`` just past record
``last_seq``, so opening replays only the log after it; ``last_record`` (that
record's offset and CRC) ties the snapshot to this log. ``max_ts`` is the largest
event timestamp folded into the state (for ``replay_from_snapshot``).

Writing is atomic: temp file, fsync, rename, fsync the directory. The newest
``keep`` snapshots are kept. A snapshot that fails to load (gzip, msgpack, checksum,
or not matching the log) is skipped in favour of an older one or a full replay.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]

from agentshell.core.errors import AgentShellError
from agentshell.core.state import SessionState, state_from_plain
from agentshell.store.log import fsync_dir

SNAPSHOT_VERSION = 1
_NAME = re.compile(r"snapshot-(\d+(?:\.\d+)?)\.bin")


class SnapshotError(AgentShellError):
    """A snapshot file cannot be used (damaged, foreign, or from another log)."""


@dataclass
class Snapshot:
    path: Path
    taken_at: float
    last_seq: int
    log_offset: int
    last_record: tuple[int, int]
    max_ts: float
    plain: dict[str, Any]

    def state(self) -> SessionState:
        return state_from_plain(self.plain)


def snapshot_paths(directory: Path) -> list[Path]:
    """Snapshot files in ``directory``, newest first (by the time in the name)."""
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        m = _NAME.fullmatch(p.name)
        if m:
            found.append((float(m.group(1)), p.name, p))
    found.sort(reverse=True)
    return [p for _, _, p in found]


def write_snapshot(
    directory: Path,
    plain: dict[str, Any],
    *,
    last_seq: int,
    log_offset: int,
    last_record: tuple[int, int],
    max_ts: float,
    keep: int = 3,
    now: float | None = None,
) -> Path:
    """Write a snapshot of ``plain`` (see :func:`state_to_plain`) atomically and
    prune all but the newest ``keep``."""
    directory.mkdir(parents=True, exist_ok=True)
    state_bytes = msgpack.packb(plain, use_bin_type=True)
    taken_at = time.time() if now is None else now
    env = {
        "v": SNAPSHOT_VERSION,
        "last_seq": last_seq,
        "log_offset": log_offset,
        "last_record": list(last_record),
        "max_ts": max_ts,
        "taken_at": taken_at,
        "state": state_bytes,
        "checksum": hashlib.sha256(state_bytes).hexdigest(),
    }
    data = gzip.compress(msgpack.packb(env, use_bin_type=True), compresslevel=6, mtime=0)
    final = directory / f"snapshot-{taken_at:.6f}.bin"
    while final.exists():  # two snapshots in one microsecond
        taken_at += 1e-6
        final = directory / f"snapshot-{taken_at:.6f}.bin"
    tmp = directory / f".{final.name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, final)
    fsync_dir(directory)
    for old in snapshot_paths(directory)[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()
    return final


def load_snapshot(path: Path) -> Snapshot:
    """Read and verify one snapshot; raise SnapshotError saying what is wrong."""
    try:
        raw = gzip.decompress(path.read_bytes())
        env = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except Exception as exc:  # any decode failure means: do not use this snapshot
        raise SnapshotError(f"{path}: unreadable ({exc})") from exc
    if not isinstance(env, dict) or env.get("v") != SNAPSHOT_VERSION:
        raise SnapshotError(f"{path}: not a version {SNAPSHOT_VERSION} snapshot")
    state_bytes = env.get("state")
    if not isinstance(state_bytes, bytes):
        raise SnapshotError(f"{path}: no state in snapshot")
    if hashlib.sha256(state_bytes).hexdigest() != env.get("checksum"):
        raise SnapshotError(f"{path}: checksum mismatch")
    try:
        plain = msgpack.unpackb(state_bytes, raw=False, strict_map_key=False)
        last_record = env["last_record"]
        return Snapshot(
            path=path,
            taken_at=float(env["taken_at"]),
            last_seq=int(env["last_seq"]),
            log_offset=int(env["log_offset"]),
            last_record=(int(last_record[0]), int(last_record[1])),
            max_ts=float(env["max_ts"]),
            plain=plain,
        )
    except (KeyError, TypeError, ValueError, IndexError, msgpack.UnpackException) as exc:
        raise SnapshotError(f"{path}: malformed snapshot ({exc})") from exc


def iter_good_snapshots(directory: Path) -> Iterator[Snapshot | SnapshotError]:
    """Each snapshot newest first: the loaded snapshot, or the error that rejected it."""
    for p in snapshot_paths(directory):
        try:
            yield load_snapshot(p)
        except SnapshotError as exc:
            yield exc
