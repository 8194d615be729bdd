"""Agents and operators through NATS: the same protocol and client as the socket
(a real coordinator with a real shell, a real nats-server, the real AgentClient)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agentshell.client.client import ServerError
from agentshell.coordinator.coordinator import Coordinator
from agentshell.server.server import Server
from agentshell.store.session import SessionManager
from tests.polling import until
from tests.store.backends import needs_nats

pytestmark = needs_nats
CAPS = ["read", "run", "type", "edit"]


@pytest.fixture
async def served(tmp_path: Path, nats_node: Any) -> AsyncIterator[tuple[Coordinator, Server, Any]]:
    from agentshell.server.nats_transport import NatsListener

    root = Path(tempfile.mkdtemp(prefix="as-", dir="/tmp"))
    sm = SessionManager("natsy", tmp_path / "data")
    co = Coordinator(sm, project_dir=tmp_path, user_rc=False)
    server = Server(co, root / "run" / "t.sock")
    await co.start()
    await server.start()
    listener = NatsListener(server, nats_node.url)
    await listener.start()
    try:
        yield co, server, listener
    finally:
        await listener.close()
        await server.close()
        await co.stop()
        sm.close()
        shutil.rmtree(root, ignore_errors=True)


async def test_an_agent_runs_a_command_through_nats_once_approved(
    served: tuple[Coordinator, Server, Any], nats_node: Any
) -> None:
    from agentshell.client.nats_connect import connect_nats

    co, _, listener = served
    token = await co.add_agent("remote", CAPS)
    c = await connect_nats(nats_node.url, "natsy", "remote", token)
    try:
        assert c.agent_id == "remote" and c.session == "natsy"
        assert listener.opened == 1
        events = await c.subscribe(["approval_queued"])
        aid = await c.propose("echo over-nats-$((6*7))")
        queued = await asyncio.wait_for(events.__anext__(), 15)
        assert queued.approval_id == aid and queued.agent_id == "remote"
        assert co.agent("remote").status != "disconnected"  # waiting on its approval
        await co.approve(aid)
        res = await c.result(aid)
        assert res.exit_code == 0 and "over-nats-42" in res.output
        screen = await c.screen("main")
        assert any("over-nats-42" in line for line in screen.lines)
    finally:
        await c.close()
    await until(lambda: co.agent("remote").status == "disconnected", what="disconnected")


async def test_a_wrong_token_is_refused_as_on_the_socket(
    served: tuple[Coordinator, Server, Any], nats_node: Any
) -> None:
    from agentshell.client.nats_connect import connect_nats

    co, _, _ = served
    await co.add_agent("remote", CAPS)
    with pytest.raises(ServerError) as e:
        await connect_nats(nats_node.url, "natsy", "remote", "not-the-token")
    assert e.value.code == "auth_failed"


async def test_the_operator_decides_through_nats(
    served: tuple[Coordinator, Server, Any], nats_node: Any
) -> None:
    from agentshell.client.nats_connect import connect_nats

    co, server, _ = served
    token = await co.add_agent("remote", CAPS)
    agent = await connect_nats(nats_node.url, "natsy", "remote", token)
    op = await connect_nats(nats_node.url, "natsy", operator=True, token=server.operator_token)
    try:
        aid = await agent.propose("echo decided-remotely")
        await until(lambda: any(a.approval_id == aid for a in co.approvals()), what="queued")
        listed = await op.approvals()
        assert [a["approval_id"] for a in listed] == [aid]
        await op.approve(aid)
        res = await agent.result(aid)
        assert "decided-remotely" in res.output
    finally:
        await agent.close()
        await op.close()


async def test_no_server_for_the_session_is_a_clear_error(nats_node: Any) -> None:
    from agentshell.client.nats_connect import NatsUnreachable, connect_nats

    with pytest.raises(NatsUnreachable, match="no server of session 'nobody'"):
        await connect_nats(nats_node.url, "nobody", "a", "t", timeout=1.0)


async def test_a_lost_message_ends_the_connection_instead_of_corrupting_it() -> None:
    from agentshell.store.nats_pipe import H_SEQ, PipeReader

    class Msg:
        def __init__(self, seq: int, data: bytes) -> None:
            self.headers = {H_SEQ: str(seq)}
            self.data = data

    r = PipeReader(1 << 16)
    await r.on_message(Msg(1, b"abc"))
    await r.on_message(Msg(3, b"xyz"))  # message 2 never came
    assert r.broken is not None and "lost in transit" in r.broken
    assert await r.stream.read() == b"abc"  # and then the end, not b"abcxyz"


async def test_a_silent_other_side_ends_the_stream() -> None:
    from agentshell.store.nats_pipe import H_SEQ, PipeReader

    class Msg:
        def __init__(self) -> None:
            self.headers = {H_SEQ: "1"}
            self.data = b"hi"

    r = PipeReader(1 << 16, idle_timeout=0.2)
    await r.on_message(Msg())
    assert await asyncio.wait_for(r.stream.read(), 5) == b"hi"  # then EOF, unprompted
    assert r.broken is not None and "nothing heard for 0.2 s" in r.broken
