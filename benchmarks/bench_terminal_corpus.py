"""Terminal engine on realistic output shapes (benchmarks/terminal_corpus.py).

Per case, each figure beside its anchor measured in the same run:

1. Emulator fed 4 KB reads (as a PTY delivers them) vs stock ``pyte.Screen`` +
   ``pyte.ByteStream`` fed the same reads, in MB per CPU second of this process;
   target >= 10x on every case.
2. End to end: ``Terminal.run("cat FILE")`` (until the command's end mark has been read
   *and* emulated: the final screen is ready) vs tmux running the same ``cat`` in a
   pane of the same size (``cat FILE; tmux wait-for -S done``); target >= 1.0x.
3. The raw PTY read rate: ``cat FILE`` in a PTY read with nothing else done, the
   ceiling of (2).

Run: ``python -m benchmarks bench_terminal_corpus`` (or ``make bench``). Options by
environment: ``AGENTSHELL_BENCH_CASES=plain,cjk`` to pick cases.
"""

from __future__ import annotations

import asyncio
import os
import pty
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pyte

from agentshell.terminal import Emulator, Terminal
from benchmarks.terminal_corpus import CASES, COLUMNS, LINES, corpus, pty_bytes

EMU_SIZE = 512 * 1024  # characters per case for the emulator figures
E2E_SIZE = 2 * 1024 * 1024  # per case for the end-to-end figures
REPEAT = 3  # best of REPEAT (the machine is shared)
CHUNK = 4096


def _rate(feed: object, data: bytes) -> float:
    """MB per second of this process's CPU time (both sides run in this process, so
    CPU time is what they cost; wall time on a shared machine also counts others)."""
    fn = feed  # type: ignore[assignment]
    t0 = time.process_time()
    for i in range(0, len(data), CHUNK):
        fn(data[i : i + CHUNK])  # type: ignore[operator]
    return len(data) / (time.process_time() - t0) / 1e6


def pyte_rate(data: bytes) -> float:
    best = 0.0
    for _ in range(REPEAT):
        screen = pyte.Screen(COLUMNS, LINES)
        best = max(best, _rate(pyte.ByteStream(screen).feed, data))
    return best


def emulator_rate(data: bytes) -> float:
    best = 0.0
    for _ in range(REPEAT):
        emu = Emulator(COLUMNS, LINES)
        best = max(best, _rate(emu.feed, data))
    return best


def pty_read_rate(path: Path) -> float:
    """``cat FILE`` in a fresh PTY, read until EOF (64 KB reads), nothing else done."""
    best = float("inf")
    for _ in range(REPEAT):
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child
            os.execvp("cat", ["cat", str(path)])
        t0 = time.perf_counter()
        total = 0
        try:
            while True:
                try:
                    got = os.read(fd, 65536)
                except OSError:  # EIO: the child closed its side
                    break
                if not got:
                    break
                total += len(got)
        finally:
            os.close(fd)
            os.waitpid(pid, 0)
        best = min(best, time.perf_counter() - t0)
    return path.stat().st_size / best / 1e6


class Tmux:
    """One tmux server with a COLUMNS x LINES pane running sh, for the whole run."""

    def __init__(self) -> None:
        self.sock = f"agentshell-bench-{os.getpid()}"
        self.cmd = ["tmux", "-L", self.sock, "-f", "/dev/null"]

    def __enter__(self) -> Tmux:
        subprocess.run(
            [*self.cmd, "new-session", "-d", "-x", str(COLUMNS), "-y", str(LINES), "sh"],
            check=True,
            env={**os.environ, "PS1": "$ "},
        )
        subprocess.run([*self.cmd, "set-option", "-g", "history-limit", "10000"], check=True)
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run([*self.cmd, "kill-server"], capture_output=True)

    def _do(self, command: str) -> float:
        t0 = time.perf_counter()
        cmd = f"{command}; tmux -L {self.sock} wait-for -S done"
        subprocess.run([*self.cmd, "send-keys", cmd, "Enter"], check=True)
        subprocess.run([*self.cmd, "wait-for", "done"], check=True)
        return time.perf_counter() - t0

    def rate(self, path: Path) -> float:
        elapsed = float("inf")
        for _ in range(REPEAT):
            self._do("clear")
            elapsed = min(elapsed, self._do(f"cat {path}"))
        return path.stat().st_size / elapsed / 1e6


async def end_to_end(paths: dict[str, Path], tmux: Tmux | None) -> None:
    """Per case: our Terminal, then tmux (blocking calls; the Terminal is idle)."""
    t = Terminal(columns=COLUMNS, lines=LINES, shell="/bin/bash", user_rc=False)
    await t.start()
    try:
        await t.run("true")
        for case, path in paths.items():
            elapsed = float("inf")
            for _ in range(REPEAT):
                await t.run("clear")
                t0 = time.perf_counter()
                result = await t.run(f"cat {path}", timeout=300)
                elapsed = min(elapsed, time.perf_counter() - t0)
                assert result.exit_code == 0, result
            ours = path.stat().st_size / elapsed / 1e6
            raw = pty_read_rate(path)
            if tmux is None:
                print(f"{case:12} {raw:8.1f} {'-':>10} {ours:10.2f}", flush=True)
                continue
            anchor = tmux.rate(path)
            print(
                f"{case:12} {raw:8.1f} {anchor:10.2f} {ours:10.2f} {ours / anchor:6.2f}x",
                flush=True,
            )
    finally:
        await t.close()


def main() -> None:
    picked = os.environ.get("AGENTSHELL_BENCH_CASES")
    cases = [c for c in CASES if not picked or c in picked.split(",")]
    print(f"screen {COLUMNS}x{LINES}; emulator figures on {EMU_SIZE // 1024} KB per case fed")
    print(
        f"{CHUNK // 1024} KB reads, MB per CPU second, best of {REPEAT}; "
        f"end to end (wall time) on {E2E_SIZE // 1024} KB files"
    )
    print()
    print(f"{'case':12} {'pyte MB/s':>10} {'ours MB/s':>10} {'ratio':>7}  (target >= 10x)")
    ratios = []
    for case in cases:
        data = pty_bytes(corpus(case, EMU_SIZE))
        theirs = pyte_rate(data)
        ours = emulator_rate(data)
        ratios.append(ours / theirs)
        print(f"{case:12} {theirs:10.2f} {ours:10.2f} {ours / theirs:6.1f}x", flush=True)
    print(f"{'lowest':12} {'':10} {'':10} {min(ratios):6.1f}x")
    print()
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for case in cases:
            paths[case] = Path(tmp) / f"{case}.out"
            paths[case].write_bytes(corpus(case, E2E_SIZE))
        print("raw PTY: `cat FILE` in a PTY read with nothing else done (the ceiling)")
        print(
            f"{'case':12} {'raw PTY':>8} {'tmux MB/s':>10} {'ours MB/s':>10} {'ratio':>7}"
            "  (target >= 1.0x)"
        )
        if shutil.which("tmux") is None:
            print("(tmux not installed: no end-to-end anchor)")
            asyncio.run(end_to_end(paths, None))
            return
        with Tmux() as tmux:
            asyncio.run(end_to_end(paths, tmux))


if __name__ == "__main__":
    main()
