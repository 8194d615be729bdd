"""Replay benchmarks, each figure beside an anchor measured in the same run.

* Seek to the end of a 1,000,000-event session that has a store snapshot near its end
  (state = snapshot + tail fold; screens = recorded output re-fed to an emulator),
  beside a full replay of the same session (a timeline on the same log without the
  snapshot: every record folded). Opening (the one read-only index pass) is printed too.
* Stepping back one position at a time through 50 MB of terminal output (screen
  keyframes), beside feeding that output from the terminal's start.
* asciicast export of a session with 10 MB of terminal output, beside a bare
  ``json.dumps`` of the same chunks (already decoded) as the anchor.

Sizes scale with ``AGENTSHELL_BENCH_SCALE`` (e.g. 0.1).
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from agentshell.core import events as ev
from agentshell.replay.cast import write_cast
from agentshell.replay.timeline import Timeline
from agentshell.store.framing import frame, pack_body
from agentshell.store.session import SessionManager
from agentshell.terminal.emulator import Emulator

SCALE = float(os.environ.get("AGENTSHELL_BENCH_SCALE", "1"))
AGENTS = ["coder", "reviewer", "tester", "ops"]
WORDS = ["build", "test", "lint", "ok", "passed", "failed", "src", "main", "py", "error"]


def _line(rnd: random.Random) -> bytes:
    words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 12)))
    if rnd.random() < 0.2:
        return f"\x1b[32m{words}\x1b[0m\r\n".encode()
    return f"{words}\r\n".encode()


def _events(n: int, seed: int = 3) -> list[ev.Event]:
    rnd = random.Random(seed)
    t = 1_795_000_000.0
    out: list[ev.Event] = [
        ev.AgentRegistered(agent_id=a, capabilities=["run"], timestamp=t) for a in AGENTS
    ]
    out.append(ev.TerminalOpened(terminal="main", columns=120, lines=40, timestamp=t))
    i = 0
    pending: list[str] = []
    while len(out) < n:
        t += 0.001
        i += 1
        k = rnd.random()
        a = rnd.choice(AGENTS)
        e: ev.Event
        if k < 0.10:
            e = ev.TerminalOutput(terminal="main", data=_line(rnd), timestamp=t)
        elif k < 0.45:
            e = ev.AgentStatusChanged(agent_id=a, status="working", timestamp=t)
        elif k < 0.70:
            e = ev.DirectoryChanged(agent_id=a, path=f"/work/{i % 50}", timestamp=t)
        elif k < 0.80 or not pending:
            pending.append(f"a{i}")
            e = ev.ApprovalQueued(agent_id=a, approval_id=pending[-1], command="make", timestamp=t)
        elif k < 0.90:
            e = ev.ApprovalDecided(approval_id=pending.pop(0), decision="rejected", timestamp=t)
        elif k < 0.99:
            e = ev.CommandExecuted(agent_id=a, command=f"make t{i % 9}", exit_code=0, timestamp=t)
        else:
            e = ev.TaskCreated(task_id=f"t{i}", description="fix the build", timestamp=t)
        out.append(e)
    return out


def _write_log(path: Path, events: list[ev.Event], first_seq: int = 1) -> None:
    with open(path, "ab") as f:
        for k, e in enumerate(events):
            f.write(frame(pack_body(e.with_seq(first_seq + k).to_record())))


def bench_seek(n: int, tmp: Path) -> None:
    events = _events(n)
    cut = n - max(1, n // 100)  # the snapshot is taken 1% before the end
    snap_dir = tmp / "snap" / "s"
    snap_dir.mkdir(parents=True)
    _write_log(snap_dir / "events.log", events[:cut])
    with SessionManager.open_existing(snap_dir) as sm:
        sm.persist_snapshot()
    _write_log(snap_dir / "events.log", events[cut:], first_seq=cut + 1)
    plain_dir = tmp / "plain" / "s"
    plain_dir.mkdir(parents=True)
    shutil.copy(snap_dir / "events.log", plain_dir / "events.log")
    out_bytes = sum(len(e.data) for e in events if isinstance(e, ev.TerminalOutput))
    del events

    t0 = time.perf_counter()
    tl = Timeline(snap_dir)
    t_open = time.perf_counter() - t0
    assert tl.snapshot_positions == [cut], tl.snapshot_positions
    t0 = time.perf_counter()
    state, screens = tl.seek(len(tl))
    t_seek = time.perf_counter() - t0
    assert state["last_seq"] == n

    full = Timeline(plain_dir)
    t0 = time.perf_counter()
    state2, screens2 = full.seek(len(full))
    t_full = time.perf_counter() - t0
    assert screens["main"].display == screens2["main"].display
    assert state2["event_count"] == state["event_count"] == n
    print(
        f"seek to end of {n:,} events ({out_bytes / 1e6:.1f} MB output): "
        f"{t_seek:.3f} s with a snapshot vs {t_full:.3f} s full replay "
        f"(ratio {t_full / t_seek:.1f}x; target < 1 s: {'ok' if t_seek < 1 else 'MISSED'}); "
        f"index pass on open {t_open:.2f} s"
    )


def bench_cast(mb: float, tmp: Path) -> None:
    rnd = random.Random(5)
    d = tmp / "cast" / "s"
    d.mkdir(parents=True)
    t = 1_795_000_000.0
    events: list[ev.Event] = [ev.TerminalOpened(terminal="main", timestamp=t)]
    size = 0
    while size < mb * 1e6:
        t += 0.01
        chunk = b"".join(_line(rnd) for _ in range(40)) + "é→✓".encode()
        size += len(chunk)
        events.append(ev.TerminalOutput(terminal="main", data=chunk, timestamp=t))
    _write_log(d / "events.log", events)
    tl = Timeline(d)
    chunks = [e.data.decode("utf-8", "replace") for e in events if isinstance(e, ev.TerminalOutput)]
    times = [e.timestamp for e in events if isinstance(e, ev.TerminalOutput)]
    best_cast = best_anchor = float("inf")
    for _ in range(3):
        buf = io.StringIO()
        t0 = time.perf_counter()
        write_cast(tl, "main", buf)
        best_cast = min(best_cast, time.perf_counter() - t0)
        buf = io.StringIO()
        t0 = time.perf_counter()
        for ts, c in zip(times, chunks, strict=True):
            buf.write(json.dumps([ts, "o", c]) + "\n")
        best_anchor = min(best_anchor, time.perf_counter() - t0)
    rate = size / 1e6 / best_cast
    print(
        f"asciicast export of {size / 1e6:.1f} MB output ({len(chunks):,} chunks): "
        f"{rate:.0f} MB/s vs bare json.dumps {size / 1e6 / best_anchor:.0f} MB/s "
        f"(ratio {best_cast / best_anchor:.2f}; target >= 20 MB/s: "
        f"{'ok' if rate >= 20 else 'MISSED'})"
    )


def bench_step_back(mb: float, tmp: Path) -> None:
    """Stepping back through a recording with ``mb`` MB of terminal output, one
    position at a time from its end (the scrubber's left key), beside the anchor:
    feeding the same output to an emulator from the terminal's start (what each such
    step cost before keyframes)."""
    rnd = random.Random(4)
    t = 1_795_000_000.0
    events: list[ev.Event] = [ev.TerminalOpened(terminal="main", columns=120, lines=40)]
    size = 0
    while size < mb * 1e6:
        t += 0.01
        data = b"".join(_line(rnd) for _ in range(30))
        size += len(data)
        events.append(ev.TerminalOutput(terminal="main", data=data, timestamp=t))
    sdir = tmp / "steps" / "s"
    sdir.mkdir(parents=True)
    _write_log(sdir / "events.log", events)
    tl = Timeline(sdir)
    n = len(tl)
    t0 = time.perf_counter()
    tl.seek(n)
    t_end = time.perf_counter() - t0
    steps = 10
    t0 = time.perf_counter()
    for k in range(1, steps + 1):
        tl.seek(n - k)
    t_step = (time.perf_counter() - t0) / steps
    anchor = Emulator(120, 40)
    chunks = [e.data for e in events if isinstance(e, ev.TerminalOutput)]
    t0 = time.perf_counter()
    anchor.feed(b"".join(chunks))
    t_anchor = time.perf_counter() - t0
    print(
        f"step back through {size / 1e6:.0f} MB of terminal output: {t_step * 1000:.0f} ms a step"
        f" (mean of {steps}; {tl.keyframe_count} keyframes) | anchor feeding the output from"
        f" the terminal's start: {t_anchor * 1000:.0f} ms | ratio {t_anchor / t_step:.0f}x"
        f" (first seek to the end {t_end:.2f} s)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="agentshell-bench-replay-") as tmp:
        bench_seek(int(1_000_000 * SCALE), Path(tmp))
        bench_step_back(50 * SCALE, Path(tmp))
        bench_cast(10 * SCALE, Path(tmp))


if __name__ == "__main__":
    main()
