"""Load (50 agents), shared drafts (OT over real sockets), file-edit conflicts."""

from __future__ import annotations

import asyncio
import random

from agentshell.client import AgentClient
from agentshell.core import state as st

from .conftest import Served, until


async def test_fifty_agents_propose_and_read_screens(served: Served) -> None:
    await served.coordinator.add_rule("allow", "glob", "echo *")
    clients = [await served.agent(f"a{i}") for i in range(50)]
    try:

        async def work(i: int, c: AgentClient) -> None:
            screens = [asyncio.ensure_future(c.screen()) for _ in range(5)]
            res = await c.run(f"echo agent-{i}-done")
            assert f"agent-{i}-done" in res.output and res.exit_code == 0
            for s in await asyncio.gather(*screens):
                assert s.terminal == "main"
            assert await c.ping()

        await asyncio.wait_for(asyncio.gather(*(work(i, c) for i, c in enumerate(clients))), 240)
        done = [e for e in served.session.iter_events() if e.event_type == "command_executed"]
        assert sorted(e.agent_id for e in done) == sorted(f"a{i}" for i in range(50))
    finally:
        await asyncio.gather(*(c.close() for c in clients))


async def test_concurrent_draft_typing_converges(served: Served) -> None:
    clients = [await served.agent(f"t{i}", ["read", "type", "run"]) for i in range(20)]
    rng = random.Random(7)
    try:
        docs = [await c.draft("main") for c in clients]

        async def typist(i: int) -> None:
            d = docs[i]
            for k in range(15):
                if d.text and rng.random() < 0.3:
                    pos = rng.randrange(len(d.text))
                    d.delete(pos, min(2, len(d.text) - pos))
                else:
                    d.insert(rng.randint(0, len(d.text)), f"{i}.{k} ")
                if rng.random() < 0.3:
                    await asyncio.sleep(0)
            await d.sync()

        await asyncio.wait_for(asyncio.gather(*(typist(i) for i in range(20))), 60)
        for d in docs:  # pick up the ops of whoever finished last
            await d.sync()
        server_text, rev = served.coordinator.doc_state("draft:main")
        assert all(d.text == server_text for d in docs)
        assert all(d.revision == rev for d in docs)
        assert served.session.state["docs"]["draft:main"].text == server_text
        # the log replays to the same text
        replayed = st.new_state("t")
        st.fold(served.session.iter_events(), replayed)
        assert replayed["docs"]["draft:main"].text == server_text
    finally:
        await asyncio.gather(*(c.close() for c in clients))


async def test_submit_draft_queues_its_text(served: Served) -> None:
    a = await served.agent("a", ["read", "type", "run"])
    b = await served.agent("b", ["read", "type"])
    try:
        da, db = await a.draft(), await b.draft()
        da.insert(0, "echo ")
        await da.sync()
        await db.sync()
        db.insert(len(db.text), "shared")
        await db.sync()
        await da.sync()
        assert da.text == "echo shared"
        aid = await a.submit_draft("main")
        [info] = served.coordinator.approvals()
        assert info.approval_id == aid and info.command == "echo shared"
        await until(lambda: served.coordinator.doc_state("draft:main")[0] == "")
    finally:
        await a.close()
        await b.close()


async def test_approval_text_coedited_then_approved_revision_runs(served: Served) -> None:
    a = await served.agent("a")
    op = await served.operator()
    try:
        run = asyncio.ensure_future(a.run("echo one"))
        await until(lambda: served.coordinator.approvals(), what="queued")
        aid = served.coordinator.approvals()[0].approval_id
        d = await op.doc(f"approval:{aid}")
        assert d.text == "echo one"
        d.insert(len(d.text), " two")
        await d.sync()
        await op.approve(aid, revision=d.revision)
        res = await asyncio.wait_for(run, 30)
        assert res.command == "echo one two" and "one two" in res.output
    finally:
        await a.close()
        await op.close()


BASE = "".join(f"line {i}\n" for i in range(10))


def edit(text: str, line: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[line] = new + "\n"
    return "".join(lines)


async def test_concurrent_overlapping_edits_conflict_and_reach_both(served: Served) -> None:
    a = await served.agent("a")
    b = await served.agent("b")
    try:
        ea = await a.subscribe(["conflict_detected"])
        eb = await b.subscribe(["conflict_detected"])
        r1 = await a.report_edit("src/x.py", BASE, edit(BASE, 3, "A"))
        assert r1["conflicts"] == []
        r2 = await b.report_edit("src/x.py", BASE, edit(BASE, 3, "B"))
        [c] = r2["conflicts"]
        assert (
            c["agents"] == ["a", "b"] and c["ranges"] == [[3, 4], [3, 4]] and c["overlap"] == [3, 4]
        )
        for sub in (ea, eb):
            got = await asyncio.wait_for(sub.__anext__(), 10)
            assert got.conflict_id == c["conflict_id"]  # type: ignore[attr-defined]
        assert c["conflict_id"] in served.session.state["active_conflicts"]
    finally:
        await a.close()
        await b.close()


async def test_sequential_edits_do_not_conflict(served: Served) -> None:
    a = await served.agent("a")
    b = await served.agent("b")
    try:
        v1 = edit(BASE, 3, "A")
        await a.report_edit("src/y.py", BASE, v1)
        # b asks first: it is told about a's edit, so it has now seen it
        found = await b.check_edit("src/y.py", [[3, 4]])
        assert [e["agent_id"] for e in found] == ["a"]
        r = await b.report_edit("src/y.py", v1, edit(v1, 3, "B"))
        assert r["conflicts"] == []
        assert not served.session.state["active_conflicts"]
    finally:
        await a.close()
        await b.close()
