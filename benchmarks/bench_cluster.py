"""Durable appends/s: a session on JetStream R1 (one node) and R3 (three nodes),
loopback, ``sync_interval: always``, beside the local file log, in the same run.

Three loads, each through the SessionManager API an agent's events take:

* one at a time: a blocking ``append``, waiting for each to be durable (latency);
* 64 agents: 64 asyncio tasks each awaiting ``append_async`` in turn (what the
  coordinator sees with many agents: group commit fills the rounds);
* burst: 5,000 ``append_async`` calls queued at once, then awaited.

Events are about 200 bytes (msgpack). Each figure is printed with its ratio to the
file log's figure for the same load (best of 3 runs each).

Then an agent's round trip (``ping`` and a ``screen`` read, one at a time) through
NATS (:mod:`agentshell.server.nats_transport`, one local node) beside the Unix
socket, the same AgentClient and the same server.

Last, a failover on R3: a leader process appending is SIGKILLed; how long until the
standby (following the stream in this process) leads, for two lease TTLs (the TTL is
the floor: the lease must run out). Needs the cluster extra (skipped without it).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentshell.core import events as ev

SEQUENTIAL = 300
AGENTS = 64
PER_AGENT = 40
BURST = 5000
COMMAND = "pytest -q tests/store/test_backends.py -k 'reopen or snapshot' --maxfail=1 " + "x" * 60


def _event(i: int) -> ev.Event:
    return ev.CommandExecuted(agent_id=f"agent{i % AGENTS}", command=f"{COMMAND} {i}", exit_code=0)


def _sequential(sm: Any) -> float:
    t0 = time.perf_counter()
    for i in range(SEQUENTIAL):
        sm.append(_event(i))
    return SEQUENTIAL / (time.perf_counter() - t0)


async def _agents(sm: Any) -> float:
    async def agent(k: int) -> None:
        for i in range(PER_AGENT):
            await sm.append_async(_event(k * PER_AGENT + i))

    t0 = time.perf_counter()
    await asyncio.gather(*(agent(k) for k in range(AGENTS)))
    return AGENTS * PER_AGENT / (time.perf_counter() - t0)


async def _burst(sm: Any) -> float:
    t0 = time.perf_counter()
    futs = [sm.append_async(_event(i)) for i in range(BURST)]
    await asyncio.gather(*futs)
    return BURST / (time.perf_counter() - t0)


REPEAT = 3


def _measure(open_session: Callable[[str], Any]) -> dict[str, float]:
    """Each load on a fresh session, best of :data:`REPEAT` (the machine is shared:
    single runs swing by 1.5x)."""
    out: dict[str, float] = {}
    for rep in range(REPEAT):
        with open_session(f"seq{rep}") as sm:
            sm.append(_event(-1))  # connect, create, warm up
            got = {"one at a time": _sequential(sm)}
        with open_session(f"agents{rep}") as sm:
            sm.append(_event(-1))
            got[f"{AGENTS} agents"] = asyncio.run(_agents(sm))
        with open_session(f"burst{rep}") as sm:
            sm.append(_event(-1))
            got[f"burst of {BURST}"] = asyncio.run(_burst(sm))
            assert sm.last_seq == BURST + 1
        for load, rate in got.items():
            out[load] = max(out.get(load, 0.0), rate)
    return out


ROUND_TRIPS = 2000


async def _round_trips(nats_url: str, root: Path) -> dict[str, tuple[float, float]]:
    """p50 and p99 (ms) of ping and screen, over the socket and over NATS."""
    import statistics

    from agentshell.client import AgentClient
    from agentshell.client.nats_connect import connect_nats
    from agentshell.coordinator.coordinator import Coordinator
    from agentshell.server.nats_transport import NatsListener
    from agentshell.server.server import Server
    from agentshell.store.session import SessionManager

    sm = SessionManager("rt", root / "rt")
    co = Coordinator(sm, project_dir=root, user_rc=False)
    server = Server(co, root / "run" / "rt.sock")
    await co.start()
    await server.start()
    listener = NatsListener(server, nats_url)
    await listener.start()
    out: dict[str, tuple[float, float]] = {}
    try:
        token = await co.add_agent("bench", ["read"])
        clients = {
            "socket": await AgentClient.connect(server.socket_path, "bench", token),
            "NATS": await connect_nats(nats_url, "rt", "bench", token),
        }
        for via, c in clients.items():
            for op in ("ping", "screen"):
                lat = []
                for _ in range(ROUND_TRIPS):
                    t = time.perf_counter()
                    await (c.ping() if op == "ping" else c.screen("main"))
                    lat.append(time.perf_counter() - t)
                lat.sort()
                out[f"{op} via {via}"] = (
                    statistics.median(lat) * 1e3,
                    lat[int(0.99 * len(lat))] * 1e3,
                )
        for c in clients.values():
            await c.close()
    finally:
        await listener.close()
        await server.close()
        await co.stop()
        sm.close()
    return out


_LEADER = """
import sys
from agentshell.core import events as ev
from agentshell.store.jetstream import NatsTarget
from agentshell.store.jetstream_lease import lead
sm = lead(sys.argv[1], NatsTarget(sys.argv[2], replicas=3), ttl=float(sys.argv[3]))
print("ready", flush=True)
while True:
    sm.append(ev.CommandExecuted(agent_id="a", command="x"))
"""


def _takeover(url: str, name: str, ttl: float) -> float:
    """Seconds from the leader's SIGKILL until the standby leads."""
    import subprocess
    import sys

    from agentshell.store.jetstream import NatsTarget
    from agentshell.store.jetstream_lease import Standby

    child = subprocess.Popen(
        [sys.executable, "-c", _LEADER, name, url, str(ttl)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        standby = Standby(name, NatsTarget(url, replicas=3), ttl=ttl)
        deadline = time.monotonic() + 30
        while standby.last_seq < 200 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the standby follows a running leader
        child.kill()
        child.wait(30)
        t0 = time.perf_counter()
        sm = standby.take_over(timeout=ttl * 10)
        took = time.perf_counter() - t0
        sm.close()
        return took
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)


def main() -> None:
    from agentshell.store.session import SessionManager

    try:
        from agentshell.store.jetstream import JetStreamSessionManager, NatsTarget
        from agentshell.store.jetstream_server import checked_binary, start_cluster

        checked_binary()
    except Exception as exc:
        print(f"skipped: {exc} (pip install 'agentshell[cluster]')")
        return
    root = Path(tempfile.mkdtemp(prefix="asb-cluster-", dir="/tmp"))
    results: dict[str, dict[str, float]] = {}
    try:
        results["file log"] = _measure(lambda name: SessionManager(name, root / "sessions"))
        for label, nodes in (("JetStream R1", 1), ("JetStream R3", 3)):
            with start_cluster(root / f"nodes{nodes}", nodes) as cluster:
                target = NatsTarget(
                    cluster.url, replicas=nodes, monitor=tuple(cluster.monitor_urls)
                )
                results[label] = _measure(
                    lambda name, t=target: JetStreamSessionManager(name, t)  # type: ignore[misc]
                )
                if nodes == 1:
                    trips = asyncio.run(_round_trips(cluster.url, root))
                else:
                    takeovers = {
                        ttl: _takeover(cluster.url, f"fo{ttl:g}", ttl) for ttl in (2.0, 5.0)
                    }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    base = results["file log"]
    print("durable appends/s (200-byte events, loopback, sync always / fdatasync):")
    loads = list(base)
    print(f"  {'':14}" + "".join(f"{load:>22}" for load in loads))
    for label, got in results.items():
        cells = []
        for load in loads:
            ratio = "" if label == "file log" else f" ({got[load] / base[load]:.2f}x)"
            cells.append(f"{got[load]:>10,.0f}/s{ratio:>10}")
        print(f"  {label:14}" + "".join(f"{c:>22}" for c in cells))
    print("  (ratio: to the file log under the same load, measured in this run)")
    print(f"agent round trip, one at a time ({ROUND_TRIPS} each; one local NATS node):")
    for op in ("ping", "screen"):
        s50, s99 = trips[f"{op} via socket"]
        n50, n99 = trips[f"{op} via NATS"]
        print(
            f"  {op:7} socket p50 {s50:.3f} ms p99 {s99:.3f} ms | NATS p50 {n50:.3f} ms"
            f" p99 {n99:.3f} ms ({n50 / s50:.2f}x p50, {n99 / s99:.2f}x p99)"
        )
    print("failover on R3 (leader SIGKILLed while appending; standby in this process):")
    for ttl, took in takeovers.items():
        print(
            f"  lease TTL {ttl:g} s: the standby leads {took:.2f} s after the kill ({took / ttl:.2f}x TTL)"
        )


if __name__ == "__main__":
    main()
