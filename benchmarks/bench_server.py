"""Round trips through the real server with 50, 500 and 1,000 connected agents, beside
a bare asyncio echo server over a Unix socket (same framing, same number of
connections) in the same run.

For each count: the p50/p99 latency of one request at a time from one agent while
the others stay connected (``ping``: the protocol's own round trip; ``screen``: a
read of a terminal's lines, the echo server sending back as many lines), then the
throughput with every agent asking at once, and the ratios to the echo server.
Targets: p99 < 2 ms at 500 agents; throughput >= 0.5x echo.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from agentshell.server.framing import encode, read_frame

COUNTS = (50, 500, 1000)
SEQ_REQUESTS = 2000
PAR_ROUNDS = 20
#: Goal of the issue: p99 below this many ms at 500 connected agents.
P99_GOAL_MS = 2.0


async def _echo_server(path: Path) -> asyncio.AbstractServer:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while True:
                req = await read_frame(r)
                w.write(encode({"id": req.get("id"), "ok": True, "lines": req.get("lines", [])}))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            w.close()

    return await asyncio.start_unix_server(handle, str(path), backlog=4096)


class RawClient:
    def __init__(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.r, self.w, self.n = r, w, 0

    async def call(self, body: dict[str, object]) -> dict[str, object]:
        self.n += 1
        body["id"] = self.n
        self.w.write(encode(body))
        rep = await read_frame(self.r)
        assert rep.get("ok"), rep
        return rep


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


async def _latency(c: RawClient, body: dict[str, object]) -> tuple[float, float]:
    """p50, p99 (ms) of one request at a time (the other clients connected, idle)."""
    lat: list[float] = []
    for _ in range(SEQ_REQUESTS):
        t = time.perf_counter()
        await c.call(dict(body))
        lat.append(time.perf_counter() - t)
    return statistics.median(lat) * 1e3, _pct(lat, 0.99) * 1e3


async def _throughput(clients: list[RawClient], body: dict[str, object]) -> float:
    async def loop(c: RawClient) -> None:
        for _ in range(PAR_ROUNDS):
            await c.call(dict(body))

    t0 = time.perf_counter()
    await asyncio.gather(*(loop(c) for c in clients))
    return len(clients) * PAR_ROUNDS / (time.perf_counter() - t0)


async def _connect(path: Path, n: int) -> list[RawClient]:
    out = []
    for _ in range(n):
        r, w = await asyncio.open_unix_connection(str(path))
        out.append(RawClient(r, w))
    return out


async def _run() -> None:
    from agentshell.coordinator.coordinator import Coordinator
    from agentshell.server.server import Server
    from agentshell.store.session import SessionManager

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 4 * max(COUNTS) + 256
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    root = Path(tempfile.mkdtemp(prefix="asb-", dir="/tmp"))
    sm = SessionManager("bench", root / "data")
    co = Coordinator(sm, project_dir=root, user_rc=False)
    server = Server(co, root / "run" / "b.sock")
    await co.start()
    await server.start()
    echo = await _echo_server(root / "echo.sock")
    ours: list[RawClient] = []
    bare: list[RawClient] = []
    try:
        frame_lines = [line.text for line in co.screen("main").lines]
        print(f"screen = {len(frame_lines)} lines; {SEQ_REQUESTS} requests one at a time,")
        print(f"then {PAR_ROUNDS} per agent with all asking at once (echo: a bare asyncio")
        print("server over a Unix socket, the same framing, as many connections)")
        rows = []
        for n in COUNTS:
            ids = [f"b{i}" for i in range(len(ours), n)]
            tokens = await asyncio.gather(*(co.add_agent(a, ["read"]) for a in ids))
            for aid, tok in zip(ids, tokens, strict=True):
                [c] = await _connect(server.socket_path, 1)
                await c.call({"op": "hello", "agent": aid, "token": tok})
                ours.append(c)
            bare += await _connect(root / "echo.sock", n - len(bare))
            e_ping = await _latency(bare[0], {"op": "echo"})
            s_ping = await _latency(ours[0], {"op": "ping"})
            e_scr = await _latency(bare[0], {"op": "echo", "lines": frame_lines})
            s_scr = await _latency(ours[0], {"op": "screen", "terminal": "main"})
            e_rate = await _throughput(bare, {"op": "echo", "lines": frame_lines})
            s_rate = await _throughput(ours, {"op": "screen", "terminal": "main"})
            rows.append((n, e_ping, s_ping, e_scr, s_scr, e_rate, s_rate))
        for n, e_ping, s_ping, e_scr, s_scr, e_rate, s_rate in rows:
            print(f"\n{n} agents connected")
            print(
                f"  ping   : p50 {s_ping[0]:.3f} ms  p99 {s_ping[1]:.3f} ms"
                f"   echo p50 {e_ping[0]:.3f}  p99 {e_ping[1]:.3f}"
                f"   ratio p99 {s_ping[1] / e_ping[1]:.2f}x"
            )
            print(
                f"  screen : p50 {s_scr[0]:.3f} ms  p99 {s_scr[1]:.3f} ms"
                f"   echo p50 {e_scr[0]:.3f}  p99 {e_scr[1]:.3f}"
                f"   ratio p99 {s_scr[1] / e_scr[1]:.2f}x"
            )
            print(
                f"  all at once: {s_rate:,.0f} screen/s, echo {e_rate:,.0f}/s"
                f"   ratio {s_rate / e_rate:.2f}x"
                f" (target >= 0.5x: {'ok' if s_rate / e_rate >= 0.5 else 'MISSED'})"
            )
            if n == 500:
                worst = max(s_ping[1], s_scr[1])
                verdict = "ok" if worst < P99_GOAL_MS else "MISSED"
                print(f"  goal p99 < {P99_GOAL_MS:g} ms at 500: {worst:.3f} ms ({verdict})")
    finally:
        for c in ours + bare:
            c.w.close()
        echo.close()
        await server.close()
        await co.stop()
        sm.close()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    asyncio.run(_run())


if __name__ == "__main__":
    os.environ.setdefault("PYTHONASYNCIODEBUG", "0")
    main()
