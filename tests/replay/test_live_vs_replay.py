"""Replaying the recorded demo shows what the live session showed."""

from __future__ import annotations

import json

from agentshell.core.state import state_to_plain
from agentshell.replay.cast import export_casts
from agentshell.replay.timeline import Timeline
from agentshell.terminal.emulator import Emulator

from .conftest import Recorded


def test_every_decision_replays_to_the_live_state_and_screen(recorded: Recorded) -> None:
    tl = Timeline(recorded.result.session_dir)
    decided = [m for m in recorded.moments if m.decision in ("approved", "rejected")]
    # the demo makes at least: the rule's approval, a rejection, two human approvals
    assert len(decided) >= 4
    assert {m.kind for m in tl.markers} >= {"approved", "rejected", "conflict"}
    assert [m.seq for m in tl.markers if m.kind != "conflict"] == [m.event_seq for m in decided]
    compared_screens = 0
    for moment in recorded.moments:
        state, screens = tl.seek(seq=moment.last_seq)
        assert state["last_seq"] == moment.last_seq
        assert state_to_plain(state) == moment.state, f"state differs at seq {moment.last_seq}"
        for name, live in moment.screens.items():
            if not moment.consistent[name]:
                continue  # live emulator mid-tick: its bytes and the log's differ here
            assert screens[name].display == live, f"screen {name} differs at {moment.last_seq}"
            compared_screens += 1
    assert compared_screens >= 3, "too few quiet moments to compare screens"


def test_seeking_backwards_and_forwards_gives_the_same_answers(recorded: Recorded) -> None:
    tl = Timeline(recorded.result.session_dir, checkpoint_every=7)
    fresh = Timeline(recorded.result.session_dir)
    n = len(tl)
    for pos in [n, 3, n // 2, 0, n - 1, 5, n // 2 + 1]:
        state, screens = tl.seek(pos)
        ref_state, ref_screens = Timeline(recorded.result.session_dir).seek(pos)
        assert state_to_plain(state) == state_to_plain(ref_state), pos
        assert {k: e.display for k, e in screens.items()} == {
            k: e.display for k, e in ref_screens.items()
        }
    # the store snapshot the demo left fits the log and is used for the end
    assert fresh.snapshot_positions == [n]
    assert fresh.seek(n)[0]["last_seq"] == fresh.seqs[n - 1]


def test_exported_cast_ends_on_the_live_screen(recorded: Recorded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert recorded.final_consistent
    tl = Timeline(recorded.result.session_dir)
    [path] = export_casts(tl, tmp_path / "demo.cast")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2 and header["width"] == 100 and header["height"] == 30
    assert isinstance(header["timestamp"], int) and header["title"]
    em = Emulator(header["width"], header["height"])
    kinds = set()
    last_t = 0.0
    for line in lines[1:]:
        t, kind, data = json.loads(line)
        assert t >= last_t
        last_t = t
        kinds.add(kind)
        if kind == "o":
            em.feed(data.encode("utf-8"))
    assert kinds >= {"o", "m"}
    assert em.display == recorded.final_screens["main"]
