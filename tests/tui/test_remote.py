"""`agentshell tui --nats`: operators on other machines watch and decide a session
served through NATS (a real nats-server with JetStream, a real coordinator with a
real shell on the session's stream, the real Textual app, the real NATS client)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentshell.coordinator.coordinator import Coordinator
from agentshell.coordinator.results import NotFoundError
from agentshell.core import events as ev
from agentshell.server.server import Server
from agentshell.tui.app import AgentShellApp
from agentshell.tui.backend import ConflictSides
from agentshell.tui.widgets.sidebar.approvals import ApprovalQueue
from tests.polling import until
from tests.store.backends import nats_node, needs_nats

pytestmark = needs_nats
__all__ = ["nats_node"]  # the fixture
CAPS = ["read", "run", "type", "edit"]
BASE = "".join(f"line {i}\n" for i in range(10))


def change(lines: range, text: str) -> str:
    rows = BASE.splitlines(keepends=True)
    for i in lines:
        rows[i] = f"{text} {i}\n"
    return "".join(rows)


@dataclass
class Served:
    name: str
    target: Any
    co: Coordinator
    server: Server


@pytest.fixture
async def served(tmp_path: Path, nats_node: Any) -> AsyncIterator[Served]:
    """A session on the node's JetStream, its coordinator serving through NATS."""
    from agentshell.server.nats_transport import NatsListener
    from agentshell.store.jetstream import JetStreamSessionManager, NatsTarget

    name = f"remote-{uuid.uuid4().hex[:10]}"
    target = NatsTarget(nats_node.url, replicas=1)
    sm = JetStreamSessionManager(name, target)
    root = Path(tempfile.mkdtemp(prefix="asr-", dir="/tmp"))
    co = Coordinator(sm, project_dir=tmp_path, user_rc=False)
    server = Server(co, root / "t.sock")
    listener = NatsListener(server, target, name)
    await co.start()
    await server.start()
    await listener.start()
    try:
        yield Served(name, target, co, server)
    finally:
        await listener.close()
        await server.close()
        await co.stop()
        sm.close()
        shutil.rmtree(root, ignore_errors=True)


async def open_remote(s: Served) -> Any:
    from agentshell.tui.remote import RemoteBackend

    return await RemoteBackend.open(s.target, s.name, s.server.operator_token)


def screen_text(backend: Any, terminal: str = "main") -> str:
    return "\n".join(backend.terminals()[terminal].frame().display)


async def test_two_remote_operators_one_decision_wins_and_both_see_it(served: Served) -> None:
    from agentshell.client.nats_connect import connect_nats

    co = served.co
    token = await co.add_agent("coder", CAPS)
    agent = await connect_nats(served.target, served.name, "coder", token)
    first, second = await open_remote(served), await open_remote(served)
    try:
        aid = await agent.propose("printf 'remote-%s\\n' $((6*7))")
        app = AgentShellApp(first, notify_new=False)
        async with app.run_test(size=(160, 48)) as pilot:
            # the queue of the remote app, and the other operator's state, both show it
            await until(
                lambda: [a.approval_id for a in app.query_one(ApprovalQueue).items] == [aid],
                what="the item in the remote app's queue",
            )
            await until(lambda: aid in second.state["pending_approvals"], what="second sees it")
            assert app.query_one("#pane-main") is not None
            await pilot.press("a")  # the first operator approves in the app
            result = await agent.result(aid)
            assert result.exit_code == 0 and "remote-42" in result.output
            # the second operator comes too late: told so, and sees it decided
            with pytest.raises(NotFoundError, match="no pending approval"):
                await second.approve(aid)
            for backend in (first, second):

                def decided_here(b: Any = backend) -> bool:
                    return aid not in b.state["pending_approvals"]

                def shown_here(b: Any = backend) -> bool:
                    return "remote-42" in screen_text(b)

                await until(decided_here, what="decided in each view")
                await until(shown_here, what="the output in the pane")
            await until(lambda: not app.query_one(ApprovalQueue).items, what="queue emptied")
        executed = [e for e in co.session.iter_events() if isinstance(e, ev.CommandExecuted)]
        assert [(e.approval_id, e.agent_id) for e in executed] == [(aid, "coder")]
        decided = [e for e in co.session.iter_events() if isinstance(e, ev.ApprovalDecided)]
        assert [(d.approval_id, d.decision) for d in decided] == [(aid, "approved")]
    finally:
        await agent.close()
        await first.close()
        await second.close()


async def test_a_remote_view_opens_on_history_and_resolves_a_conflict(served: Served) -> None:
    co = served.co
    for agent in ("a", "b"):
        await co.add_agent(agent, CAPS)
    aid = await co.propose("a", "echo earlier-$((7*7))")
    await co.approve(aid)
    await until(lambda: aid not in co.state["pending_approvals"], timeout=30, what="ran")
    await co.report_edit("a", "f.py", BASE, change(range(2, 5), "mine"))
    _, conflicts = await co.report_edit("b", "f.py", BASE, change(range(4, 6), "theirs"))
    (conflict,) = conflicts
    waiting = await co.propose("b", "rm -rf build")  # no rule: waits for a human
    remote = await open_remote(served)
    try:
        # what happened before the view opened: the pane's screen (a key frame from
        # the leader), the log, the queue
        await until(lambda: "earlier-49" in screen_text(remote), what="the key frame")
        kinds = [e.event_type for e in remote.recent_events(1000)]
        assert "command_executed" in kinds and "conflict_detected" in kinds
        assert list(remote.state["pending_approvals"]) == [waiting]
        # each side of the conflict as its agent wrote it, as the leader shows it
        sides = remote.conflict_sides(conflict.conflict_id)
        assert sides is not None
        assert ConflictSides(*co.conflict_sides(conflict.conflict_id) or ()) == sides
        assert sides.first == ("mine 2", "mine 3", "mine 4")
        await remote.resolve_conflict(conflict.conflict_id, "keep_first")
        await until(lambda: not remote.state["active_conflicts"], what="resolved remotely")
        assert not co.state["active_conflicts"]
        # typed into the remote pane: reaches the session's shell
        await remote.send_input("main", b"echo typed-$((3*3))\r")
        await until(lambda: "typed-9" in screen_text(remote), timeout=30, what="typed")
        await remote.reject(waiting, "not now")
        await until(lambda: not remote.state["pending_approvals"], what="rejected")
    finally:
        await remote.close()


async def test_a_remote_view_follows_a_terminal_opened_later(served: Served) -> None:
    remote = await open_remote(served)
    try:
        events = remote.subscribe()
        await served.co.open_terminal("build")
        opened = await asyncio.wait_for(_first(events, "terminal_opened"), 30)
        assert opened.terminal == "build"
        assert "build" in remote.terminals()
        await served.co.send_input("build", b"echo in-build-$((2*4))\r")
        await until(lambda: "in-build-8" in screen_text(remote, "build"), timeout=30, what="out")
        # rows that scrolled off the leader's screen reach the view's scrollback
        await served.co.send_input("build", b"seq -f 'row-%g' 1 120\r")
        term = remote.terminals()["build"]
        await until(lambda: "row-120" in screen_text(remote, "build"), timeout=30, what="rows")
        await until(lambda: any(x.text == "row-1" for x in term.history), what="scrollback")
        lines = [x.text for x in term.history] + term.frame().display
        rows = [x.rstrip() for x in lines if x.startswith("row-")]
        assert rows == [f"row-{i}" for i in range(1, 121)]  # each once, in order
        # the view runs no emulator: what it shows is the leader's screen, row by row
        leader = served.co.terminal("build").frame()
        await until(lambda: term.frame().display == leader.display, what="the same screen")
        assert term.frame().lines == served.co.terminal("build").frame().lines
    finally:
        await remote.close()


async def _first(events: AsyncIterator[ev.Event], kind: str) -> Any:
    async for e in events:
        if e.event_type == kind:
            return e
    raise AssertionError("the stream ended")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    run_env = {k: v for k, v in os.environ.items() if k != "AGENTSHELL_OPERATOR_TOKEN"}
    run_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "agentshell", "tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=run_env,
        stdin=subprocess.DEVNULL,
    )


def test_tui_nats_says_what_it_needs(nats_node: Any, tmp_path: Path) -> None:
    no_token = _cli("--nats", nats_node.url, "--session", "x")
    assert no_token.returncode != 0 and "operator token" in no_token.stderr
    local = _cli("--nats", nats_node.url, "--demo")
    assert local.returncode != 0 and "served elsewhere" in local.stderr
    stray = _cli("--operator-token-file", str(tmp_path / "t"))
    assert stray.returncode != 0 and "go with --nats" in stray.stderr
    nobody = _cli(
        "--nats", nats_node.url, "--session", f"none-{uuid.uuid4().hex[:8]}",
        env={"AGENTSHELL_OPERATOR_TOKEN": "x"},
    )  # fmt: skip
    assert nobody.returncode != 0 and "Traceback" not in nobody.stderr, nobody.stderr


async def test_an_idle_terminal_publishes_nothing(served: Served) -> None:
    from agentshell.server.nats_frames import FramePublisher

    await until(lambda: "main" in {t.name for t in served.co.terminals()}, what="main")
    term = served.co.terminal("main")
    await term.flush()
    publisher = FramePublisher(_Recorder(), "t", served.co)
    await publisher.tick()
    assert publisher.published == 1  # the first frame of a terminal: a key frame
    for _ in range(5):
        await publisher.tick()
    assert publisher.published == 1  # nothing changed: nothing sent
    await served.co.send_input("main", b"echo tick-$((5*5))\r")

    async def shown() -> bool:
        await publisher.tick()
        return any("tick-25" in row for row in _rows(publisher))

    await until(shown, timeout=30, what="the change published")
    assert publisher.published >= 2


class _Recorder:
    """Stands in for the NATS connection inside this unit test of the publisher."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def publish(self, subject: str, data: bytes) -> None:
        self.sent.append(data)


def _rows(publisher: Any) -> list[str]:
    import msgpack  # type: ignore[import-untyped]

    rows = []
    for data in publisher._nc.sent:
        rows += [row[0] for _, row in msgpack.unpackb(data, raw=False)["lines"]]
    return rows


async def test_a_remote_view_reads_the_tail_and_the_edits_of_open_conflicts(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentshell.tui import remote as remote_mod

    co = served.co
    for agent in ("a", "b"):
        await co.add_agent(agent, CAPS)
    await co.report_edit("a", "g.py", BASE, change(range(1, 2), "old"))  # conflict-free
    await co.report_edit("a", "f.py", BASE, change(range(2, 5), "mine"))
    _, conflicts = await co.report_edit("b", "f.py", BASE, change(range(4, 6), "theirs"))
    (conflict,) = conflicts
    for i in range(30):  # later events push the conflict's edits out of the tail
        await co.add_rule("allow", "exact", f"echo later-{i}")
    monkeypatch.setattr(remote_mod, "TAIL_EVENTS", 10)
    remote = await open_remote(served)
    try:
        recent = remote.recent_events(1000)
        assert recent and all(e.seq > int(remote.state["last_seq"]) - 10 for e in recent)
        assert not any(e.event_type == "file_edited" for e in recent)
        sides = remote.conflict_sides(conflict.conflict_id)  # its edits were read anyway
        assert sides is not None and sides.second == ("theirs 4", "theirs 5")
        assert len(remote._edits) == 2  # those two, not the conflict-free one
    finally:
        await remote.close()
