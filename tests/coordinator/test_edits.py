"""File-edit conflicts by vector clocks and line ranges, and their resolution."""

from __future__ import annotations

import hashlib

import pytest

from agentshell.coordinator import api
from agentshell.coordinator.coordinator import Coordinator
from agentshell.core import events as ev

from .conftest import ALL, logged, next_event

BASE = "".join(f"line {i}\n" for i in range(10))


def change(lines: range, text: str = "changed", base: str = BASE) -> str:
    rows = base.splitlines(keepends=True)
    for i in lines:
        rows[i] = f"{text} {i}\n"
    return "".join(rows)


@pytest.fixture
async def two(co: Coordinator) -> Coordinator:
    await co.add_agent("a", ALL)
    await co.add_agent("b", ALL)
    return co


async def test_edit_event_carries_hashes_ranges_and_clock(two: Coordinator) -> None:
    new = change(range(2, 4))
    e, conflicts = await two.report_edit("a", "f.py", BASE, new)
    assert conflicts == []
    assert e.old_hash == hashlib.sha256(BASE.encode()).hexdigest()
    assert e.new_hash == hashlib.sha256(new.encode()).hexdigest()
    assert e.ranges == [[2, 4]] and e.lines_added == 2 and e.lines_removed == 2
    assert e.clock.get("a", 0) >= 1


async def test_concurrent_overlapping_edits_conflict(two: Coordinator) -> None:
    sub = two.subscribe(["conflict_detected"])
    ea, _ = await two.report_edit("a", "f.py", BASE, change(range(2, 5)))
    eb, conflicts = await two.report_edit("b", "f.py", BASE, change(range(4, 6), "other"))
    (c,) = conflicts
    assert c.file_path == "f.py"
    assert c.agents == ["a", "b"]
    assert c.ranges == [[2, 5], [4, 6]]
    assert c.overlap == [4, 5]
    assert c.edit_ids == [ea.event_id, eb.event_id]
    pushed = await next_event(sub)
    assert isinstance(pushed, ev.ConflictDetected) and pushed.conflict_id == c.conflict_id
    assert list(two.state["active_conflicts"]) == [c.conflict_id]


async def test_conflict_sides_show_what_each_agent_wrote(two: Coordinator) -> None:
    await two.report_edit("a", "f.py", BASE, change(range(2, 5)))
    _, (c,) = await two.report_edit("b", "f.py", BASE, change(range(4, 6), "other"))
    want = ("a", ("changed 2", "changed 3", "changed 4"), "b", ("other 4", "other 5"), 2, 4)
    assert two.conflict_sides(c.conflict_id) == want
    # a coordinator that did not see the edits live finds them in the log
    two.edit_log._edit_event_cache.clear()
    assert two.conflict_sides(c.conflict_id) == want
    assert two.conflict_sides("c-nope") is None


async def test_the_edit_cache_keeps_only_the_newest(
    two: Coordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentshell.coordinator import edits

    monkeypatch.setattr(edits, "EDIT_CACHE_KEEP", 3)
    await two.report_edit("a", "f.py", BASE, change(range(2, 5)))
    _, (c,) = await two.report_edit("b", "f.py", BASE, change(range(4, 6), "other"))
    for i in range(5):  # other files: the conflict's two edits leave the cache
        await two.report_edit("a", f"g{i}.py", BASE, change(range(1, 2)))
    assert len(two.edit_log._edit_event_cache) == 3
    assert not set(c.edit_ids) & set(two.edit_log._edit_event_cache)
    want = ("a", ("changed 2", "changed 3", "changed 4"), "b", ("other 4", "other 5"), 2, 4)
    assert two.conflict_sides(c.conflict_id) == want  # read back from the log


async def test_a_cache_miss_reads_the_log_from_the_first_edit_on(
    two: Coordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(30):  # history before the edits that a read need not go through
        await two.report_edit("a", f"old{i}.py", BASE, change(range(1, 2)))
    first, _ = await two.report_edit("a", "f.py", BASE, change(range(2, 5)))
    _, (c,) = await two.report_edit("b", "f.py", BASE, change(range(4, 6), "other"))
    await two.report_edit("a", "later.py", BASE, change(range(1, 2)))
    two.edit_log._edit_event_cache.clear()
    reads: list[tuple[int, object]] = []
    real = two.session.iter_events

    def iter_events(after_seq: int = 0, types: object = None) -> object:
        reads.append((after_seq, types))
        return real(after_seq, types)  # type: ignore[arg-type]

    monkeypatch.setattr(two.session, "iter_events", iter_events)
    want = ("a", ("changed 2", "changed 3", "changed 4"), "b", ("other 4", "other 5"), 2, 4)
    assert two.conflict_sides(c.conflict_id) == want
    assert reads == [(first.seq - 1, ("file_edited",))]
    # the first edit no longer among the file's recent edits: from well before it
    monkeypatch.setitem(two.session.state["file_edits"], "f.py", [])
    two.edit_log._edit_event_cache.clear()
    assert two.conflict_sides(c.conflict_id) == want
    assert reads[-1] == (0, ("file_edited",))


async def test_touching_ranges_conflict(two: Coordinator) -> None:
    await two.report_edit("a", "f.py", BASE, change(range(2, 4)))
    _, conflicts = await two.report_edit("b", "f.py", BASE, change(range(4, 5), "other"))
    (c,) = conflicts
    assert c.ranges == [[2, 4], [4, 5]] and c.overlap == [4, 4]


async def test_apart_ranges_and_other_files_do_not_conflict(two: Coordinator) -> None:
    await two.report_edit("a", "f.py", BASE, change(range(2, 4)))
    _, c1 = await two.report_edit("b", "f.py", BASE, change(range(5, 6), "other"))
    _, c2 = await two.report_edit("b", "g.py", BASE, change(range(2, 4), "other"))
    assert c1 == [] and c2 == []
    assert logged(two.session, ["conflict_detected"]) == []


async def test_sequential_edits_do_not_conflict(two: Coordinator) -> None:
    first = change(range(2, 4))
    ea, _ = await two.report_edit("a", "f.py", BASE, first)
    two.saw("b", ea)  # delivered to b (what the server does when it pushes the event)
    eb, conflicts = await two.report_edit("b", "f.py", first, change(range(3, 4), "b", first))
    assert conflicts == []
    assert eb.clock.get("a", 0) >= ea.clock["a"]
    # ... and a's next edit, after seeing b's, does not conflict either
    two.saw("a", eb)
    _, conflicts = await two.report_edit("a", "f.py", BASE, change(range(3, 4), "a2"))
    assert conflicts == []


async def test_a_clock_sent_by_the_agent_counts_as_seen(two: Coordinator) -> None:
    ea, _ = await two.report_edit("a", "f.py", BASE, change(range(2, 4)))
    _, conflicts = await two.report_edit(
        "b", "f.py", BASE, change(range(2, 4), "b"), clock=dict(ea.clock)
    )
    assert conflicts == []


async def test_check_edit_warns_before_writing(two: Coordinator) -> None:
    ea, _ = await two.report_edit("a", "f.py", BASE, change(range(2, 4)))
    await two.add_agent("c", ALL)
    assert two.check_edit("c", "f.py", [(6, 8)]) == []  # apart: nothing in the way
    (hit,) = two.check_edit("b", "f.py", [(3, 5)])
    assert (hit.edit_id, hit.agent_id) == (ea.event_id, "a")
    assert two.check_edit("b", "f.py", [(3, 5)]) == []  # b now knows of a's edit
    # having asked, b has seen a's edit: editing after it is sequential
    _, conflicts = await two.report_edit("b", "f.py", BASE, change(range(3, 5), "b"))
    assert conflicts == []


@pytest.mark.parametrize("resolution", ["keep_first", "keep_second", "keep_both", "manual"])
async def test_resolutions_are_events(two: Coordinator, resolution: str) -> None:
    await two.report_edit("a", "f.py", BASE, change(range(2, 4)))
    _, (c,) = await two.report_edit("b", "f.py", BASE, change(range(3, 4), "b"))
    sub = two.subscribe(["conflict_resolved"])
    await two.resolve_conflict(c.conflict_id, resolution, note="merged by hand")
    e = await next_event(sub)
    assert isinstance(e, ev.ConflictResolved)
    assert (e.conflict_id, e.resolution, e.by, e.note) == (
        c.conflict_id,
        resolution,
        ev.HUMAN,
        "merged by hand",
    )
    assert two.state["active_conflicts"] == {}
    with pytest.raises(api.NotFoundError):
        await two.resolve_conflict(c.conflict_id, resolution)


async def test_bad_resolution_and_unknown_conflict(two: Coordinator) -> None:
    await two.report_edit("a", "f.py", BASE, change(range(2, 4)))
    _, (c,) = await two.report_edit("b", "f.py", BASE, change(range(3, 4), "b"))
    with pytest.raises(api.InvalidRequestError):
        await two.resolve_conflict(c.conflict_id, "keep_neither")
    with pytest.raises(api.NotFoundError):
        await two.resolve_conflict("c-nope", "keep_first")
    assert list(two.state["active_conflicts"]) == [c.conflict_id]
