"""Cluster fixtures: a real 3-node JetStream cluster on loopback per test module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.store.backends import NATS_MISSING, backend, nats_node

__all__ = ["backend", "cluster3", "nats_node"]


@pytest.fixture(scope="module")
def cluster3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if NATS_MISSING is not None:
        pytest.skip(NATS_MISSING)
    from agentshell.store.jetstream_server import start_cluster

    cluster = start_cluster(tmp_path_factory.mktemp("cluster3"), 3)
    yield cluster
    cluster.stop()
