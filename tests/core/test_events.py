"""The event model: construction, validation, records and their round trip."""

from __future__ import annotations

import dataclasses
import math

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentshell.core import events as ev
from agentshell.core.errors import InvalidEventError
from tests.store.strategies import event_sequences


def test_every_spec_type_is_a_frozen_event_class() -> None:
    for name in ev.SPEC_EVENT_TYPES:
        cls = ev.EVENT_TYPES[name]
        assert cls.event_type == name and issubclass(cls, ev.Event)
    e = ev.make_event("directory_changed", {"path": "/x"}, agent_id="a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.seq = 3  # type: ignore[misc]


def test_make_event_header_defaults_and_payload_timestamp() -> None:
    e = ev.make_event(
        "agent_registered",
        {"agent_id": "c", "capabilities": ["py"], "timestamp": 5.0},
        agent_id="c",
    )
    assert isinstance(e, ev.AgentRegistered)
    assert e.timestamp == 5.0 and e.agent_id == "c" and e.seq == 0 and e.clock == {}
    assert len(e.event_id) == 36
    assert e.payload == {"capabilities": ["py"], "metadata": {}, "name": "", "token_hash": ""}


@pytest.mark.parametrize(
    ("kind", "payload", "agent", "match"),
    [
        ("nope", {}, "a", "unknown event type"),
        ("command_executed", {}, "a", "missing payload field 'command'"),
        ("command_executed", {"command": "x", "bogus": 1}, "a", "unknown payload field"),
        ("command_executed", {"command": 1}, "a", "expected str"),
        ("command_executed", {"command": "x", "exit_code": True}, "a", "fits none"),
        ("command_executed", {"command": "x", "duration": math.nan}, "a", "finite"),
        ("agent_registered", {"capabilities": "py"}, "a", "expected a list"),
        (
            "agent_registered",
            {"capabilities": [], "metadata": {"k": {1, 2}}},
            "a",
            "cannot be stored",
        ),
        ("agent_registered", {"capabilities": [], "metadata": {"k": 2**80}}, "a", "64 bits"),
        ("agent_registered", {"agent_id": "b", "capabilities": []}, "a", "differs"),
        ("directory_changed", {"path": "/"}, "", "non-empty"),
        ("directory_changed", {1: "/"}, "a", "keys must be strings"),
    ],
)
def test_make_event_refuses_bad_input(kind: str, payload: dict, agent: str, match: str) -> None:
    with pytest.raises(InvalidEventError, match=match):
        ev.make_event(kind, payload, agent_id=agent)


def test_tuples_are_stored_as_lists() -> None:
    e = ev.make_event(
        "file_edited",
        {"file_path": "f", "old_hash": "a", "new_hash": "b", "ranges": ((0, 1),)},
        agent_id="a",
    )
    body = msgpack.packb(e.to_record(), use_bin_type=True)
    assert msgpack.unpackb(body, raw=False)["p"]["ranges"] == [[0, 1]]


def test_with_seq_keeps_everything_else() -> None:
    e = ev.make_event("command_executed", {"command": "ls"}, agent_id="a", clock={"a": 2})
    f = e.with_seq(9)
    assert f.seq == 9 and e.seq == 0
    assert dataclasses.replace(f, seq=0) == e


@given(event_sequences(max_size=10), st.integers(1, 2**40))
def test_with_seq_equals_a_field_by_field_replace(events: list[ev.Event], seq: int) -> None:
    for e in events:
        f = e.with_seq(seq)
        assert type(f) is type(e) and f == dataclasses.replace(e, seq=seq)
        assert f.seq == seq


@given(event_sequences(max_size=10))
def test_record_round_trip_through_msgpack(events: list[ev.Event]) -> None:
    for i, e in enumerate(events):
        e = e.with_seq(i + 1)
        rec = e.to_record()
        assert rec["v"] == ev.FORMAT_VERSION and rec["t"] == e.event_type and rec["s"] == i + 1
        back = ev.event_from_record(
            msgpack.unpackb(msgpack.packb(rec, use_bin_type=True), raw=False)
        )
        assert back == e


def test_event_from_record_rejects_non_records() -> None:
    with pytest.raises(InvalidEventError):
        ev.event_from_record({"t": "nope"})
    with pytest.raises(InvalidEventError):
        ev.event_from_record(
            {
                "t": "directory_changed",
                "i": "x",
                "ts": 1.0,
                "a": "a",
                "s": 1,
                "c": {},
                "p": {"wrong": 1},
            }
        )


def test_event_to_json_escapes_bytes() -> None:
    e = ev.make_event("terminal_output", {"terminal": "main", "data": b"ok\xff"}, agent_id="a")
    j = ev.event_to_json(e)
    assert j["payload"]["data"] == "ok\\xff" and j["type"] == "terminal_output"
