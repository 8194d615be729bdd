"""Shared documents (OT) on the coordinator: dedup, stale bases, restarts, approvals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentshell.coordinator import api
from agentshell.coordinator.coordinator import Coordinator
from agentshell.core import events as ev
from agentshell.core import ot
from agentshell.core.errors import PermissionDeniedError
from agentshell.store.session import SessionManager

from .conftest import ALL, logged

D = "draft:main"


def ins(length: int, pos: int, text: str) -> list[object]:
    return list(ot.to_wire(ot.insert_op(length, pos, text)))


def dele(length: int, pos: int, n: int) -> list[object]:
    return list(ot.to_wire(ot.delete_op(length, pos, n)))


def doc_ops(session: SessionManager, doc: str = D) -> list[ev.DocOp]:
    return [e for e in logged(session, ["doc_op"]) if isinstance(e, ev.DocOp) and e.doc == doc]


def replayed(session: SessionManager, doc: str = D) -> str:
    text = ""
    for e in doc_ops(session, doc):
        text = ot.apply(text, ot.from_wire(e.op))
    return text


async def test_duplicate_agent_seq_is_acknowledged_not_applied_twice(co: Coordinator) -> None:
    await co.add_agent("a", ALL)
    assert await co.doc_open(D) == ("", 0)
    first = await co.doc_op("a", D, 0, ins(0, 0, "hi"), 1)
    again = await co.doc_op("a", D, 0, ins(0, 0, "hi"), 1)  # a resend after reconnect
    assert first == again == (ins(0, 0, "hi"), 1)
    assert co.doc_state(D) == ("hi", 1)
    assert len(doc_ops(co.session)) == 1
    # the same seq from another agent is a different op
    await co.add_agent("b", ALL)
    await co.doc_op("b", D, 1, ins(2, 2, "!"), 1)
    assert co.doc_state(D) == ("hi!", 2)


async def test_stale_base_revision_is_transformed(co: Coordinator) -> None:
    await co.add_agent("a", ALL)
    await co.add_agent("b", ALL)
    await co.doc_open(D)
    await co.doc_op("a", D, 0, ins(0, 0, "hello world"), 1)  # rev 1
    await co.doc_op("a", D, 1, ins(11, 0, ">> "), 2)  # rev 2: ">> hello world"
    # b only saw revision 1: deletes "hello " and inserts at the end
    op, rev = await co.doc_op("b", D, 1, dele(11, 0, 6), 1)
    assert rev == 3 and op == [3, -6, 5]
    op, rev = await co.doc_op("b", D, 1, ins(11, 11, "!"), 2)
    assert co.doc_state(D) == (">> world!", 4)
    # a tie: both insert at one place from the same base; the first applied wins the left
    await co.doc_op("a", D, 4, ins(9, 0, "A"), 3)
    await co.doc_op("b", D, 4, ins(9, 0, "B"), 3)
    assert co.doc_state(D)[0] == "AB>> world!"
    assert replayed(co.session) == co.doc_state(D)[0]
    # a base from the future, or an op that does not fit its base: bad request, no change
    with pytest.raises(api.InvalidRequestError):
        await co.doc_op("a", D, 99, ins(0, 0, "x"), 4)
    with pytest.raises(api.InvalidRequestError):
        await co.doc_op("a", D, 6, ins(3, 0, "x"), 5)
    assert co.doc_state(D) == ("AB>> world!", 6)


async def test_restart_keeps_history_for_old_revisions_and_dedup(
    co: Coordinator, tmp_path: Path
) -> None:
    await co.add_agent("a", ALL)
    await co.add_agent("b", ALL)
    await co.doc_open(D)
    await co.doc_op("a", D, 0, ins(0, 0, "abc"), 1)  # rev 1
    await co.doc_op("b", D, 1, ins(3, 3, "def"), 1)  # rev 2 "abcdef"
    await co.doc_op("a", D, 2, dele(6, 0, 1), 2)  # rev 3 "bcdef"
    crashed = tmp_path / "crashed"
    shutil.copytree(co.session.session_dir, crashed / "t")
    await co.stop()
    sm = SessionManager("t", crashed)
    co2 = Coordinator(sm, project_dir=co.project_dir, user_rc=False)
    await co2.start()
    try:
        assert co2.doc_state(D) == ("bcdef", 3)
        # b was offline since revision 2; its op made there is transformed, not refused
        op, rev = await co2.doc_op("b", D, 2, ins(6, 6, "!"), 2)
        assert (op, rev) == ([5, "!"], 4)
        # a resend of a's op from before the restart is acknowledged, not applied again
        assert await co2.doc_op("a", D, 2, dele(6, 0, 1), 2) == (dele(6, 0, 1), 3)
        # a client based on revision 0 (before everything) is transformed too: its
        # insert ties with every earlier insert at its place and goes after each
        await co2.doc_op("b", D, 0, ins(0, 0, "<"), 3)
        assert co2.doc_state(D) == ("bcdef!<", 5)
        assert replayed(sm) == "bcdef!<"
        assert [e.revision for e in doc_ops(sm)] == [1, 2, 3, 4, 5]
    finally:
        await co2.stop()
        sm.close()
    # the log replays to the same document
    again = SessionManager("t", crashed)
    try:
        info = again.state["docs"][D]
        assert (info.text, info.revision) == ("bcdef!<", 5)
    finally:
        again.close()


async def test_submit_draft_queues_its_text_and_clears_it(co: Coordinator) -> None:
    await co.add_agent("a", ALL)
    await co.add_agent("typist", ["type"])
    await co.doc_open(D)
    await co.doc_op("typist", D, 0, ins(0, 0, "echo drafted"), 1)
    with pytest.raises(PermissionDeniedError):
        await co.submit_draft("typist")  # no run capability
    assert co.doc_state(D)[0] == "echo drafted"
    aid = await co.submit_draft("a")
    info = co.approval(aid)
    assert (info.command, info.agent_id) == ("echo drafted", "a")
    assert co.doc_state(D) == ("", 2)


async def test_approval_doc_runs_exactly_the_approved_revision(co: Coordinator) -> None:
    await co.add_agent("a", ALL)
    aid = await co.propose("a", "echo one")
    doc = f"approval:{aid}"
    text, rev = await co.doc_open(doc)
    assert (text, rev) == ("echo one", 1)
    # the agent amends while the human reviews revision 1
    await co.doc_op("a", doc, 1, ins(8, 8, " two"), 1)
    with pytest.raises(api.InvalidStateError):
        await co.approve(aid, revision=1)
    assert co.approval(aid).status == "queued"
    await co.approve(aid, revision=2)
    res = await co.wait_result(aid)
    assert res.command == "echo one two" and "one two" in res.output
    # a decided approval's text can no longer change
    with pytest.raises((api.InvalidStateError, api.NotFoundError)):
        await co.doc_op("a", doc, 2, ins(12, 0, "x"), 2)
