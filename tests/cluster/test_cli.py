"""`agentshell cluster up/down/status` as a user runs them: real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agentshell.core.state import state_to_plain
from tests.store.backends import needs_nats

pytestmark = needs_nats


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "agentshell"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_up_prints_the_url_down_stops_and_the_data_survives(tmp_path: Path) -> None:
    from agentshell.store.jetstream import JetStreamSessionManager, NatsTarget
    from agentshell.store.jetstream_server import LocalCluster

    d = str(tmp_path / "c")
    up = _cli("cluster", "up", "--nodes", "3", "--port", "0", "--dir", d)
    assert up.returncode == 0, up.stderr
    url = up.stdout.strip().splitlines()[-1]
    assert url.count("nats://127.0.0.1:") == 3
    pids = [n.pid for n in LocalCluster.load(Path(d)).nodes]
    try:
        assert all(_alive(p) for p in pids)
        again = _cli("cluster", "up", "--port", "0", "--dir", d)
        assert again.returncode == 1 and "already running" in again.stderr
        status = _cli("cluster", "status", "--dir", d)
        assert status.stdout.count(": ready") == 3
        with JetStreamSessionManager("tried", NatsTarget(url, replicas=3)) as sm:
            for i in range(10):
                sm.record_event("command_executed", "a", {"command": f"c{i}"})
            live = state_to_plain(sm.state)
    finally:
        down = _cli("cluster", "down", "--dir", d)
    assert down.returncode == 0, down.stderr
    assert down.stdout.count("stopped n") == 3
    assert not any(_alive(p) for p in pids)
    up2 = _cli("cluster", "up", "--nodes", "3", "--port", "0", "--dir", d)
    assert up2.returncode == 0, up2.stderr
    try:
        url2 = up2.stdout.strip().splitlines()[-1]
        target = NatsTarget(url2, replicas=3)
        with JetStreamSessionManager("tried", target, create=False) as sm:
            assert state_to_plain(sm.state) == live
    finally:
        wiped = _cli("cluster", "down", "--wipe", "--dir", d)
    assert wiped.returncode == 0 and "deleted" in wiped.stdout
    assert not (Path(d) / "n1").exists()


def test_down_without_a_cluster_says_so(tmp_path: Path) -> None:
    got = _cli("cluster", "down", "--dir", str(tmp_path / "none"))
    assert got.returncode == 1 and "no cluster started in" in got.stderr


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        got = _cli("cluster", "up", "--nodes", "1", "--port", str(port), "--dir", str(tmp_path))
    assert got.returncode == 1 and f"port(s) {port} on 127.0.0.1 are in use" in got.stderr


def test_an_operator_token_file_goes_with_nats(tmp_path: Path) -> None:
    local = _cli("serve", "--dir", str(tmp_path), "--operator-token-file", str(tmp_path / "t"))
    assert local.returncode != 0 and "only with --nats" in local.stderr
    assert not (tmp_path / "t").exists()
    empty = tmp_path / "empty"
    empty.write_text("")
    # a file that is there but empty is refused before anything starts
    served = _cli(
        "cluster", "serve", "--nats", "nats://127.0.0.1:1", "--session", "x",
        "--dir", str(tmp_path), "--operator-token-file", str(empty),
    )  # fmt: skip
    assert served.returncode != 0 and "is empty" in served.stderr
