"""Vector clocks: the functions over plain dicts and the VectorClock value agree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentshell.core.clock import (
    ClockOrder,
    VectorClock,
    compare,
    concurrent,
    dominates,
    happened_before,
    merge,
    tick,
)

clocks = st.dictionaries(st.sampled_from("abcd"), st.integers(0, 4), max_size=4)


def test_the_documented_operations() -> None:
    a = VectorClock().increment("a")
    b = VectorClock().increment("b")
    assert a == {"a": 1} and a["a"] == 1 and a.get("b", 0) == 0 and len(a) == 1
    assert a.concurrent(b) and b.concurrent(a)
    assert a.compare(b) is ClockOrder.CONCURRENT
    both = a.merge(b)
    assert both == VectorClock({"a": 1, "b": 1})
    assert a.happens_before(both) and not both.happens_before(a)
    assert a.compare(both) is ClockOrder.BEFORE and both.compare(a) is ClockOrder.AFTER
    assert both.compare({"b": 1, "a": 1}) is ClockOrder.EQUAL
    assert both.has_seen(a) and not a.has_seen(both)
    assert a < both and a <= both and both > a and both >= a
    assert not a <= b and not b <= a  # a partial order: concurrent clocks are unordered
    assert both.increment("a") == {"a": 2, "b": 1}
    assert both == {"a": 1, "b": 1}  # immutable: increment made a new clock
    assert both.to_dict() == {"a": 1, "b": 1} and type(both.to_dict()) is dict
    assert repr(a) == "VectorClock({'a': 1})"


def test_zero_counts_and_value_semantics() -> None:
    assert VectorClock({"a": 0}) == VectorClock() == {}
    assert VectorClock() == {"x": 0} and VectorClock({"a": 1}) == {"a": 1, "x": 0}
    assert len(VectorClock({"a": 0, "b": 2})) == 1
    assert hash(VectorClock({"a": 1, "b": 2})) == hash(VectorClock({"b": 2, "a": 1, "c": 0}))
    assert {VectorClock({"a": 1}), VectorClock({"a": 1})} == {VectorClock({"a": 1})}
    assert VectorClock({"a": 1}) != {"a": 2} and VectorClock() != [("a", 1)]


@pytest.mark.parametrize(
    ("counts", "error"),
    [
        ({"a": -1}, ValueError),
        ({"a": 1.0}, TypeError),
        ({"a": True}, TypeError),
        ({"": 1}, TypeError),
        ({3: 1}, TypeError),
    ],
)
def test_bad_counts_are_refused(counts: dict[object, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        VectorClock(counts)  # type: ignore[arg-type]


@given(clocks, clocks)
def test_the_value_agrees_with_the_functions(a: dict[str, int], b: dict[str, int]) -> None:
    va, vb = VectorClock(a), VectorClock(b)
    assert va.merge(b) == merge(a, b) == vb.merge(va)
    assert va.has_seen(b) == dominates(a, b)
    assert va.happens_before(b) == happened_before(a, b)
    assert va.concurrent(b) == concurrent(a, b)
    assert va.compare(vb) == compare(a, b)
    assert va.increment("a") == tick(a, "a")
    # exactly one order holds, and it is the mirror of the other side's
    mirror = {
        ClockOrder.BEFORE: ClockOrder.AFTER,
        ClockOrder.AFTER: ClockOrder.BEFORE,
        ClockOrder.EQUAL: ClockOrder.EQUAL,
        ClockOrder.CONCURRENT: ClockOrder.CONCURRENT,
    }
    assert vb.compare(va) is mirror[va.compare(vb)]
    # the definitions, written out pointwise
    keys = set(a) | set(b)
    le = all(a.get(k, 0) <= b.get(k, 0) for k in keys)
    ge = all(a.get(k, 0) >= b.get(k, 0) for k in keys)
    assert (va <= vb) == le and (va >= vb) == ge
    assert (va < vb) == (le and not ge) and va.concurrent(vb) == (not le and not ge)
    assert (va == vb) == (le and ge)
    merged = va.merge(vb)
    assert merged >= va and merged >= vb
    assert va.increment("a") > va and not va.increment("a").happens_before(va)
