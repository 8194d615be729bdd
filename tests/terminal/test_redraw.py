"""Cursor-addressed redraws (a move to column 1, text and SGR, erase to the end of
the line: what top, htop and TUI agents send per row), drawn as whole new rows,
against pyte and against the same Emulator class parsing with pyte's parser
(``fast_path=False``), with read boundaries at every byte around them."""

from __future__ import annotations

import random

import pytest

from agentshell.terminal import Emulator
from tests.terminal.reference import first_difference, reference, state

COLUMNS, LINES = 30, 8


def _exact(emu: Emulator) -> tuple[object, ...]:
    return (
        emu.display,
        [emu.row_segments(y) for y in range(emu.lines)],
        (emu.cursor.x, emu.cursor.y, emu.cursor.attrs),
        [(line.text, line.segments) for line in emu.history],
    )


def _fed(data: bytes, cuts: list[int], **kwargs: object) -> Emulator:
    emu = Emulator(COLUMNS, LINES, **kwargs)  # type: ignore[arg-type]
    last = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        if cut > last:
            emu.feed(data[last:cut])
            last = cut
    return emu


def _check(data: bytes, cuts: list[int], with_pyte: bool = True) -> None:
    got = _fed(data, cuts)
    assert _exact(got) == _exact(_fed(data, [], fast_path=False)), f"cuts {cuts[:20]}"
    if with_pyte:
        diff = first_difference(state(got), state(reference(data, COLUMNS, LINES)))
        assert not diff, f"cuts {cuts[:20]}: {diff}"


_SGRS = ["\x1b[31m", "\x1b[0m", "\x1b[1;44m", "\x1b[m", "\x1b[38;5;208m", "\x1b[4m", "\x1b[49m"]


def _row(rnd: random.Random) -> str:
    y = rnd.randint(1, LINES)
    head = rnd.choice([f"\x1b[{y};1H", f"\x1b[{y}H", f"\x1b[{y};H", "\r"])
    body = []
    for _ in range(rnd.randint(0, 5)):
        if rnd.random() < 0.4:
            body.append(rnd.choice(_SGRS))
        else:
            body.append("".join(rnd.choice("abc xyz0123") for _ in range(rnd.randint(0, 9))))
    end = rnd.choice(["\x1b[K", "\x1b[0K", "\x1b[K", "\x1b[2K", "\x1b[1K", "", "\r\n"])
    after = rnd.choice(["", "", "Z", "\x1b[32mtail"])  # drawn where the cursor was left
    return head + "".join(body) + end + after


def _screenful(rnd: random.Random, rows: int, wide: bool = False) -> str:
    out = ["\x1b[H\x1b[2J"]
    for _ in range(rows):
        r = rnd.random()
        if r < 0.8:
            out.append(_row(rnd))
        elif r < 0.85:
            if wide:
                out.append(f"\x1b[{rnd.randint(1, LINES)};{rnd.randint(1, 20)}H中文字")
        elif r < 0.9:
            out.append("\x1b[3;5r\x1b[5;1H\nscrolled\x1b[K\x1b[r")
        elif r < 0.95:
            out.append(
                f"\x1b[{rnd.randint(1, LINES)};1H" + "w" * rnd.randint(COLUMNS - 2, COLUMNS + 2)
            )
        else:
            out.append(rnd.choice(_SGRS))
    return "".join(out)


@pytest.mark.parametrize("seed", range(20))
def test_redraws_in_reads_of_any_size_match(seed: int) -> None:
    rnd = random.Random(seed)
    data = _screenful(rnd, 300).encode()
    for read in (1, 5, 64, 1000, len(data)):
        _check(data, list(range(read, len(data), read)))
    # rows redrawn over wide characters: pyte leaves the half of a wide character
    # that text overwrote the other half of; the emulator blanks it (as its
    # per-character path always has): compare with that only
    data = _screenful(rnd, 300, wide=True).encode()
    for read in (1, 5, 64, 1000, len(data)):
        _check(data, list(range(read, len(data), read)), with_pyte=False)


def test_every_cut_around_a_redrawn_row() -> None:
    rnd = random.Random(2)
    head = _screenful(rnd, 20)
    row = "\x1b[4;1Habc\x1b[1;44m def\x1b[0m gh\x1b[K"
    data = (head + row + _screenful(rnd, 10)).encode()
    start = len(head.encode())
    for cut in range(start - 2, start + len(row.encode()) + 2):
        _check(data, [cut])
        _check(data, [cut, cut + 7])


@pytest.mark.parametrize(
    "row",
    [
        "\x1b[2;1H" + "x" * (COLUMNS - 1) + "\x1b[K",  # one short of the row
        # the whole row: the erase takes the last column (as in xterm; pyte erases
        # nothing there: compared with the per-character path only)
        "\x1b[2;1H" + "x" * COLUMNS + "\x1b[K",
        "\x1b[2;1H" + "x" * (COLUMNS + 3) + "\x1b[K",  # wraps
        "\x1b[2;1H\x1b[44m\x1b[K",  # only an erase, in a background colour
        "\x1b[2;1Hé中\x1b[31mx\x1b[K",  # not ASCII
        "\x1b[2;1Hab\x1bcd\x1b[K",  # a stray ESC
        "\x1b[?6h\x1b[2;5r\x1b[2;1Habc\x1b[K\x1b[r\x1b[?6l",  # origin mode in a region
        "\x1b[4h\x1b[2;1Habc\x1b[K\x1b[4l",  # insert mode
    ],
)
def test_rows_the_redraw_path_must_leave_alone(row: str) -> None:
    before = "\x1b[2;3H中文中文\x1b[3;1Hold row\r\n"
    data = (before + row + "\x1b[3;1Hafter\x1b[K").encode()
    for cut in range(len(before), len(before.encode()) + len(row.encode()) + 1):
        pyte_agrees = "\x1b[4h" not in row and "中\x1b[31m" not in row and "x" * COLUMNS not in row
        _check(data, [cut], with_pyte=pyte_agrees)


@pytest.mark.parametrize(
    ("before", "odd"),
    [("", "\x1b[>4;2m"), ("", "\x1b[?1m"), ("", "\x1b[1 m"), ("", "\x1b[1$m"), ("\x1b(0", "")],
)
def test_sequences_ending_in_m_that_are_not_sgr(before: str, odd: str) -> None:
    """Not SGR (a private marker or an intermediate byte), or text in the
    line-drawing charset: the row is not redrawn whole. pyte's parser takes some of
    them for SGR and has no line drawing, so the reference here is the tokenizer a
    token at a time (reads of one byte)."""
    data = (
        f"\x1b[2;1Hold row\x1b[3;1Hxy{before}\x1b[2;1Hlqab{odd}cd\x1b[K\x1b(B\x1b[3;1Hafter\x1b[K"
    ).encode()
    one_by_one = _exact(_fed(data, list(range(len(data)))))
    for cut in range(len(data) + 1):
        assert _exact(_fed(data, [cut])) == one_by_one, cut


def test_the_cursor_stays_where_the_text_ended() -> None:
    rows = [f"\x1b[{1 + w % LINES};1H\x1b[33m{'x' * w}\x1b[44m\x1b[KZ" for w in range(COLUMNS)]
    data = "".join(rows).encode()
    for read in (1, 4096):
        _check(data, list(range(read, len(data), read)))


def test_a_redrawn_row_over_a_wide_character_and_the_scrollback() -> None:
    """The new row replaces one holding wide characters; later it scrolls off the
    main screen into the scrollback with its erased tail trimmed."""
    data = (
        "\x1b[1;1H"
        + "中" * (COLUMNS // 2)
        + "\x1b[1;1Hab\x1b[44mc\x1b[0m\x1b[K"
        + "\x1b[2;1Hxy\x1b[43m\x1b[K\x1b[0m"
        + f"\x1b[{LINES};1H"
        + "\r\n" * LINES
    ).encode()
    emu = _fed(data, [])
    assert [line.text for line in emu.history][:2] == ["abc", "xy" + " " * (COLUMNS - 2)]
    _check(data, [])
