"""Property: state from snapshot + tail replay == state from full replay == live state."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from agentshell.core import events as ev
from agentshell.core.state import apply_event, new_state, state_to_plain
from agentshell.store.session import SessionManager
from tests.store.strategies import event_sequences


@given(event_sequences(), st.data())
def test_snapshot_plus_tail_equals_full_replay(events: list[ev.Event], data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(events)), label="snapshot after")
    reference = new_state("s")
    for i, e in enumerate(events):
        apply_event(reference, e.with_seq(i + 1))
    expected = state_to_plain(reference)
    with tempfile.TemporaryDirectory() as d:
        with SessionManager("s", d) as sm:
            for e in events[:cut]:
                sm.append_buffered(e)
            snap = sm.persist_snapshot()
            for e in events[cut:]:
                sm.append_buffered(e)
            assert state_to_plain(sm.state) == expected  # live
        with SessionManager("s", d) as tail:
            assert tail.snapshot_used == snap
            assert state_to_plain(tail.state) == expected  # snapshot + tail
        snap.unlink()
        with SessionManager("s", d) as full:
            assert full.snapshot_used is None
            assert state_to_plain(full.state) == expected  # full replay
            assert [e.seq for e in full.iter_events()] == list(range(1, len(events) + 1))
        assert Path(d, "s", "events.log").stat().st_size > 0 or not events
