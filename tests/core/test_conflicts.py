"""ConflictResolver: concurrent edits whose line ranges overlap or touch, opened and resolved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentshell.core import events as ev
from agentshell.core.clock import VectorClock
from agentshell.core.conflicts import RESOLUTIONS, ConflictResolver, EditConflict
from agentshell.core.ranges import changed_line_ranges
from agentshell.core.state import EditInfo


def test_the_documented_example() -> None:
    resolver = ConflictResolver()
    a = VectorClock().increment("a")
    b = VectorClock().increment("b")
    assert resolver.record_edit("a", "main.py", [(2, 5)], a) == []
    [c] = resolver.record_edit("b", "main.py", [(4, 6)], b)
    assert c.agents == ("a", "b") and c.ranges == ((2, 5), (4, 6)) and c.overlap == (4, 5)
    assert c.file_path == "main.py" and c.conflict_id.startswith("c-")
    assert resolver.active_conflicts == {c.conflict_id: c}
    assert resolver.resolve(c.conflict_id, "keep_both") == c
    assert resolver.active_conflicts == {}
    with pytest.raises(KeyError):
        resolver.resolve(c.conflict_id, "keep_both")  # resolved already


def test_touching_ranges_conflict_and_apart_ones_do_not() -> None:
    r = ConflictResolver()
    r.record_edit("a", "f", [(0, 2)], {"a": 1})
    [touch] = r.record_edit("b", "f", [(2, 4)], {"b": 1})  # adjacent: git's rule
    assert touch.overlap == (2, 2)
    assert r.record_edit("c", "f", [(5, 6)], {"c": 1}) == []  # line 4 untouched between
    [ins] = r.check_edit("d", "f", [(6, 6)], {"d": 1})  # an insertion at c's end
    assert ins.agents == ("c", "d") and ins.conflict_id == ""


def test_what_is_not_a_conflict() -> None:
    r = ConflictResolver()
    r.record_edit("a", "f", [(0, 5)], {"a": 1}, edit_id="e1")
    assert r.record_edit("a", "f", [(1, 2)], {"x": 1}) == []  # the same agent
    assert r.record_edit("b", "f", [(1, 2)], {"a": 1, "b": 1, "x": 1}) == []  # b had seen a's
    assert r.record_edit("z", "g", [(1, 2)], {"z": 1}) == []  # another file
    with pytest.raises(ValueError, match="recorded already"):
        r.record_edit("q", "f", [(9, 9)], {"q": 1}, edit_id="e1")
    assert r.active_conflicts == {}


def test_check_edit_records_nothing() -> None:
    r = ConflictResolver()
    r.record_edit("a", "f", [(0, 5)], {"a": 1})
    assert len(r.check_edit("b", "f", [(1, 2)], {"b": 1})) == 1
    assert r.active_conflicts == {} and len(r.recent_edits("f")) == 1


def test_one_conflict_per_pair_of_ranges() -> None:
    r = ConflictResolver()
    r.record_edit("a", "f", [(0, 1), (10, 12)], {"a": 1})
    got = r.record_edit("b", "f", [(0, 1), (11, 11), (11, 11)], {"b": 1})
    assert [(c.ranges, c.overlap) for c in got] == [
        (((0, 1), (0, 1)), (0, 1)),
        (((10, 12), (11, 11)), (11, 11)),
    ]
    assert len({c.conflict_id for c in got}) == 2 == len(r.active_conflicts)


def test_bad_input_is_refused() -> None:
    r = ConflictResolver()
    for ranges, error in (
        ([(3, 1)], ValueError),
        ([(-1, 2)], ValueError),
        ([(1,)], TypeError),
        ([(1.0, 2)], TypeError),
    ):
        with pytest.raises(error):
            r.record_edit("a", "f", ranges, {"a": 1})  # type: ignore[arg-type]
    for agent, path in (("", "f"), ("a", "")):
        with pytest.raises(ValueError):
            r.record_edit(agent, path, [(0, 1)], {})
    with pytest.raises(ValueError, match="at least 1"):
        ConflictResolver(keep_per_file=0)
    r.record_edit("a", "f", [(0, 1)], {"a": 1})
    [c] = r.record_edit("b", "f", [(0, 1)], {"b": 1})
    with pytest.raises(ValueError, match="keep_first"):
        r.resolve(c.conflict_id, "keep_mine")
    assert c.conflict_id in r.active_conflicts  # a refused resolution closes nothing
    assert set(RESOLUTIONS) == {"keep_first", "keep_second", "keep_both", "manual"}


def test_only_the_recent_edits_of_a_file_are_kept() -> None:
    r = ConflictResolver(keep_per_file=2)
    r.record_edit("a", "f", [(0, 1)], {"a": 1})
    r.record_edit("a", "f", [(50, 51)], {"a": 2})
    r.record_edit("a", "f", [(60, 61)], {"a": 3})
    assert [e.ranges for e in r.recent_edits("f")] == [((50, 51),), ((60, 61),)]
    assert r.check_edit("b", "f", [(0, 1)], {"b": 1}) == []  # the first one has gone


def _conflicts_by_definition(edits: list[EditInfo], new: EditInfo) -> set[tuple[Any, ...]]:
    """The rule written out from its statement, independently of the code."""
    out = set()
    for old in edits:
        if old.agent_id == new.agent_id or old.file_path != new.file_path:
            continue
        keys = set(old.clock) | set(new.clock)
        old_seen = all(new.clock.get(k, 0) >= old.clock.get(k, 0) for k in keys)
        new_seen = all(old.clock.get(k, 0) >= new.clock.get(k, 0) for k in keys)
        if old_seen or new_seen:
            continue
        for mine in new.ranges:
            for theirs in old.ranges:
                if mine[0] <= theirs[1] and theirs[0] <= mine[1]:
                    out.add((old.edit_id, new.edit_id, theirs, mine))
    return out


ranges = st.lists(
    st.tuples(st.integers(0, 12), st.integers(0, 4)).map(lambda p: (p[0], p[0] + p[1])),
    min_size=1,
    max_size=3,
)
edit_spec = st.tuples(
    st.sampled_from("abc"),
    st.sampled_from(["f", "g"]),
    ranges,
    st.dictionaries(st.sampled_from("abc"), st.integers(0, 3), max_size=3),
)


@given(st.lists(edit_spec, max_size=8))
def test_record_edit_finds_exactly_the_conflicts_of_the_rule(specs: list[Any]) -> None:
    r = ConflictResolver()
    done: list[EditInfo] = []
    expected_open = 0
    for i, (agent, path, rs, clock) in enumerate(specs):
        got = r.record_edit(agent, path, rs, clock, edit_id=f"e{i}")
        new = r.recent_edits(path)[-1]
        assert new.edit_id == f"e{i}" and new.clock == clock
        want = _conflicts_by_definition(done, new)
        assert {(c.edit_ids[0], c.edit_ids[1], c.ranges[0], c.ranges[1]) for c in got} == want
        for c in got:
            lo, hi = c.overlap
            assert lo == max(c.ranges[0][0], c.ranges[1][0])
            assert hi == min(c.ranges[0][1], c.ranges[1][1])
            assert c.agents == (next(e.agent_id for e in done if e.edit_id == c.edit_ids[0]), agent)
        expected_open += len(got)
        done.append(new)
    assert len(r.active_conflicts) == expected_open


def test_beside_a_session(tmp_path: Path) -> None:
    """The resolver's conflicts are the session's conflict_detected events, and a
    resolver made from a reopened session's state picks up where it was."""
    from agentshell.store.session import SessionManager

    with SessionManager("s", tmp_path) as sm:
        r = ConflictResolver.from_state(sm.state)
        base = "1\n2\n3\n"
        first, second = (
            sm.append(
                ev.FileEdited(
                    agent_id=agent,
                    file_path="/p/main.py",
                    old_hash="",
                    new_hash="",
                    ranges=changed_line_ranges(base, new)[0],
                    clock={agent: 1},  # neither had seen the other's edit
                )
            )
            for agent, new in (("a", "1\nX\n3\n"), ("b", "1\n2\nY\n"))
        )
        assert r.record(sm.state["file_edits"]["/p/main.py"][0]) == []
        [c] = r.record(sm.state["file_edits"]["/p/main.py"][1])
        assert c.edit_ids == (first.event_id, second.event_id) and c.overlap == (2, 2)
        sm.append(c.to_event())
        assert list(sm.state["active_conflicts"]) == [c.conflict_id]
    with SessionManager("s", tmp_path) as sm:
        again = ConflictResolver.from_state(sm.state)
        assert again.active_conflicts == {c.conflict_id: c}
        assert [e.edit_id for e in again.recent_edits("/p/main.py")] == list(c.edit_ids)
        closed = again.resolve(c.conflict_id, "keep_first")
        sm.record_event(
            "conflict_resolved",
            payload={"conflict_id": closed.conflict_id, "resolution": "keep_first"},
        )
        assert sm.state["active_conflicts"] == {}


def test_to_event_round_trips_through_the_state() -> None:
    c = EditConflict("f", ("a", "b"), ((0, 2), (1, 3)), (1, 2), ("e1", "e2"), "c-1")
    e = c.to_event()
    assert isinstance(e, ev.ConflictDetected)
    assert (e.conflict_id, e.file_path, e.agents, e.ranges, e.overlap, e.edit_ids) == (
        "c-1",
        "f",
        ["a", "b"],
        [[0, 2], [1, 3]],
        [1, 2],
        ["e1", "e2"],
    )
