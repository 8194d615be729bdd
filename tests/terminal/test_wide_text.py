"""Plain lines holding wide characters and marks of no width, drawn in bulk (the
lines of one read made into cells together), against pyte and against the same
Emulator class parsing with pyte's parser (``fast_path=False``, which draws a
character at a time).

Every read boundary near a wide character, a mark and an SGR sequence is tried:
the bulk path starts and ends at read boundaries, so each cut puts a different
piece (half a UTF-8 character, half an escape sequence, a mark without the
character it joins) at its edge."""

from __future__ import annotations

import random
import re

import pytest

from agentshell.terminal import Emulator
from tests.terminal.reference import first_difference, reference, state

COLUMNS, LINES = 40, 6


def _lines(rnd: random.Random, count: int, pieces: list[str]) -> str:
    out = []
    for _ in range(count):
        out.append("".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8))) + "\r\n")
    return "".join(out)


_PIECES = [
    "中文",
    "日本語",
    "한국어",
    "😀",
    "🚀 ",
    "e\u0301",
    "a\u0308o\u0302",
    "word ",
    " ",
    "─│┌",
    "\x1b[31m",
    "\x1b[1;32m",
    "\x1b[0m",
    "\x1b[38;5;208m",
    "\x1b[44m",
    "\x1b[m",
]


def _fed(data: bytes, cuts: list[int], **kwargs: object) -> Emulator:
    emu = Emulator(COLUMNS, LINES, **kwargs)  # type: ignore[arg-type]
    last = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        if cut > last:
            emu.feed(data[last:cut])
            last = cut
    return emu


def _exact(emu: Emulator) -> tuple[object, ...]:
    return (
        emu.display,
        [emu.row_segments(y) for y in range(emu.lines)],
        (emu.cursor.x, emu.cursor.y, emu.cursor.attrs),
        [(line.text, line.segments) for line in emu.history],
    )


def _check(data: bytes, cuts: list[int], with_pyte: bool = True) -> None:
    got = _fed(data, cuts)
    slow = _fed(data, [], fast_path=False)
    assert _exact(got) == _exact(slow), f"cuts {cuts[:20]}"
    if with_pyte:
        diff = first_difference(state(got), state(reference(data, COLUMNS, LINES)))
        assert not diff, f"cuts {cuts[:20]}: {diff}"


@pytest.mark.parametrize("seed", range(12))
def test_wide_lines_in_reads_of_any_size_match(seed: int) -> None:
    rnd = random.Random(seed)
    data = _lines(rnd, 80, _PIECES).encode()
    for read in (1, 3, 64, 700, 4096, len(data)):
        _check(data, list(range(read, len(data), read)))


def test_every_cut_around_wide_characters_marks_and_escapes() -> None:
    """A read boundary at every byte of the first few wide characters, marks and
    SGR sequences after a screenful of lines (where the bulk path is running)."""
    rnd = random.Random(5)
    head = _lines(rnd, 12, _PIECES)
    tail = "前\x1b[33m后e\u0301\u0302x 😀\x1b[0m 中\r\n" + _lines(rnd, 20, _PIECES)
    data = (head + tail).encode()
    start = len(head.encode())
    for cut in range(start - 4, start + len(tail[:20].encode()) + 1):
        _check(data, [cut])
        _check(data, [cut - 2000, cut])  # with a large read before it


def test_lines_that_exactly_fill_the_row_or_wrap() -> None:
    exact = "中" * (COLUMNS // 2)  # a wide character in the last two columns
    over = "a" + "中" * (COLUMNS // 2)  # the last one wraps whole
    marks = "e\u0301" * (COLUMNS - 1)  # COLUMNS - 1 cells of twice as many characters
    lines = [exact, marks, "\x1b[32m" + exact + "\x1b[0m", "x" * (COLUMNS - 1)]
    data = "".join(line + "\r\n" for line in lines * 6).encode()
    for read in (5, 4096, len(data)):
        _check(data, list(range(read, len(data), read)))
    # pyte draws a wide character that does not fit half off the row, and wraps when
    # a mark comes after the last column is written; the emulator wraps the one whole
    # and joins the other to the last cell (as its per-character path always has):
    # compare with that only
    lines += [over, "x" * (COLUMNS - 1) + "中", "e\u0301" * COLUMNS]
    data = "".join(line + "\r\n" for line in lines * 6).encode()
    for read in (5, 4096, len(data)):
        _check(data, list(range(read, len(data), read)), with_pyte=False)


def test_marks_at_the_edges_join_what_was_drawn_before() -> None:
    """A mark at the start of a line, after an SGR sequence, or at the start of a
    read joins a cell drawn before (or nothing): the bulk path leaves those to the
    per-line drawer. A mark on a wide character joins its first cell."""
    rnd = random.Random(9)
    text = _lines(rnd, 10, [*_PIECES, "中\u0301", "😀\u0308\u0301"])
    text += "ab\x1b[31m\u0301cd\r\n\u0301start\r\n中\x1b[0m\u0308 end\r\n"
    text += "base" + "\u0301" * 3 + "\r\n" + _lines(rnd, 10, _PIECES)
    data = text.encode()
    # pyte joins a mark at column 0 to the end of the row above and a mark on a wide
    # character to its right half; the emulator drops the one and joins the other to
    # the first half (as its per-character path always has): compare with that only
    _check(data, [], with_pyte=False)
    base = data.index(b"base") + 4
    for cut in range(base - 3, base + 8):
        _check(data, [cut], with_pyte=False)


def test_marks_met_first_inside_a_bulk_read() -> None:
    """Marks the emulator has never measured (other than the combining diacritics it
    knows from the start) still join their character when they first come in a
    long read of lines."""
    rnd = random.Random(3)
    fresh = ["\u20d0", "\u0e31", "\u0610", "\ufe20", "\U0001d167"]
    pieces = [*_PIECES, *(f"x{m}" for m in fresh), *(f"中{m}" for m in fresh)]
    data = _lines(rnd, 120, pieces).encode()
    got = _fed(data, [])
    assert _exact(got) == _exact(_fed(data, [], fast_path=False))
    marked = [c for line in got.history for text, _ in line.segments for c in text]
    assert set(fresh) <= set(marked), "the corpus should hold every new mark"


def test_the_bulk_path_takes_wide_lines() -> None:
    """The lines above go through the bulk drawer (else the checks above compare
    the per-line drawer with itself)."""
    emu = Emulator(COLUMNS, LINES)
    calls = []
    real = emu._text_cells

    def spy(region: str) -> object:
        got = real(region)
        calls.append(got is not None)
        return got

    emu._text_cells = spy  # type: ignore[method-assign]
    rnd = random.Random(1)
    emu.feed(_lines(rnd, 200, [p for p in _PIECES if not re.match(r"\x1b|e\u0301", p)]).encode())
    assert calls and all(calls)
