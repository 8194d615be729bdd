"""Frames as messages (agentshell.terminal.frame_wire): updates built from a real
emulator's frames rebuild the same screen, row for row and style for style, reuse
the rows that did not change, and a missed update is told apart."""

from __future__ import annotations

from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest

from agentshell.terminal.emulator import Emulator
from agentshell.terminal.frame_wire import (
    MAX_SCROLLED,
    FrameGap,
    Modes,
    Shown,
    apply_update,
    blank,
    encode_update,
)

CHUNKS = [
    b"\x1b[1;31mred\x1b[0m plain \x1b[4munder\x1b[0m\r\n",
    b"wide \xe4\xb8\xad\xe6\x96\x87 and e\xcc\x81\r\n",
    b"\x1b[5;10H\x1b[42mmoved\x1b[0m\x1b[K",
    b"\x1b[?1049h\x1b[2J\x1b[Halt screen\x1b[?1h",
    b"\x1b[?1049l\x1b[?1l back",
]


def wire(update: dict[str, Any]) -> dict[str, Any]:
    got: dict[str, Any] = msgpack.unpackb(msgpack.packb(update), raw=False)  # as it travels
    return got


def test_updates_rebuild_the_emulators_screen_and_share_unchanged_rows() -> None:
    em = Emulator(40, 8)
    shown = Shown(blank(40, 8))
    prev, n = None, 0
    for chunk in CHUNKS:
        em.feed(chunk)
        frame = em.frame(set(range(8)))
        modes = Modes(em.alternate_screen, em.application_cursor_keys, em.bracketed_paste)
        before = shown.frame.lines
        update = wire(encode_update("main", n + 1, frame, prev, n, modes=modes))
        apply_update(shown, update)
        assert shown.frame.lines == frame.lines  # text and style runs, row by row
        assert shown.frame.cursor == frame.cursor and shown.modes == modes
        if prev is not None:
            changed = {i for i, _ in update["lines"]}
            assert changed == {i for i in range(8) if frame.lines[i] is not prev.lines[i]}
            for i in range(8):
                if i not in changed:
                    assert shown.frame.lines[i] is before[i]  # the very same row object
        prev, n = frame, n + 1
    assert shown.modes == Modes(False, False, False)


def test_a_missed_update_is_a_gap_and_a_key_frame_mends_it() -> None:
    em = Emulator(20, 4)
    shown = Shown(blank(20, 4))
    em.feed(b"one\r\n")
    f1 = em.frame(set(range(4)))
    apply_update(shown, wire(encode_update("t", 1, f1, None, 0)))
    em.feed(b"two\r\n")
    f2 = em.frame(set(range(4)))
    em.feed(b"three\r\n")
    f3 = em.frame(set(range(4)))
    with pytest.raises(FrameGap):
        apply_update(shown, wire(encode_update("t", 3, f3, f2, 2)))  # 2 never came
    assert shown.n == 1 and shown.frame.display[0].rstrip() == "one"
    apply_update(shown, wire(encode_update("t", 3, f3, None, 0)))
    assert shown.n == 3 and shown.frame.lines == f3.lines


def test_scrolled_rows_extend_and_a_key_frames_replace_the_scrollback() -> None:
    em = Emulator(20, 3)
    shown = Shown(blank(20, 3))
    f0 = em.frame(set(range(3)))
    apply_update(shown, wire(encode_update("t", 1, f0, None, 0)))
    em.feed(b"".join(b"r%d\r\n" % i for i in range(6)))
    f1 = em.frame(set(range(3)))
    rows = [em.history[i] for i in range(len(em.history))]
    apply_update(shown, wire(encode_update("t", 2, f1, f0, 1, scrolled=rows)))
    assert [x.text.rstrip() for x in shown.history] == [x.text.rstrip() for x in rows]
    many = rows * (MAX_SCROLLED)  # more than an update carries: the newest only
    apply_update(shown, wire(encode_update("t", 3, f1, None, 0, scrolled=many)))
    assert len(shown.history) == MAX_SCROLLED
