"""The pure reducer: determinism, record fast path == event path, plain round trip, copies."""

from __future__ import annotations

import copy
import random

import pytest
from hypothesis import given

from agentshell.core import events as ev
from agentshell.core.errors import InvalidEventError
from agentshell.core.state import (
    AgentInfo,
    apply_event,
    apply_record,
    copy_state,
    fold_batches,
    fold_records,
    new_state,
    state_from_plain,
    state_to_plain,
)
from tests.store.strategies import event_sequences


def fold_events(events: list[ev.Event]) -> dict:
    s = new_state("s")
    for i, e in enumerate(events):
        apply_event(s, e.with_seq(i + 1))
    return state_to_plain(s)


@given(event_sequences())
def test_reducer_is_deterministic(events: list[ev.Event]) -> None:
    assert fold_events(events) == fold_events(list(events))


@given(event_sequences())
def test_record_fast_paths_equal_the_event_path(events: list[ev.Event]) -> None:
    records = [e.with_seq(i + 1).to_record() for i, e in enumerate(events)]
    one = new_state("s")
    for r in copy.deepcopy(records):
        apply_record(one, r)
    bulk = new_state("s")
    stats = fold_records(bulk, copy.deepcopy(records))
    expected = fold_events(events)
    assert state_to_plain(one) == expected
    assert state_to_plain(bulk) == expected
    assert stats.count == len(events)
    if events:
        assert stats.first_seq == 1 and stats.last_seq == len(events)
        assert stats.max_ts == max(e.timestamp for e in events)


@given(event_sequences())
def test_plain_round_trip(events: list[ev.Event]) -> None:
    s = new_state("s")
    for i, e in enumerate(events):
        apply_event(s, e.with_seq(i + 1))
    assert state_to_plain(state_from_plain(state_to_plain(s))) == state_to_plain(s)


def test_example_fold() -> None:
    s = new_state("s")
    evs = [
        ev.make_event(
            "agent_registered", {"capabilities": ["py"]}, agent_id="coder", timestamp=10.0
        ),
        ev.make_event("directory_changed", {"path": "/src"}, agent_id="coder", timestamp=11.0),
        ev.make_event(
            "command_executed", {"command": "ls", "exit_code": 0}, agent_id="coder", timestamp=12.0
        ),
        ev.make_event(
            "approval_queued",
            {"approval_id": "p1", "command": "rm x"},
            agent_id="coder",
            timestamp=13.0,
        ),
        ev.make_event(
            "approval_decided",
            {"approval_id": "p1", "decision": "rejected"},
            agent_id=ev.HUMAN,
            timestamp=14.0,
        ),
    ]
    for i, e in enumerate(evs):
        apply_event(s, e.with_seq(i + 1))
    assert s["agents"]["coder"] == AgentInfo(
        agent_id="coder",
        capabilities=("py",),
        registered_at=10.0,
        status="waiting",
        last_command="ls",
    )
    assert s["current_working_dirs"] == {"coder": "/src"}
    assert [c.command for c in s["recent_commands"]] == ["ls"]
    assert s["pending_approvals"] == {}
    assert (s["event_count"], s["last_seq"], s["created_at"], s["last_updated_at"]) == (
        5,
        5,
        10.0,
        14.0,
    )
    assert s["clock"] == {"coder": 4, ev.HUMAN: 1}


def test_recent_commands_keep_the_last_100() -> None:
    s = new_state("s")
    for i in range(150):
        apply_event(
            s, ev.make_event("command_executed", {"command": str(i)}, agent_id="a").with_seq(i + 1)
        )
    assert [c.command for c in s["recent_commands"]] == [str(i) for i in range(50, 150)]


def test_copy_state_is_independent() -> None:
    s = new_state("s")
    apply_event(s, ev.make_event("directory_changed", {"path": "/a"}, agent_id="a").with_seq(1))
    c = copy_state(s)
    apply_event(s, ev.make_event("directory_changed", {"path": "/b"}, agent_id="a").with_seq(2))
    assert c["current_working_dirs"] == {"a": "/a"} and c["event_count"] == 1


# ------------------------------------------------- bulk fold == per-event fold


_RARE = [
    "agent_registered",
    "agent_removed",
    "agent_status_changed",
    "conflict_detected",
    "conflict_resolved",
    "rule_added",
    "rule_revoked",
    "task_created",
    "task_status_changed",
    "terminal_opened",
    "terminal_closed",
    "terminal_resized",
]


def _long_sequence(seed: int, n: int) -> list[ev.Event]:
    """A long random mix that overflows the command and per-file edit caps, reuses
    approval ids, interleaves agent/terminal changes with the hot types, and edits
    shared documents with valid OT operations (doc_op)."""
    from agentshell.core import ot

    rnd = random.Random(seed)
    agents = ["coder", "tester", ev.HUMAN, ev.SYSTEM, "ghost"]
    ids = [f"ap{i}" for i in range(6)]
    docs: dict[str, str] = {"d1": "", "d2": ""}
    revs = {"d1": 0, "d2": 0}
    out: list[ev.Event] = []
    t = 1000.0
    hot = ["terminal_output"] * 6 + ["command_executed"] * 4 + ["file_edited"] * 3
    hot += ["directory_changed"] * 2 + ["approval_queued", "approval_decided"] * 2
    hot += ["approval_executed"] * 2 + ["doc_op"] * 2 + ["terminal_input"]
    for _ in range(n):
        t += rnd.random()
        a = rnd.choice(agents)
        kind = rnd.choice(hot) if rnd.random() < 0.9 else rnd.choice(_RARE)
        if kind == "doc_op":
            d = rnd.choice(sorted(docs))
            text = docs[d]
            if text and rnd.random() < 0.3:
                pos = rnd.randrange(len(text))
                op = ot.delete_op(len(text), pos, rnd.randint(1, len(text) - pos))
            else:
                op = ot.insert_op(len(text), rnd.randint(0, len(text)), rnd.choice("abc") * 2)
            docs[d] = ot.apply(text, op)
            revs[d] += 1
            payload: dict = {"doc": d, "revision": revs[d], "op": ot.to_wire(op)}
        elif kind == "command_executed":
            payload = {"command": f"c{rnd.randint(0, 999)}", "output": "x" * rnd.randint(0, 5000)}
            payload["terminal"] = rnd.choice(["main", "t2"])
        elif kind == "file_edited":
            line = rnd.randint(0, 50)
            payload = {
                "file_path": rnd.choice(["/f.py", "/g.py", "/h.py"]),
                "old_hash": "a",
                "new_hash": "b",
                "ranges": [[line, line + 2]],
            }
        elif kind == "approval_queued":
            payload = {"approval_id": rnd.choice(ids), "command": "rm x", "risk": ["rm"]}
        elif kind == "approval_decided":
            payload = {
                "approval_id": rnd.choice(ids),
                "decision": rnd.choice(["approved", "approved", "rejected", "interrupted"]),
            }
            if rnd.random() < 0.5:
                payload["command"] = rnd.choice([None, "rm y"])
            if rnd.random() < 0.3:
                payload["by"] = rnd.choice(["", "rule"])
        elif kind == "approval_executed":
            payload = {
                "approval_id": rnd.choice(ids),
                "status": rnd.choice(["executing", "executed", "failed"]),
            }
        elif kind == "directory_changed":
            payload = {"path": f"/p{rnd.randint(0, 9)}"}
            if rnd.random() < 0.2:
                payload["terminal"] = rnd.choice(["main", "t2", "nope"])
        elif kind in ("terminal_output", "terminal_input"):
            payload = {
                "terminal": rnd.choice(["main", "t2", "nope"]),
                "data": b"x" * rnd.randint(0, 9),
            }
        else:
            payload = _rare_payload(rnd, kind)
        out.append(
            ev.make_event(kind, payload, agent_id=a, timestamp=t, clock={a: rnd.randint(0, 9)})
        )
    return out


def _rare_payload(rnd: random.Random, kind: str) -> dict:
    term = rnd.choice(["main", "t2"])
    i = rnd.choice(["x1", "x2"])
    return {
        "agent_registered": {"capabilities": ["py"], "name": rnd.choice(["", "n"])},
        "agent_removed": {},
        "agent_status_changed": {"status": rnd.choice(["idle", "working"])},
        "conflict_detected": {
            "conflict_id": i,
            "file_path": "/f.py",
            "agents": ["coder"],
            "ranges": [[1, 2]],
            "overlap": [1, 2],
        },
        "conflict_resolved": {"conflict_id": i, "resolution": "manual"},
        "rule_added": {"rule_id": i, "action": "allow", "kind": "prefix", "pattern": "ls"},
        "rule_revoked": {"rule_id": i},
        "task_created": {"task_id": i, "description": "d"},
        "task_status_changed": {"task_id": i, "status": "done"},
        "terminal_opened": {"terminal": term, "cwd": "/w"},
        "terminal_closed": {"terminal": term},
        "terminal_resized": {"terminal": term, "columns": 80, "lines": 24},
    }[kind]


def _ordered(state: dict) -> dict:
    """``state_to_plain`` plus the key order of every map (dict equality ignores it)."""
    plain = state_to_plain(state)  # type: ignore[arg-type]
    return {
        "plain": plain,
        "order": {k: list(v) for k, v in plain.items() if isinstance(v, dict)},
    }


@pytest.mark.parametrize("seed", range(4))
def test_bulk_fold_equals_per_event_fold(seed: int) -> None:
    events = _long_sequence(seed, 3000)
    records = [e.with_seq(i + 1).to_record() for i, e in enumerate(events)]
    one = new_state("s")
    for i, e in enumerate(events):
        apply_event(one, e.with_seq(i + 1))
    # In one go, and in pieces (as the replay timeline folds), from the same start.
    bulk = new_state("s")
    stats = fold_records(bulk, copy.deepcopy(records))
    assert _ordered(bulk) == _ordered(one)
    assert stats.count == len(events) and stats.last_seq == len(events)
    pieces = new_state("s")
    rnd = random.Random(seed)
    rest = copy.deepcopy(records)
    while rest:
        k = rnd.randint(1, 400)
        fold_records(pieces, rest[:k], pieces["last_updated_at"])
        rest = rest[k:]
    assert _ordered(pieces) == _ordered(one)
    assert len(one["recent_commands"]) == 100
    assert max(len(v) for v in one["file_edits"].values()) == 64


def test_bulk_fold_stops_at_a_bad_record_with_the_state_before_it() -> None:
    events = _long_sequence(99, 300)
    records = [e.with_seq(i + 1).to_record() for i, e in enumerate(events)]
    bad = copy.deepcopy(records[150])
    bad["t"] = "command_executed"
    bad["p"] = {}  # no command
    one = new_state("s")
    for r in copy.deepcopy(records[:150]):
        apply_record(one, r)
    bulk = new_state("s")
    with pytest.raises(AttributeError):
        fold_records(bulk, [*copy.deepcopy(records[:150]), bad, *copy.deepcopy(records[151:])])
    assert _ordered(bulk) == _ordered(one)
    with pytest.raises(InvalidEventError):
        fold_records(new_state("s"), [dict(records[0], t="nope")])


@pytest.mark.parametrize("seed", range(3))
def test_fold_batches_over_any_split_equals_the_per_event_fold(seed: int) -> None:
    events = _long_sequence(seed + 10, 2000)
    records = [e.with_seq(i + 1).to_record() for i, e in enumerate(events)]
    one = new_state("s")
    for i, e in enumerate(events):
        apply_event(one, e.with_seq(i + 1))
    rnd = random.Random(seed)
    rest = copy.deepcopy(records)
    lists = []
    while rest:
        k = rnd.randint(1, 300)
        lists.append(rest[:k])
        rest = rest[k:]
    bulk = new_state("s")
    stats = fold_batches(bulk, lists)
    assert _ordered(bulk) == _ordered(one)
    assert stats.count == len(events) and stats.first_seq == 1
    assert stats.max_ts == max(e.timestamp for e in events)


def test_fold_batches_stops_at_a_bad_record_inside_a_list() -> None:
    events = _long_sequence(98, 300)
    records = [e.with_seq(i + 1).to_record() for i, e in enumerate(events)]
    for k in (0, 1, 77, 150, 299):
        bad = copy.deepcopy(records[k])
        bad["t"] = "command_executed"
        bad["p"] = {}  # no command
        one = new_state("s")
        for r in copy.deepcopy(records[:k]):
            apply_record(one, r)
        rest = [*copy.deepcopy(records[:k]), bad, *copy.deepcopy(records[k + 1 :])]
        bulk = new_state("s")
        with pytest.raises(AttributeError):
            fold_batches(bulk, [rest[:40], rest[40:200], rest[200:]])
        assert _ordered(bulk) == _ordered(one), k


def test_an_ended_approval_takes_its_shared_text_along() -> None:
    def life(aid: str, *end: ev.Event) -> list[ev.Event]:
        return [
            ev.ApprovalQueued(agent_id="bot", approval_id=aid, command="make", terminal="main"),
            ev.DocOp(agent_id="system", doc=f"approval:{aid}", revision=1, op=["make"]),
            ev.DocOp(agent_id="bot", doc=f"approval:{aid}", revision=2, op=[4, " test"]),
            *end,
        ]

    events = [
        ev.TerminalOpened(terminal="main"),
        *life("a1", ev.ApprovalDecided(approval_id="a1", decision="rejected")),
        *life(
            "a2",
            ev.ApprovalDecided(approval_id="a2", decision="approved", command="make test"),
            ev.ApprovalExecuted(approval_id="a2", status="executing"),
            ev.ApprovalExecuted(approval_id="a2", status="executed"),
        ),
        *life("a3"),  # still waiting: its text stays
    ]
    expected = fold_events(events)
    assert set(expected["docs"]) == {"approval:a3"}
    assert set(expected["pending_approvals"]) == {"a3"}
    records = [e.with_seq(i + 1).to_record() for i, e in enumerate(events)]
    bulk = new_state("s")
    fold_records(bulk, copy.deepcopy(records))  # the replay's fast path agrees
    assert state_to_plain(bulk) == expected
    # ... also when the approvals were queued before the fold (a snapshot's state)
    k = len(life("a1")) + 1
    split = new_state("s")
    fold_records(split, copy.deepcopy(records[: k - 1]))
    fold_records(split, copy.deepcopy(records[k - 1 :]))
    assert state_to_plain(split) == expected


def test_an_old_snapshot_loses_the_texts_of_ended_approvals() -> None:
    from agentshell.core.state import state_from_plain

    events = [
        ev.ApprovalQueued(agent_id="bot", approval_id="a1", command="make", terminal="main"),
        ev.DocOp(agent_id="bot", doc="approval:a1", revision=1, op=["make"]),
    ]
    plain = fold_events(events)
    # as written before: a1 ended, its text stayed (and a draft stays anyway)
    plain["pending_approvals"] = {}
    plain["docs"]["draft:main"] = {**plain["docs"]["approval:a1"], "doc": "draft:main"}
    assert set(state_to_plain(state_from_plain(plain))["docs"]) == {"draft:main"}
