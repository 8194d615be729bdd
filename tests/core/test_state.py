"""The pure reducer: determinism, record fast path == event path, plain round trip, copies."""

from __future__ import annotations

import copy

from hypothesis import given

from agentshell.core import events as ev
from agentshell.core.state import (
    AgentInfo,
    apply_event,
    apply_record,
    copy_state,
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
