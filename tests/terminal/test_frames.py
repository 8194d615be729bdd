from __future__ import annotations

import dataclasses

import pytest

from agentshell.terminal import Emulator, Frame, Line


def test_new_frame_shares_unchanged_lines() -> None:
    e = Emulator(20, 5)
    e.feed(b"one\r\ntwo\r\nthree")
    f1 = e.frame()
    e.feed(b"\x1b[2;1HTWO")
    f2 = e.frame()
    assert f2.lines[1] is not f1.lines[1] and f2.lines[1].text.startswith("TWO")
    for i in (0, 2, 3, 4):
        assert f2.lines[i] is f1.lines[i]
    f3 = e.frame()  # nothing changed
    assert all(a is b for a, b in zip(f3.lines, f2.lines, strict=True))
    assert f1.lines[1].text.startswith("two")  # the old frame is untouched


def test_frame_is_immutable_and_carries_cursor_and_title() -> None:
    e = Emulator(10, 2)
    e.feed(b"\x1b]2;hello\x07ab\x1b[?25l")
    f = e.frame()
    assert isinstance(f, Frame) and f.title == "hello"
    assert f.cursor == (2, 0) and not f.cursor_visible
    assert (f.columns, f.rows) == (10, 2)
    assert isinstance(f.lines, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.title = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.lines[0].text = "x"  # type: ignore[misc]


def test_line_segments_cover_the_text() -> None:
    e = Emulator(8, 1)
    e.feed(b"a\x1b[1mbb\x1b[0mc")
    line = e.frame().lines[0]
    assert isinstance(line, Line)
    assert "".join(t for t, _ in line.segments) == line.text == "abbc    "
    assert [s.bold for _, s in line.segments] == [False, True, False]


def test_resize_rebuilds_the_frame() -> None:
    e = Emulator(8, 2)
    f1 = e.frame()
    e.resize(4, 3)
    f2 = e.frame()
    assert (f2.columns, f2.rows, len(f2.lines)) == (4, 3, 3)
    assert f1.rows == 2
