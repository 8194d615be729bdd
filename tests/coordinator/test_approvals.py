"""The approval flow, rules, expiry and capability gating, on the Coordinator itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentshell.coordinator import api
from agentshell.coordinator.coordinator import Coordinator
from agentshell.core import events as ev
from agentshell.core.errors import PermissionDeniedError

from .conftest import ALL, collect, logged, next_event, until

FLOW = ["approval_queued", "approval_decided", "approval_executed", "command_executed"]


async def test_flow_events_in_order(co: Coordinator) -> None:
    await co.add_agent("bot", ALL)
    sub = co.subscribe(FLOW)
    aid = await co.propose("bot", "echo flow-out; (exit 3)")
    assert [a.approval_id for a in co.approvals()] == [aid]
    assert co.approval(aid).status == "queued"
    await co.approve(aid)
    result = await co.wait_result(aid)
    got = await collect(sub, 5)
    assert [(e.event_type, getattr(e, "decision", getattr(e, "status", ""))) for e in got] == [
        ("approval_queued", ""),
        ("approval_decided", "approved"),
        ("approval_executed", "executing"),
        ("command_executed", ""),
        ("approval_executed", "executed"),
    ]
    assert all(getattr(e, "approval_id", "") == aid for e in got)
    done = got[3]
    assert isinstance(done, ev.CommandExecuted)
    assert done.exit_code == 3 and done.agent_id == "bot" and done.terminal == "main"
    assert "flow-out" in done.output and done.duration > 0
    assert isinstance(got[4], ev.ApprovalExecuted) and got[4].exit_code == 3
    assert (result.exit_code, result.output, result.duration) == (3, done.output, done.duration)
    assert co.approvals() == []
    # the log holds the same story
    assert [e.event_type for e in logged(co.session, FLOW)] == [e.event_type for e in got]


async def test_approve_with_edit_runs_the_edited_text(co: Coordinator) -> None:
    await co.add_agent("bot", ALL)
    aid = await co.propose("bot", "echo original")
    await co.approve(aid, command="echo edited-text")
    result = await co.wait_result(aid)
    assert result.command == "echo edited-text" and "edited-text" in result.output
    assert "original" not in result.output
    (decided,) = logged(co.session, ["approval_decided"])
    assert isinstance(decided, ev.ApprovalDecided) and decided.command == "echo edited-text"


async def test_an_edit_must_stay_one_command_line(co: Coordinator) -> None:
    await co.add_agent("bot", ALL)
    aid = await co.propose("bot", "echo original")
    for text in ("sleep 0; echo one\nfalse\necho two", "echo a\recho b"):
        with pytest.raises(api.InvalidRequestError, match="single line"):
            await co.approve(aid, command=text)
    assert co.approval(aid).status == "queued"  # still waiting for a decision
    assert not logged(co.session, ["approval_decided"])
    await co.approve(aid, command="echo fine  ")  # trailing blanks are not a second line
    assert "fine" in (await co.wait_result(aid)).output


async def test_reject_reaches_the_waiter_with_reason(co: Coordinator, project: Path) -> None:
    await co.add_agent("bot", ALL)
    aid = await co.propose("bot", f"touch {project}/rejected-marker")
    await co.reject(aid, reason="not today")
    with pytest.raises(api.CommandRejected) as info:
        await co.wait_result(aid)
    assert info.value.reason == "not today"
    assert co.approvals() == [] and not (project / "rejected-marker").exists()
    with pytest.raises(api.NotFoundError):
        await co.approve(aid)


async def test_rules_deny_beats_ask_beats_allow(co: Coordinator) -> None:
    await co.add_agent("bot", ALL)
    # added most severe first and last, so neither order nor recency decides
    deny = await co.add_rule("deny", "exact", "echo ask deny")
    allow = await co.add_rule("allow", "prefix", "echo")
    ask = await co.add_rule("ask", "prefix", "echo ask")
    sub = co.subscribe(["approval_decided"])

    allowed = await co.propose("bot", "echo fine")
    e = await next_event(sub)
    assert isinstance(e, ev.ApprovalDecided)
    assert (e.approval_id, e.decision, e.rule_id, e.by) == (allowed, "approved", allow, ev.SYSTEM)
    assert (await co.wait_result(allowed)).exit_code == 0

    asked = await co.propose("bot", "echo ask me")
    assert co.approval(asked).status == "queued"  # ask beats allow: waits for the human

    denied = await co.propose("bot", "echo ask deny")
    e = await next_event(sub)
    assert isinstance(e, ev.ApprovalDecided)
    assert (e.approval_id, e.decision, e.rule_id) == (denied, "rejected", deny)
    with pytest.raises(api.CommandRejected):
        await co.wait_result(denied)
    assert sub.get_nowait() is None  # nothing decided the asked one

    # revoking the ask rule lets allow decide again; rules are listed and logged
    await co.revoke_rule(ask)
    assert [r.rule_id for r in co.rules()] == [deny, allow]
    again = await co.propose("bot", "echo ask again")
    e = await next_event(sub)
    assert isinstance(e, ev.ApprovalDecided) and (e.approval_id, e.rule_id) == (again, allow)
    assert [x.event_type for x in logged(co.session, ["rule_added", "rule_revoked"])] == [
        "rule_added",
        "rule_added",
        "rule_added",
        "rule_revoked",
    ]


async def test_agent_scoped_rule_applies_only_to_that_agent(co: Coordinator) -> None:
    await co.add_agent("a", ALL)
    await co.add_agent("b", ALL)
    await co.add_rule("allow", "prefix", "echo", scope="agent", scope_value="a")
    ra = await co.propose("a", "echo from-a")
    rb = await co.propose("b", "echo from-b")
    assert (await co.wait_result(ra)).exit_code == 0
    assert co.approval(rb).status == "queued"


async def test_approve_similar_adds_a_rule_that_approves_the_next_one(co: Coordinator) -> None:
    await co.add_agent("bot", ALL)
    first = await co.propose("bot", "ls -la sub")
    kind, pattern = co.suggest_rule(first)
    rule_id = await co.approve_similar(first)
    assert [(r.rule_id, r.kind, r.pattern) for r in co.rules()] == [(rule_id, kind, pattern)]
    await co.wait_result(first)
    second = await co.propose("bot", "ls -la sub")
    await co.wait_result(second)  # no human decision needed
    (_, d2) = [e for e in logged(co.session, ["approval_decided"])]
    assert isinstance(d2, ev.ApprovalDecided) and d2.rule_id == rule_id


async def test_expiry(co: Coordinator, project: Path) -> None:
    await co.add_agent("bot", ALL)
    sub = co.subscribe(["approval_decided"])
    aid = await co.propose("bot", f"touch {project}/expired-marker", timeout=0.3)
    e = await next_event(sub, timeout=10)
    assert isinstance(e, ev.ApprovalDecided)
    assert (e.approval_id, e.decision, e.by) == (aid, "expired", ev.SYSTEM)
    with pytest.raises(api.CommandExpired):
        await co.wait_result(aid)
    assert co.approvals() == []
    with pytest.raises(api.NotFoundError):
        await co.approve(aid)
    assert not (project / "expired-marker").exists()


async def test_decided_before_expiry_does_not_expire(co: Coordinator) -> None:
    await co.add_agent("bot", ALL)
    aid = await co.propose("bot", "echo quick", timeout=0.5)
    await co.approve(aid)
    await co.wait_result(aid)
    later = await co.propose("bot", "echo later", timeout=0.3)
    with pytest.raises(api.CommandExpired):  # raised once the expiry is durable
        await co.wait_result(later)
    decisions = [
        (e.approval_id, e.decision)
        for e in logged(co.session, ["approval_decided"])
        if isinstance(e, ev.ApprovalDecided)
    ]
    assert decisions == [(aid, "approved"), (later, "expired")]


@pytest.mark.parametrize("bad", [0, -1, float("nan")])
async def test_bad_timeout_is_refused(co: Coordinator, bad: float) -> None:
    await co.add_agent("bot", ALL)
    with pytest.raises(api.InvalidRequestError):
        await co.propose("bot", "echo x", timeout=bad)
    assert co.approvals() == []


async def test_without_run_nothing_is_even_queued(co: Coordinator) -> None:
    await co.add_agent("reader", ["read", "type"])
    with pytest.raises(PermissionDeniedError):
        await co.propose("reader", "echo nope")
    assert co.approvals() == [] and logged(co.session, ["approval_queued"]) == []


async def test_no_permission_words_means_read_only(co: Coordinator) -> None:
    await co.add_agent("skills", ["python", "debugging"])
    assert co.permissions("skills") == frozenset({"read"})
    with pytest.raises(PermissionDeniedError):
        await co.propose("skills", "echo nope")
    await co.doc_open("draft:main")
    with pytest.raises(PermissionDeniedError):
        await co.doc_op("skills", "draft:main", 0, ["x"], 1)
    with pytest.raises(PermissionDeniedError):
        await co.report_edit("skills", "f.py", "a\n", "b\n")
    with pytest.raises(PermissionDeniedError):
        await co.send_input("main", b"echo typed\n", by="skills")
    assert co.screen("main") is not None  # reading is allowed
    types = {e.event_type for e in co.session.iter_events()}
    assert not types & {"approval_queued", "doc_op", "file_edited"}


async def test_agent_ids_are_plain_names_and_not_reserved(co: Coordinator) -> None:
    for bad in ("../x", "a b", "", ".hidden", "x\x1b[31m"):
        with pytest.raises(api.InvalidRequestError, match="not a plain name"):
            await co.add_agent(bad, ["run"])
    for reserved in (ev.HUMAN, ev.SYSTEM):
        with pytest.raises(api.InvalidRequestError, match="reserved"):
            await co.add_agent(reserved, ["run"])
    assert not logged(co.session, ["agent_registered"])
    await co.add_agent("claude-2.x_y", ["run"])


async def test_authentication_and_removal(co: Coordinator) -> None:
    token = await co.add_agent("bot", ["run"])
    assert co.authenticate("bot", token) is not None
    assert co.authenticate("bot", token + "x") is None
    assert token not in repr(logged(co.session, ["agent_registered"]))
    await co.remove_agent("bot")
    assert co.authenticate("bot", token) is None


async def test_removing_an_agent_ends_its_waiting_commands(co: Coordinator, project: Path) -> None:
    await co.add_agent("bob", ALL)
    await co.add_agent("amy", ALL)
    queued = await co.propose("bob", f"touch {project}/queued-marker")
    other = await co.propose("amy", "echo still-mine")
    # keep the shell busy so an approved command cannot start yet
    await co.send_input("main", b"sleep 60\n")
    await until(lambda: not co.terminal("main").at_prompt, what="the shell to be busy")
    approved = await co.propose("bob", f"touch {project}/approved-marker")
    await co.approve(approved)
    await co.remove_agent("bob")
    assert [a.approval_id for a in co.approvals()] == [other]
    with pytest.raises(api.CommandRejected) as rejected:
        await co.wait_result(queued)
    assert rejected.value.reason == "agent removed" and rejected.value.by == ev.SYSTEM
    with pytest.raises(api.CommandFailed, match="agent removed"):
        await co.wait_result(approved)
    with pytest.raises(api.NotFoundError, match=r"no longer pending.*agent removed"):
        await co.approve(queued)
    with pytest.raises(api.NotFoundError):
        await co.propose("bob", "echo after-removal")
    await co.send_input("main", b"\x03")
    await until(lambda: co.terminal("main").at_prompt, what="the shell at its prompt")
    await co.approve(other)
    assert "still-mine" in (await co.wait_result(other)).output
    assert not (project / "queued-marker").exists()
    assert not (project / "approved-marker").exists()
    assert [e.agent_id for e in logged(co.session, ["command_executed"])] == ["amy"]
    decided = [e for e in logged(co.session, ["approval_decided"]) if e.approval_id == queued]
    assert [(e.decision, e.reason) for e in decided] == [("rejected", "agent removed")]


async def test_executor_never_runs_a_command_of_an_agent_gone_meanwhile(
    co: Coordinator, project: Path
) -> None:
    # the agent disappears without the coordinator's remove_agent (as in an old log)
    await co.add_agent("bob", ALL)
    await co.send_input("main", b"sleep 60\n")
    await until(lambda: not co.terminal("main").at_prompt, what="the shell to be busy")
    aid = await co.propose("bob", f"touch {project}/marker")
    await co.approve(aid)
    await co._emit(ev.AgentRemoved(agent_id="bob"))
    await co.send_input("main", b"\x03")
    with pytest.raises(api.CommandFailed, match="agent removed"):
        await co.wait_result(aid)
    assert not (project / "marker").exists()
    assert logged(co.session, ["command_executed"]) == []


@pytest.mark.parametrize(
    ("action", "kind", "pattern", "scope", "said"),
    [
        ("allow", "prefix", "   ", "session", "the pattern is empty"),
        ("allow", "exact", " \t ", "session", "the pattern is empty"),
        ("allow", "glob", "'unterminated", "session", "does not parse"),
        ("sometimes", "prefix", "git", "session", "action must be one of"),
        ("allow", "regex", "git", "session", "kind must be one of"),
        ("allow", "prefix", "git", "agent", "needs its name"),
    ],
)
async def test_a_rule_that_cannot_match_anything_is_refused(
    co: Coordinator, action: str, kind: str, pattern: str, scope: str, said: str
) -> None:
    from agentshell.coordinator.results import InvalidRequestError

    with pytest.raises(InvalidRequestError, match=said):
        await co.add_rule(action, kind, pattern, scope=scope)
    assert co.rules() == []  # nothing was logged
