"""Helpers shared by the store tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agentshell.core import events as ev
from agentshell.store.framing import encode_record, frame_round, pack_body


def record(i: int, **extra: Any) -> dict[str, Any]:
    """A valid stored record with seq ``i``."""
    e = ev.CommandExecuted(agent_id="coder", command=f"echo {i}", exit_code=0, seq=i, **extra)
    return e.to_record()


def log_bytes(n: int) -> tuple[bytes, list[dict[str, Any]], list[int]]:
    """Frames of ``n`` records, the records, and each frame's start offset."""
    recs = [record(i + 1) for i in range(n)]
    frames = [encode_record(r) for r in recs]
    offsets = []
    pos = 0
    for f in frames:
        offsets.append(pos)
        pos += len(f)
    return b"".join(frames), recs, offsets


def wait_until(cond: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``cond`` until true or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def batched_log_bytes(groups: list[int]) -> tuple[bytes, list[dict[str, Any]], list[int]]:
    """A log as the group-commit writer writes it: one round per entry of ``groups``
    (that many records; one record makes a record frame, more a batch frame). Returns
    the bytes, the records and each frame's start offset."""
    recs: list[dict[str, Any]] = []
    pieces: list[bytes] = []
    offsets = []
    pos = 0
    for size in groups:
        new = [record(len(recs) + k + 1) for k in range(size)]
        recs.extend(new)
        bodies = [pack_body(r) for r in new]
        parts, _, _ = frame_round(bodies)
        for header, payload in zip(parts[::2], parts[1::2], strict=True):
            offsets.append(pos)
            pos += len(header) + len(payload)
        pieces.extend(parts)
    return b"".join(pieces), recs, offsets
