"""Crash test: SIGKILL a child appending from several threads at random moments; every
acknowledged event must survive and the log must stay a clean, contiguous prefix."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentshell.store.framing import scan
from agentshell.store.session import SessionManager

ROOT = Path(__file__).resolve().parents[2]


def _run_round(persist: Path, rnd: int, rand: random.Random) -> set[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.store.crash_child", str(persist), "s", str(rnd), "4"],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + 30
    while b"ready\n" not in buf:  # wait (with a timeout) until the child has recovered
        assert time.monotonic() < deadline, "child never became ready"
        r, _, _ = select.select([fd], [], [], 1.0)
        if r:
            chunk = os.read(fd, 65536)
            assert chunk, f"child exited early: {proc.wait()}"
            buf += chunk
    kill_at = time.monotonic() + rand.uniform(0.0, 0.25)
    while time.monotonic() < kill_at:
        r, _, _ = select.select([fd], [], [], max(0.0, kill_at - time.monotonic()))
        if r:
            buf += os.read(fd, 65536)
    proc.send_signal(signal.SIGKILL)
    buf += proc.stdout.read()
    proc.wait()
    lines = buf.split(b"\n")[:-1]  # the last piece may be a half-written line
    return {ln.decode() for ln in lines if ln and ln != b"ready"}


def _crash_rounds(persist: Path, rounds: int, seed: int) -> None:
    rand = random.Random(seed)
    acked: set[str] = set()
    for rnd in range(rounds):
        acked |= _run_round(persist, rnd, rand)
        with SessionManager("s", persist) as sm:  # recovery: cuts a torn tail if any
            events = list(sm.iter_events())
            stored = {e.command for e in events}  # type: ignore[attr-defined]
            missing = acked - stored
            assert not missing, f"round {rnd}: acknowledged but lost: {sorted(missing)[:5]}"
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert sm.last_seq == len(events)
        res = scan((persist / "s" / "events.log").read_bytes())
        assert res.tail_reason is None and res.count == len(events)
    assert acked, "no appends were acknowledged at all"


def test_sigkill_loses_no_acknowledged_event(tmp_path: Path) -> None:
    _crash_rounds(tmp_path, rounds=8, seed=1)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("AGENTSHELL_STRESS"), reason="set AGENTSHELL_STRESS=1")
def test_sigkill_many_rounds(tmp_path: Path) -> None:
    _crash_rounds(tmp_path, rounds=100, seed=int(time.time()))
