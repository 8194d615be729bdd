"""Emulator.clone: a copy goes on exactly as the original would, and independently."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from agentshell.terminal import Emulator
from tests.terminal.test_fuzz import _PIECES

CAN = b"\x18"  # cancels a sequence in progress: the parser is at rest after it
#: The fuzz test's pieces plus what changes state held in place: tab stops set and
#: cleared, a saved cursor restored and then moved.
PIECES = [*_PIECES, b"\x1bH", b"\x1b[g", b"\x1b[3g", b"\x1b8\x1b[2;2H\x1b[1m", b"\x1b[?5h"]
garbage = st.lists(st.one_of(st.binary(max_size=20), st.sampled_from(PIECES)), max_size=40).map(
    b"".join
)


def state(e: Emulator) -> dict[str, Any]:
    """Everything a pane or a later byte can see of an emulator."""
    c = e.cursor
    return {
        "frame": [line.segments for line in e.frame(set(range(e.lines))).lines],
        "history": [line.segments for line in e.history],
        "cursor": (c.x, c.y, c.hidden, c.attrs),
        "mode": sorted(e.mode),
        "margins": e.margins,
        "tabstops": sorted(e.tabstops),
        "titles": (e.title, e.icon_name),
        "alt": e.alternate_screen,
        "saved": [(sp.cursor.x, sp.cursor.y, sp.cursor.attrs) for sp in e.savepoints],
        "charsets": (e.charset, e._g),
    }


def fed(chunks: list[bytes], columns: int = 12, lines: int = 4) -> Emulator:
    e = Emulator(columns, lines, scrollback=50)
    for chunk in chunks:
        e.feed(chunk)
    return e


@settings(max_examples=300, deadline=None)
@given(garbage, garbage, garbage, st.booleans())
def test_a_clone_goes_on_as_the_original_would(
    before: bytes, other: bytes, after: bytes, resize: bool
) -> None:
    original = fed([before])
    prefix = [before]
    if not original.at_rest:
        original.feed(CAN)
        prefix.append(CAN)
    assume(original.at_rest)
    copy = original.clone()
    # the original moves on first: nothing of that may reach the copy
    original.feed(other)
    original.resize(7, 6)
    original.feed(other)
    if resize:
        copy.resize(15, 3)
    copy.feed(after)
    reference = fed(prefix)
    if resize:
        reference.resize(15, 3)
    reference.feed(after)
    assert state(copy) == state(reference)
    # and the original went on as if no copy had been made
    alone = fed(prefix)
    alone.feed(other)
    alone.resize(7, 6)
    alone.feed(other)
    assert state(original) == state(alone)


def test_a_clone_of_a_clone_and_shared_scrollback_rows() -> None:
    start = [b"".join(b"line %d\r\n" % i for i in range(200)), b"\x1b7\x1b[2;3H\x1b[31mred"]
    original = fed(start, columns=20, lines=5)
    first = original.clone()
    second = first.clone()
    first.feed(b"\x1b8" + b"first\r\n" * 3)
    second.feed(b"\x1b[?1049h" + b"alt screen")
    original.feed(b"\x1b[3J\x1bc")  # the original clears its scrollback and screen
    assert state(first) == state(fed([*start, b"\x1b8" + b"first\r\n" * 3], 20, 5))
    assert state(second) == state(fed([*start, b"\x1b[?1049h" + b"alt screen"], 20, 5))
    assert len(first.history) == 50 and first.history[0].text.rstrip() == "line 149"
    assert original.display == [" " * 20] * 5 and len(original.history) == 0


@pytest.mark.parametrize(
    ("fast_path", "data", "end"),
    [(True, b"text\x1b#", b"8"), (False, b"text\x1b[", b"m"), (False, b"\x1b]0;a title", b"\x07")],
)
def test_no_clone_inside_an_escape_sequence(fast_path: bool, data: bytes, end: bytes) -> None:
    e = Emulator(10, 3, fast_path=fast_path)
    e.feed(data)
    assert not e.at_rest
    with pytest.raises(ValueError, match="escape sequence"):
        e.clone()
    e.feed(end)
    assert e.at_rest
    e.clone()


def test_an_unfinished_sequence_the_fast_path_holds_back_goes_with_the_clone() -> None:
    e = Emulator(10, 3)
    e.feed(b"ab\x1b[3")  # the fast path keeps "\x1b[3" for the next chunk
    assert e.at_rest
    copy = e.clone()
    copy.feed(b"1mred")
    reference = fed([b"ab\x1b[31mred"], 10, 3)
    assert state(copy) == state(reference)
    e = fed([b"ab", "\xe4".encode()[:1]], 10, 3)  # half a UTF-8 character: the decoder keeps it
    half = e.clone()
    half.feed("\xe4".encode()[1:])
    e.feed(b"?")
    assert half.display[0].rstrip() == "ab\xe4"
    assert e.display[0].rstrip() == "ab\ufffd?"


@pytest.mark.parametrize(
    ("before", "other", "after"),
    [
        # a saved cursor: the original restores it (its live cursor from then on) and
        # moves it; the copy restores its own saved position
        (b"\x1b[2;3H\x1b7\x1b[H", b"\x1b8\x1b[4;9Hx", b"\x1b8y"),
        # tab stops: the original sets one in place; the copy's stay as they were
        (b"", b"\x1b[3g\x1b[1;3H\x1bH", b"\tz"),
    ],
)
def test_state_changed_in_place_stays_with_its_owner(
    before: bytes, other: bytes, after: bytes
) -> None:
    original = fed([before], 20, 5)
    copy = original.clone()
    original.feed(other)
    copy.feed(after)
    assert state(copy) == state(fed([before, after], 20, 5))
