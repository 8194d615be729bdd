"""The protocol's operations: one function per ``op`` (see ``docs/protocol.md``).

``INLINE`` ops are cheap and answered in the read loop; ``OPS`` run as tasks.
Each returns the reply's fields; raising maps to an error frame (see protocol.wire_error).
"""

from __future__ import annotations

import asyncio
import inspect
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agentshell.coordinator.coordinator import EDIT, READ, RUN, TYPE
from agentshell.coordinator.results import RunResult
from agentshell.core import events as ev

from .protocol import PROTOCOL_VERSION, RequestError, field, plain

if TYPE_CHECKING:
    from .connection import Connection

Op = Callable[["Connection", dict[str, Any]], Awaitable[dict[str, Any]]]
OPS: dict[str, Op] = {}
INLINE: dict[str, Callable[[Connection, dict[str, Any]], dict[str, Any]]] = {}


def op(name: str) -> Callable[[Op], Op]:
    def deco(f: Op) -> Op:
        OPS[name] = f
        return f

    return deco


def inline(name: str) -> Callable[[Any], Any]:
    def deco(f: Any) -> Any:
        INLINE[name] = f
        return f

    return deco


def result_to_wire(r: RunResult) -> dict[str, Any]:
    return {
        "approval_id": r.approval_id,
        "command": r.command,
        "exit_code": r.exit_code,
        "output": r.output,
        "duration": r.duration,
        "terminal": r.terminal,
    }


def _number(req: dict[str, Any], name: str) -> float | None:
    v = field(req, name, (int, float), None)
    return float(v) if v is not None else None


# ------------------------------------------------------------------ session


@inline("ping")
def _ping(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    return {"pong": True}


@op("hello")
async def _hello(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    if conn.identity is not None:
        raise RequestError("invalid_state", "already said hello")
    co = conn.server.coordinator
    token = field(req, "token", str)
    role = field(req, "role", str, "agent")
    if role == "operator":
        import hmac

        if not hmac.compare_digest(token.encode(), conn.server.operator_token.encode()):
            raise RequestError("auth_failed", "bad operator token")
        conn.identity, conn.role = ev.HUMAN, "operator"
        return {
            "protocol": PROTOCOL_VERSION,
            "session": co.session.state["session_id"],
            "role": "operator",
        }
    if role == "bridge":
        return await _bridge_hello(conn, req)
    if role != "agent":
        raise RequestError("bad_request", "role must be 'agent', 'operator' or 'bridge'")
    agent_id = field(req, "agent", str)
    info = co.authenticate(agent_id, token)
    if info is None:
        raise RequestError("auth_failed", "unknown agent or bad token")
    conn.identity, conn.role = agent_id, "agent"
    await conn.server.agent_connected(agent_id)
    conn.ensure_pump()
    return {
        "protocol": PROTOCOL_VERSION,
        "session": co.session.state["session_id"],
        "role": "agent",
        "agent": agent_id,
        "capabilities": list(info.capabilities),
        "permissions": sorted(co.permissions(agent_id)),
        "clock": co.clock_of(agent_id),
    }


@op("subscribe")
async def _subscribe(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need(READ)
    types = field(req, "types", list, None)
    if types is not None:
        if not all(isinstance(t, str) for t in types):
            raise RequestError("bad_request", "types must be a list of strings")
        conn.event_types = frozenset(types)
        conn.all_events = False
    else:
        conn.all_events = True
    conn.ensure_pump()
    return {"subscribed": True}


@op("unsubscribe")
async def _unsubscribe(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.all_events = False
    conn.event_types = None
    return {"subscribed": False}


# ------------------------------------------------------------------ commands


async def _propose_request(conn: Connection, req: dict[str, Any]) -> str:
    """Queue the request's command (fields command, terminal, timeout, external,
    editable, approval_id, resent); its approval id, which this connection now
    waits for (see Connection.watch)."""
    agent = conn.need(RUN)
    aid = await conn.server.coordinator.propose(
        agent,
        field(req, "command", str),
        field(req, "terminal", str, "main"),
        _number(req, "timeout"),
        external=field(req, "external", bool, False),
        editable=field(req, "editable", bool, True),
        approval_id=field(req, "approval_id", str, None),
        resent=field(req, "resent", bool, False),
    )
    conn.watch(aid)
    return aid


@op("propose")
async def _propose(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    aid = await _propose_request(conn, req)
    co = conn.server.coordinator
    info = co.session.state["pending_approvals"].get(aid)
    if info is not None:
        status = info.status
    else:  # ended at once: denied by a rule, or an external one approved by a rule
        status = "approved" if isinstance(co.outcomes.finished(aid), RunResult) else "decided"
    return {
        "approval_id": aid,
        "status": status,
        "external": field(req, "external", bool, False),
        "editable": field(req, "editable", bool, True),
    }


@op("run")
async def _run(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    aid = await _propose_request(conn, req)
    return result_to_wire(await conn.server.coordinator.wait_result(aid))


@op("result")
async def _result(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need(READ)
    aid = field(req, "approval_id", str)
    conn.watch(aid)
    return result_to_wire(await conn.server.coordinator.wait_result(aid))


@op("withdraw")
async def _withdraw(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    agent = conn.need(RUN)
    aid = field(req, "approval_id", str)
    co = conn.server.coordinator
    done = await co.withdraw(agent, aid, field(req, "reason", str, ""))
    conn.unwatch(aid)
    info = co.session.state["pending_approvals"].get(aid)
    return {"approval_id": aid, "withdrawn": done, "status": info.status if info else "ended"}


@inline("screen")
def _screen(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need(READ)
    name = field(req, "terminal", str, "main")
    co = conn.server.coordinator
    out = conn.server.screen_wire(name)
    term = co.terminal(name)
    out["at_prompt"] = bool(term.at_prompt)
    out["cwd"] = str(term.cwd or "")
    return out


@inline("terminals")
def _terminals(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need(READ)
    return {"terminals": plain(conn.server.coordinator.terminals())}


@op("send_input")
async def _send_input(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need_operator()
    data = field(req, "data", (bytes, str))
    if isinstance(data, str):
        data = data.encode()
    await conn.server.coordinator.send_input(field(req, "terminal", str, "main"), data)
    return {}


@op("open_terminal")
async def _open_terminal(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need_operator()
    info = await conn.server.coordinator.open_terminal(
        field(req, "terminal", str), field(req, "cwd", str, None)
    )
    return {"terminal": plain(info)}


# ----------------------------------------------------------------- approvals


@inline("approvals")
def _approvals(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need(READ)
    co = conn.server.coordinator
    # held: why no command can go on now (the log cannot be written: a full disk)
    return {"approvals": plain(co.approvals()), "held": co.writer.held}


@op("approve")
async def _approve(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need_operator()
    aid = field(req, "approval_id", str)
    co = conn.server.coordinator
    info = co.approval(aid)
    waited = co.waited_for(aid)
    await co.approve(
        aid, command=field(req, "command", str, None), revision=field(req, "revision", int, None)
    )
    reply: dict[str, Any] = {"approval_id": aid, "nobody_waiting": not waited}
    if not waited:
        reply["note"] = (
            f"nobody will receive the output: {info.withdrawn}"
            if info.withdrawn
            else "nobody waits for the output now (its agent is not connected)"
        )
    return reply


@op("reject")
async def _reject(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need_operator()
    aid = field(req, "approval_id", str)
    await conn.server.coordinator.reject(aid, field(req, "reason", str, ""))
    return {"approval_id": aid}


@inline("suggest_rule")
def _suggest_rule(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need_operator()
    kind, pattern = conn.server.coordinator.suggest_rule(field(req, "approval_id", str))
    return {"kind": kind, "pattern": pattern}


@op("approve_similar")
async def _approve_similar(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need_operator()
    aid = field(req, "approval_id", str)
    rule_id = await conn.server.coordinator.approve_similar(
        aid,
        field(req, "kind", str, None),
        field(req, "pattern", str, None),
        scope=field(req, "scope", str, "session"),
        scope_value=field(req, "scope_value", str, ""),
    )
    rule = conn.server.coordinator.state["rules"].get(rule_id)
    return {"approval_id": aid, "rule_id": rule_id, "rule": plain(rule)}


# --------------------------------------------------------------------- rules


@inline("rules")
def _rules(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need(READ)
    return {"rules": plain(conn.server.coordinator.rules())}


@op("rule_add")
async def _rule_add(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need_operator()
    rule_id = await conn.server.coordinator.add_rule(
        field(req, "action", str),
        field(req, "kind", str),
        field(req, "pattern", str),
        scope=field(req, "scope", str, "session"),
        scope_value=field(req, "scope_value", str, ""),
    )
    return {"rule_id": rule_id}


@op("rule_revoke")
async def _rule_revoke(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need_operator()
    rule_id = field(req, "rule_id", str)
    await conn.server.coordinator.revoke_rule(rule_id)
    return {"rule_id": rule_id}


# -------------------------------------------------------------------- agents


@inline("agents")
def _agents(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need(READ)
    agents = plain(conn.server.coordinator.agents())
    for a in agents:
        a.pop("token_hash", None)
    return {"agents": agents}


@op("agent_add")
async def _agent_add(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need_operator()
    caps = field(req, "capabilities", list, [])
    if not all(isinstance(c, str) for c in caps):
        raise RequestError("bad_request", "capabilities must be a list of strings")
    agent = field(req, "agent", str)
    token = await conn.server.coordinator.add_agent(agent, caps, name=field(req, "name", str, ""))
    return {"agent": agent, "token": token}


@op("agent_remove")
async def _agent_remove(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need_operator()
    agent = field(req, "agent", str)
    await conn.server.coordinator.remove_agent(agent, field(req, "reason", str, ""))
    return {"agent": agent}


# ------------------------------------------------------- shared docs (OT), edits


@op("doc_open")
async def _doc_open(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need(READ)
    doc = field(req, "doc", str)
    co = conn.server.coordinator
    text, revision = await co.doc_open(doc)
    conn.docs.add(doc)
    conn.ensure_pump()
    return {"doc": doc, "text": text, "revision": revision}


@op("draft_submit")
async def _draft_submit(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    agent = conn.need(RUN)
    aid = await conn.server.coordinator.submit_draft(
        agent, field(req, "terminal", str, "main"), _number(req, "timeout")
    )
    return {"approval_id": aid}


@op("doc_close")
async def _doc_close(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.docs.discard(field(req, "doc", str))
    return {}


@op("doc_op")
async def _doc_op(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    agent = conn.need(TYPE)
    clock = field(req, "clock", dict, None)
    _check_clock(clock)
    op_, revision = await conn.server.coordinator.doc_op(
        agent,
        field(req, "doc", str),
        field(req, "revision", int),
        field(req, "delta", list),
        field(req, "seq", int),
        clock,
    )
    return {"doc": req["doc"], "revision": revision, "delta": op_}


def _check_clock(clock: Any) -> None:
    if clock is None:
        return
    if not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in clock.items()
    ):
        raise RequestError("bad_request", "clock must map agent ids to integers")


def _ranges(v: Any) -> list[tuple[int, int]]:
    out = []
    for r in v:
        if (
            not isinstance(r, list)
            or len(r) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in r)
            or r[0] > r[1]
        ):
            raise RequestError(
                "bad_request", "ranges must be [start, end] pairs of lines, start <= end"
            )
        out.append((r[0], r[1]))
    return out


@op("report_edit")
async def _report_edit(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    agent = conn.need(EDIT)
    clock = field(req, "clock", dict, None)
    _check_clock(clock)
    edit, conflicts = await conn.server.coordinator.report_edit(
        agent, field(req, "path", str), field(req, "old", str), field(req, "new", str), clock
    )
    return {
        "edit_id": edit.event_id,
        "ranges": edit.ranges,
        "new_ranges": edit.new_ranges,
        "clock": edit.clock,
        "conflicts": [c.to_record()["p"] for c in conflicts],
    }


@op("check_edit")
async def _check_edit(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    agent = conn.need(READ)
    clock = field(req, "clock", dict, None)
    _check_clock(clock)
    edits = conn.server.coordinator.check_edit(
        agent, field(req, "path", str), _ranges(field(req, "ranges", list)), clock
    )
    return {"conflicts": plain(edits), "clock": conn.server.coordinator.clock_of(agent)}


@inline("conflicts")
def _conflicts(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need(READ)
    return {"conflicts": plain(list(conn.server.coordinator.state["active_conflicts"].values()))}


@op("resolve_conflict")
async def _resolve_conflict(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need_operator()
    cid = field(req, "conflict_id", str)
    await conn.server.coordinator.resolve_conflict(
        cid, field(req, "resolution", str), note=field(req, "note", str, "")
    )
    return {"conflict_id": cid}


# --------------------------------------------------------------------- tasks


@inline("tasks")
def _tasks(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    conn.need(READ)
    return {"tasks": plain(conn.server.coordinator.tasks())}


@op("task_create")
async def _task_create(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    assert conn.identity is not None
    co = conn.server.coordinator
    task_id = await co.create_task(field(req, "description", str), created_by=conn.identity)
    return {"task": plain(co.task(task_id))}


@op("task_claim")
async def _task_claim(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    if conn.is_operator:
        raise RequestError("bad_request", "the operator assigns tasks with task_update")
    assert conn.identity is not None
    co = conn.server.coordinator
    task_id = field(req, "task_id", str)
    await co.claim_task(task_id, conn.identity)
    return {"task": plain(co.task(task_id))}


@op("task_update")
async def _task_update(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    assert conn.identity is not None
    co = conn.server.coordinator
    task_id = field(req, "task_id", str)
    await co.update_task(
        task_id,
        field(req, "status", str),
        assignee=field(req, "assignee", str, None),
        note=field(req, "note", str, ""),
        by=conn.identity,
    )
    return {"task": plain(co.task(task_id))}


# ------------------------------------------------------------- vendor hooks (bridges)

#: Metadata naming the vendor of an agent registered by its hook (docs/vendors.md).
BRIDGE_KEY = "bridge"
#: The agents a session's log says were removed, as read up to a seq, per coordinator.
_REMOVED: weakref.WeakKeyDictionary[Any, tuple[int, set[str]]] = weakref.WeakKeyDictionary()


async def _was_removed(co: Any, agent_id: str) -> bool:
    """Whether the log records the removal of ``agent_id`` (read once, then from where
    the last read ended: only a first hook call of a new agent asks)."""
    after, removed = _REMOVED.get(co, (0, set()))

    def scan() -> int:
        last = after
        for e in co.session.iter_events(after, types=("agent_removed",)):
            removed.add(e.agent_id)
            last = max(last, e.seq)
        return last

    _REMOVED[co] = (await asyncio.to_thread(scan), removed)
    return agent_id in removed


async def _bridge_hello(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    """``hello`` with ``role: "bridge"``, a vendor hook's: the operator token (read by the hook from beside the
    socket, never kept in a project file) proves the user; the connection then acts as
    the vendor-session agent, registered on first use, refused once removed."""
    import hmac

    token = field(req, "token", str)
    if not hmac.compare_digest(token.encode(), conn.server.operator_token.encode()):
        raise RequestError("auth_failed", "bad operator token")
    agent_id = field(req, "agent", str)
    vendor = field(req, "vendor", str)
    caps = field(req, "capabilities", list, ["run", "edit", "read"])
    if not all(isinstance(c, str) for c in caps):
        raise RequestError("bad_request", "capabilities must be a list of strings")
    co = conn.server.coordinator
    info = co.state["agents"].get(agent_id)
    registered = False
    if info is None:
        if await _was_removed(co, agent_id):
            raise RequestError(
                "auth_failed",
                f"agent {agent_id!r} was removed by the operator; its hooks stay refused"
                " (a new session of the vendor is a new agent)",
            )
        metadata = {
            BRIDGE_KEY: vendor,
            "session_id": field(req, "session_id", str, ""),
            "cwd": field(req, "cwd", str, ""),
        }
        info = await co.register_agent(agent_id, caps, name=agent_id, metadata=metadata)
        registered = True
    elif info.metadata.get(BRIDGE_KEY) != vendor:
        raise RequestError(
            "auth_failed", f"agent {agent_id!r} exists and is not a {vendor} hook's agent"
        )
    conn.identity, conn.role = agent_id, "agent"
    return {
        "protocol": PROTOCOL_VERSION,
        "session": co.session.state["session_id"],
        "role": "bridge",
        "agent": agent_id,
        "registered": registered,
        # this server's coordinator only decides an external command, never runs it
        "external": "external" in inspect.signature(co.propose).parameters,
        "capabilities": list(info.capabilities),
        "permissions": sorted(co.permissions(agent_id)),
    }


@op("bridge_ran")
async def _bridge_ran(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    """Record a command the agent's vendor ran itself (after its hook allowed it)."""
    agent = conn.need(RUN)
    exit_code = field(req, "exit_code", int, None)
    e = await conn.server.coordinator.writer.record(
        ev.CommandExecuted(
            agent_id=agent,
            command=field(req, "command", str),
            exit_code=exit_code,
            output=field(req, "output", str, ""),
            terminal="",
            cwd=field(req, "cwd", str, ""),
            duration=_number(req, "duration") or 0.0,
            approval_id=field(req, "approval_id", str, ""),
        )
    )
    return {"seq": e.seq}


@op("bridge_check_edit")
async def _bridge_check_edit(conn: Connection, req: dict[str, Any]) -> dict[str, Any]:
    """``check_edit`` for a vendor hook. When the edit would conflict, the edits it
    conflicts with are not counted as seen (unlike check_edit): the vendor's model never
    saw them, so the edit it makes once the human lets it is reported as concurrent with
    them and the conflict is recorded (the conflict panel shows it). When nothing
    conflicts, it is check_edit (the agent has now seen the file's edits)."""
    agent = conn.need(READ)
    co = conn.server.coordinator
    path = field(req, "path", str)
    ranges = _ranges(field(req, "ranges", list))
    from agentshell.core.ranges import find_conflicts
    from agentshell.core.state import EditInfo

    probe = EditInfo(
        edit_id="",
        agent_id=agent,
        file_path=path,
        ranges=tuple(ranges),
        clock=co.clocks.clock_for(agent, None),
        old_hash="",
        new_hash="",
        seq=0,
        timestamp=0.0,
    )
    found: dict[str, Any] = {}
    for other, *_ in find_conflicts(probe, co.state["file_edits"].get(path, [])):
        found.setdefault(other.edit_id, other)
    if not found:
        co.check_edit(agent, path, ranges, None)
    return {"conflicts": plain(list(found.values()))}
