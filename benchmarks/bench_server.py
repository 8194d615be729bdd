"""Screen-read round trip through the real server with 50 connected agents, beside a
bare msgpack echo server on the same kind of socket (same framing) in the same run.

Prints p50/p99 latency and throughput of each, and the ratios (targets: p99 < 2 ms,
throughput >= 0.5x echo).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from agentshell.server.framing import encode, read_frame

AGENTS = 50
SEQ_REQUESTS = 2000
PAR_ROUNDS = 40


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

    return await asyncio.start_unix_server(handle, str(path))


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


async def _measure(clients: list[RawClient], body: dict[str, object]) -> tuple[float, float, float]:
    lat: list[float] = []
    c0 = clients[0]
    for _ in range(SEQ_REQUESTS):  # latency: one request at a time (others connected, idle)
        t = time.perf_counter()
        await c0.call(dict(body))
        lat.append(time.perf_counter() - t)
    t0 = time.perf_counter()  # throughput: all clients at once

    async def loop(c: RawClient) -> None:
        for _ in range(PAR_ROUNDS):
            await c.call(dict(body))

    await asyncio.gather(*(loop(c) for c in clients))
    rate = len(clients) * PAR_ROUNDS / (time.perf_counter() - t0)
    return statistics.median(lat) * 1e3, _pct(lat, 0.99) * 1e3, rate


async def _run() -> None:
    from agentshell.coordinator.coordinator import Coordinator
    from agentshell.server.server import Server
    from agentshell.store.session import SessionManager

    root = Path(tempfile.mkdtemp(prefix="asb-", dir="/tmp"))
    sm = SessionManager("bench", root / "data")
    co = Coordinator(sm, project_dir=root)
    server = Server(co, root / "run" / "b.sock")
    await co.start()
    await server.start()
    echo = await _echo_server(root / "echo.sock")
    try:
        frame_lines = [line.text for line in co.screen("main").lines]
        tokens = {f"b{i}": await co.add_agent(f"b{i}", ["read"]) for i in range(AGENTS)}
        ours: list[RawClient] = []
        for aid, tok in tokens.items():
            r, w = await asyncio.open_unix_connection(str(server.socket_path))
            c = RawClient(r, w)
            await c.call({"op": "hello", "agent": aid, "token": tok})
            ours.append(c)
        bare: list[RawClient] = []
        for _ in range(AGENTS):
            r, w = await asyncio.open_unix_connection(str(root / "echo.sock"))
            bare.append(RawClient(r, w))
        # the echo server sends back a screen's worth of lines, like a screen reply
        e50, e99, erate = await _measure(bare, {"op": "echo", "lines": frame_lines})
        s50, s99, srate = await _measure(ours, {"op": "screen", "terminal": "main"})
        print(f"agents connected: {AGENTS}; screen = {len(frame_lines)} lines")
        print(f"echo   : p50 {e50:.3f} ms  p99 {e99:.3f} ms  {erate:,.0f} req/s")
        print(f"screen : p50 {s50:.3f} ms  p99 {s99:.3f} ms  {srate:,.0f} req/s")
        print(
            f"ratio  : p99 {s99 / e99:.2f}x echo (target p99 < 2 ms: {'ok' if s99 < 2 else 'MISSED'}); "
            f"throughput {srate / erate:.2f}x echo (target >= 0.5x: {'ok' if srate / erate >= 0.5 else 'MISSED'})"
        )
        for c in ours + bare:
            c.w.close()
    finally:
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
