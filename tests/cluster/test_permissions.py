"""A NATS user per agent (docs/cluster.md): the coordinator's user writes the
session's stream; an agent's user reaches the coordinator through NATS and nothing
else: it cannot append to the stream or read it."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from agentshell.coordinator.coordinator import Coordinator
from agentshell.server.server import Server
from tests.store.backends import needs_nats

pytestmark = needs_nats

SESSION = "team"


def accounts(token: str) -> dict[str, Any]:
    """The docs' example for session ``team``: a coordinator and an agent ``coder``."""
    return {
        "accounts": {
            "TEAM": {
                "jetstream": "enabled",
                "users": [
                    {"user": "coordinator", "password": "coordinator-pw"},
                    {
                        "user": "coder",
                        "password": "coder-pw",
                        "permissions": {
                            "publish": {
                                "allow": [f"agentshell.{token}.open", f"agentshell.{token}.conn.*"]
                            },
                            "subscribe": {"allow": ["_INBOX_coder.>"]},
                        },
                    },
                ],
            }
        }
    }


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from agentshell.store.jetstream import session_token
    from agentshell.store.jetstream_server import start_cluster

    cluster = start_cluster(
        tmp_path_factory.mktemp("guarded"), 1, extra=accounts(session_token(SESSION))
    )
    yield cluster
    cluster.stop()


async def test_an_agent_user_reaches_the_coordinator_and_nothing_else(
    guarded: Any, tmp_path: Path
) -> None:
    from agentshell.client.nats_connect import connect_nats
    from agentshell.server.nats_transport import NatsListener
    from agentshell.store.jetstream import JetStreamError, JetStreamSessionManager, NatsTarget

    coord_target = NatsTarget(
        guarded.url,
        user="coordinator",
        password="coordinator-pw",
        monitor=tuple(guarded.monitor_urls),
    )
    agent_target = NatsTarget(
        guarded.url, user="coder", password="coder-pw", timeout=1.0, publish_deadline=1.0
    )
    sm = await asyncio.to_thread(JetStreamSessionManager, SESSION, coord_target)
    root = Path(tempfile.mkdtemp(prefix="as-", dir="/tmp"))
    co = Coordinator(sm, project_dir=tmp_path, user_rc=False)
    server = Server(co, root / "t.sock")
    await co.start()
    await server.start()
    listener = NatsListener(server, coord_target)
    await listener.start()
    try:
        token = await co.add_agent("coder", ["read", "run", "type", "edit"])
        c = await connect_nats(agent_target, SESSION, "coder", token, inbox="_INBOX_coder")
        try:
            aid = await c.propose("echo through-permissions")
            await co.approve(aid)
            assert "through-permissions" in (await c.result(aid)).output
        finally:
            await c.close()
        # without its own inbox prefix the agent's replies cannot reach it
        with pytest.raises(Exception):  # noqa: B017 (a timeout or a permissions error)
            await connect_nats(agent_target, SESSION, "coder", token, timeout=1.0)
        before = sm.last_seq
        # the agent's user cannot open the stream as a writer (no JetStream API) ...
        with pytest.raises(JetStreamError):
            await asyncio.to_thread(JetStreamSessionManager, SESSION, agent_target)
        # ... nor publish into the events subject directly
        import nats

        nc = await nats.connect(
            guarded.url, user="coder", password="coder-pw", inbox_prefix="_INBOX_coder"
        )
        try:
            await nc.publish(f"agentshell.{sm.subject.split('.')[1]}.events", b"forged")
            await nc.flush()
        finally:
            await nc.close()
        info = await asyncio.to_thread(sm._call, lambda: sm._js.stream_info(sm.stream))
        assert info.state.last_seq == sm.writer.last_stream_seq  # nothing forged got in
        assert sm.last_seq == before
    finally:
        await listener.close()
        await server.close()
        await co.stop()
        await asyncio.to_thread(sm.close)
        shutil.rmtree(root, ignore_errors=True)
