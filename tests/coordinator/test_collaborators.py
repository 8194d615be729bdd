"""Each of the coordinator's collaborators alone, over a real session log, with no
terminals and no Coordinator around it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentshell.coordinator.approvals import ApprovalGate
from agentshell.coordinator.background import Background
from agentshell.coordinator.outcomes import Outcomes
from agentshell.coordinator.results import (
    CommandInterrupted,
    CommandRejected,
    InvalidStateError,
    NotFoundError,
    RunResult,
)
from agentshell.coordinator.rules import RuleBook
from agentshell.coordinator.subscriptions import Broadcast
from agentshell.coordinator.writer import EventWriter
from agentshell.core import events as ev
from agentshell.core.errors import LogClosedError
from agentshell.store.session import SessionManager
from tests.polling import until


@pytest.fixture
def session(tmp_path: Path) -> Iterator[SessionManager]:
    sm = SessionManager("t", tmp_path / "data")
    try:
        yield sm
    finally:
        sm.close()


def parts(session: SessionManager) -> tuple[EventWriter, Broadcast, Background]:
    background, broadcast = Background(), Broadcast()
    return EventWriter(session, broadcast, background), broadcast, background


async def test_writer_delivers_in_submission_order_listeners_before_subscribers(
    session: SessionManager,
) -> None:
    writer, broadcast, _ = parts(session)
    sub = broadcast.subscribe(["rule_revoked"])
    seen: list[tuple[str, str]] = []
    writer.listen(
        submitted=lambda e: seen.append(("submitted", e.event_id)),
        durable=lambda e: seen.append(("durable", e.event_id)),
    )
    events = [ev.RuleRevoked(agent_id=ev.HUMAN, rule_id=f"r-{i}") for i in range(50)]
    stored = await asyncio.gather(*(writer.record(e) for e in events))
    assert [e.seq for e in stored] == sorted(e.seq for e in stored)
    got = [await sub.get() for _ in events]
    assert [e.event_id for e in got if e is not None] == [e.event_id for e in events]
    durable = [i for kind, i in seen if kind == "durable"]
    assert durable == [e.event_id for e in events]
    assert [i for kind, i in seen if kind == "submitted"] == durable
    # each event was durable before it was delivered: it is in the log file
    assert [e.event_id for e in session.iter_events()] == durable


async def test_writer_delivers_nothing_for_an_append_that_failed(
    session: SessionManager,
) -> None:
    writer, broadcast, _ = parts(session)
    sub = broadcast.subscribe()
    await writer.record(ev.RuleRevoked(agent_id=ev.HUMAN, rule_id="r-ok"))
    session.close()
    with pytest.raises(LogClosedError):
        await writer.record(ev.RuleRevoked(agent_id=ev.HUMAN, rule_id="r-lost"))
    first = await sub.get()
    assert isinstance(first, ev.RuleRevoked) and first.rule_id == "r-ok"
    assert sub.get_nowait() is None


async def test_rule_book_decides_deny_over_allow_and_forgets_a_revoked_rule(
    session: SessionManager,
) -> None:
    writer, _, _ = parts(session)
    book = RuleBook(session, writer)
    assert book.decide("git push", "amy", "main") == (None, None)
    allow = await book.add("allow", "prefix", "git")
    deny = await book.add("deny", "exact", "git push")
    assert book.decide("git status", "amy", "main") == ("allow", allow)
    assert book.decide("git push", "amy", "main") == ("deny", deny)
    await book.revoke(deny)
    assert book.decide("git push", "amy", "main") == ("allow", allow)
    assert [r.rule_id for r in book.rules()] == [allow]
    with pytest.raises(NotFoundError):
        await book.revoke(deny)


async def test_outcomes_settle_waiters_only_once_the_ending_is_durable() -> None:
    out = Outcomes()
    lookups: list[str] = []
    waiter = asyncio.ensure_future(out.wait("a1", lookups.append))
    await asyncio.sleep(0)  # the waiter registers
    rejected = ev.ApprovalDecided(approval_id="a1", decision="rejected", by="human", reason="no")
    out.submitted(rejected)
    assert not waiter.done()
    # between submit and durable, a new waiter still finds it (no lookup: it is closing)
    late = asyncio.ensure_future(out.wait("a1", lambda _: pytest.fail("looked up")))
    await asyncio.sleep(0)
    out.durable(rejected)
    for w in (waiter, late):
        with pytest.raises(CommandRejected, match="no"):
            await w
    assert lookups == ["a1"]
    # the ending is kept for waiters that come later
    with pytest.raises(CommandRejected):
        await out.wait("a1", lambda _: pytest.fail("looked up"))
    result = RunResult("a2", "true", 0, "", 0.1)
    out.settle("a2", result)
    assert await out.wait("a2", lambda _: None) == result
    pending = asyncio.ensure_future(out.wait("a3", lambda _: None))
    await asyncio.sleep(0)
    out.interrupt_all("stopping")
    with pytest.raises(CommandInterrupted, match="stopping"):
        await pending


async def test_gate_hands_approved_commands_on_and_guards_its_state_machine(
    session: SessionManager,
) -> None:
    writer, _, background = parts(session)
    out = Outcomes()
    writer.listen(submitted=out.submitted, durable=out.durable)
    approved: list[tuple[str, str]] = []
    gate = ApprovalGate(
        session,
        writer,
        out,
        background,
        project_dir="/p",
        on_approved=lambda terminal, aid: approved.append((terminal, aid)),
    )
    aid = await gate.queue("amy", "rm -rf build", "t2", "/p", None)
    info = gate.approval(aid)
    assert (info.status, info.terminal, info.cwd) == ("queued", "t2", "/p")
    assert info.risk  # rm -rf is flagged
    await gate.approve(aid, command="rm -rf build/tmp")
    assert approved == [("t2", aid)]
    assert gate.approval(aid).approved_command == "rm -rf build/tmp"
    with pytest.raises(InvalidStateError):
        await gate.reject(aid, "too late")
    other = await gate.queue("amy", "ls", "main", "/p", None)
    await gate.reject(other, "not now")
    with pytest.raises(NotFoundError, match="no longer pending: rejected by human: not now"):
        gate.approval(other)
    assert approved == [("t2", aid)]


async def test_gate_expires_a_queued_command_at_its_timeout(session: SessionManager) -> None:
    writer, _, background = parts(session)
    background.loop = asyncio.get_running_loop()
    out = Outcomes()
    writer.listen(submitted=out.submitted, durable=out.durable)
    gate = ApprovalGate(
        session, writer, out, background, project_dir="/p", on_approved=lambda *_: None
    )
    aid = await gate.queue("amy", "make", "main", "/p", 0.05)
    gate.arm_expiry(aid)
    await until(lambda: aid not in session.state["pending_approvals"], what="the expiry")
    decided = [e for e in session.iter_events() if isinstance(e, ev.ApprovalDecided)]
    assert [(e.approval_id, e.decision) for e in decided] == [(aid, "expired")]
    await background.cancel_all()


async def test_writer_submits_in_a_row_share_a_round_and_deliver_in_order(
    session: SessionManager,
) -> None:
    writer, broadcast, _ = parts(session)
    sub = broadcast.subscribe(["rule_revoked"])
    events = [ev.RuleRevoked(agent_id=ev.HUMAN, rule_id=f"r-{i}") for i in range(5)]
    pending = [writer.submit(e) for e in events]
    # folded at the submit, before anything is durable
    assert session.state["last_seq"] == 5
    assert sub.get_nowait() is None  # delivered only once durable
    stored = [await p for p in pending]
    assert [e.seq for e in stored] == [1, 2, 3, 4, 5]
    assert [e.event_id for e in session.iter_events()] == [e.event_id for e in events]
    got = [await sub.get() for _ in events]
    assert [e.event_id for e in got if e is not None] == [e.event_id for e in events]
    stored_all = await writer.record_all(
        [ev.RuleRevoked(agent_id=ev.HUMAN, rule_id=f"s-{i}") for i in range(3)]
    )
    assert [e.seq for e in stored_all] == [6, 7, 8]
