"""Shared drafts end to end: 50 socket clients x 200 concurrent single-character ops
into one draft through the real server, beside the bare msgpack echo anchor (50
clients x 200 round trips on the same kind of socket) from the same run.

Two ways of typing:

* ``streamed``: each client types as fast as it can (yielding to the loop between
  keys); while one op is in flight the next keys compose into one (as an editor does),
  so fewer ops cross the wire than were typed.
* ``one by one``: each client waits for the ack of every key before the next one;
  every key is one wire op the server transforms against the others.

Every client must end with the server's text, and so must the log replayed
(asserted). ops/s = keys typed / time until every client has converged.

The 50 clients run in the server's process and event loop (as in the tests), so the
figure includes their work: every op is pushed to all 50 (fan-out, 50 x the frames of
the echo anchor) and each client transforms it against its pending local ops. With
keys at random places the composed local buffer has many components, and that
client-side transform is most of the time (profile: ``core.ot.transform``).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.bench_server import RawClient, _echo_server

CLIENTS = 50
OPS = 200


async def _echo_rate(sock: Path) -> float:
    clients = []
    for _ in range(CLIENTS):
        r, w = await asyncio.open_unix_connection(str(sock))
        clients.append(RawClient(r, w))

    async def loop(c: RawClient) -> None:
        for _ in range(OPS):
            await c.call({"op": "doc_op", "lines": ["x"]})

    t0 = time.perf_counter()
    await asyncio.gather(*(loop(c) for c in clients))
    rate = CLIENTS * OPS / (time.perf_counter() - t0)
    for c in clients:
        c.w.close()
    return rate


async def _typing(co: object, sock: Path, tokens: dict[str, str], draft: str, wait: bool) -> float:
    from agentshell.client import AgentClient
    from agentshell.core import ot

    clients = [await AgentClient.connect(sock, aid, tok) for aid, tok in tokens.items()]
    docs = [await c.draft(draft) for c in clients]

    async def typist(i: int) -> None:
        rng = random.Random(i)
        d = docs[i]
        for k in range(OPS):
            n = len(d.text)
            if n and rng.random() < 0.25:
                d.delete(rng.randrange(n), 1)
            else:
                d.insert(rng.randint(0, n), "abcdefghij"[(i + k) % 10])
            if wait:
                await d.acked(60)
            else:
                await asyncio.sleep(0)

    t0 = time.perf_counter()
    await asyncio.gather(*(typist(i) for i in range(CLIENTS)))
    for _ in range(2):  # the second round picks up ops others sent after a first sync
        await asyncio.gather(*(d.sync(60) for d in docs))
    elapsed = time.perf_counter() - t0
    text, revision = co.doc_state(f"draft:{draft}")  # type: ignore[attr-defined]
    assert all(d.text == text and d.revision == revision for d in docs), "did not converge"
    replay = ""
    for e in co.session.iter_events():  # type: ignore[attr-defined]
        if e.event_type == "doc_op" and e.doc == f"draft:{draft}":
            replay = ot.apply(replay, ot.from_wire(e.op))
    assert replay == text, "the log does not replay to the server's text"
    for c in clients:
        await c.close()
    mode = "one by one" if wait else "streamed  "
    print(
        f"{mode}: {CLIENTS} x {OPS} keys -> {revision} wire ops, converged in "
        f"{elapsed:.2f} s: {CLIENTS * OPS / elapsed:,.0f} keys/s, "
        f"{revision / elapsed:,.0f} wire ops/s; {len(text)} chars"
    )
    return CLIENTS * OPS / elapsed


async def _run() -> None:
    from agentshell.coordinator.coordinator import Coordinator
    from agentshell.server.server import Server
    from agentshell.store.session import SessionManager

    root = Path(tempfile.mkdtemp(prefix="asd-", dir="/tmp"))
    sm = SessionManager("bench", root / "data")
    co = Coordinator(sm, project_dir=root)
    server = Server(co, root / "run" / "b.sock")
    await co.start()
    await server.start()
    await co.open_terminal("second")
    echo = await _echo_server(root / "echo.sock")
    try:
        tokens = {f"d{i}": await co.add_agent(f"d{i}", ["read", "type"]) for i in range(CLIENTS)}
        erate = await _echo_rate(root / "echo.sock")
        print(f"echo      : {CLIENTS} x {OPS} round trips: {erate:,.0f} req/s (anchor)")
        streamed = await _typing(co, server.socket_path, tokens, "main", wait=False)
        one = await _typing(co, server.socket_path, tokens, "second", wait=True)
        print(
            f"ratio     : streamed {streamed / erate:.2f}x echo, "
            f"one by one {one / erate:.2f}x echo (every client converged)"
        )
    finally:
        echo.close()
        await server.close()
        await co.stop()
        sm.close()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    asyncio.run(_run())


if __name__ == "__main__":
    main()
