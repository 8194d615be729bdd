"""Lines redrawn in place after CR (progress bars, counters, spinners), which the
line drawer shortens by skipping redraws that the next one writes over, against
pyte and against the same Emulator class parsing with pyte's parser
(``fast_path=False``)."""

from __future__ import annotations

import random

import pytest

from agentshell.terminal import Emulator
from tests.terminal.reference import first_difference, reference, state


def _exact(emu: Emulator) -> tuple[object, ...]:
    return (
        emu.display,
        [emu.row_segments(y) for y in range(emu.lines)],
        (emu.cursor.x, emu.cursor.y, emu.cursor.attrs),
        [(line.text, line.segments) for line in emu.history],
    )


def _check(data: bytes, columns: int, lines: int, read: int) -> None:
    emu = Emulator(columns, lines)
    for i in range(0, len(data), read):
        emu.feed(data[i : i + read])
    slow = Emulator(columns, lines, fast_path=False)
    slow.feed(data)
    assert _exact(emu) == _exact(slow), f"read {read}"
    diff = first_difference(state(emu), state(reference(data, columns, lines)))
    assert not diff, f"read {read}: {diff}"


@pytest.mark.parametrize("read", [7, 4096, 1 << 20])
def test_redraws_longer_than_the_row_wrap_each_time(read: int) -> None:
    """Each redraw longer than the row wraps and so moves the cursor a row down:
    none of them can be skipped (the rows they leave behind stay)."""
    data = ((("\r" + "x" * 15) * 5 + "\r\n") * 30).encode()
    _check(data, 10, 4, read)
    data = "".join(f"\r{'=' * k}>{k}" for k in range(0, 30, 3)).encode() + b"\r\n"
    _check(data * 20, 12, 5, read)


def _bar(rnd: random.Random, columns: int) -> str:
    steps = rnd.randint(3, 30)
    width = rnd.choice([5, columns // 2, columns - 8, columns + 5])
    parts = ["start\r\n"]
    for s in range(steps + 1):
        done = width * s // steps
        text = f"\r[{'#' * done}{'.' * (width - done)}] {s}/{steps}"
        r = rnd.random()
        if r < 0.2 and s:
            text = f"\x1b[{len(str(s)) + 1 + len(str(steps))}D{s}/{steps}"
        elif r < 0.35:
            text += "\x1b[K"
        elif r < 0.45:
            text += " " + "|/-\\"[s % 4] + "\b"
        elif r < 0.55:
            text = f"\r\x1b[3{s % 8}m{'█' * done}\x1b[0m {s}"
        elif r < 0.6:
            text = f"\r\x1b[44m{s}\x1b[K\x1b[0m"
        parts.append(text)
    parts.append("\r\x1b[Kdone\r\n")
    return "".join(parts)


@pytest.mark.parametrize("seed", range(16))
def test_progress_bars_match(seed: int) -> None:
    rnd = random.Random(seed)
    columns = rnd.choice([20, 40, 80])
    data = "".join(_bar(rnd, columns) for _ in range(40)).encode()
    for read in (5, 4096, len(data)):
        _check(data, columns, 6, read)


def _segment(rnd: random.Random, columns: int) -> str:
    """One redraw after a CR: text, SGR, moves back, erases, in any order."""
    out = []
    for _ in range(rnd.randint(0, 5)):
        r = rnd.random()
        if r < 0.45:
            length = rnd.choice([1, 3, columns // 2, columns - 1, columns, columns + 1])
            out.append(rnd.choice("ab=#█-") * length)
        elif r < 0.55:
            out.append(rnd.choice(["\x1b[31m", "\x1b[0m", "\x1b[44m", "\x1b[m"]))
        elif r < 0.65:
            out.append(f"\x1b[{rnd.choice(['', '0', '1', '2'])}K")
        elif r < 0.75:
            out.append(f"\x1b[{rnd.choice(['', '1', '4', str(columns + 3)])}D")
        elif r < 0.85:
            out.append("\b" * rnd.randint(1, 3))
        elif r < 0.9:
            out.append(f"\x1b[{rnd.randint(1, columns)}{rnd.choice('CG')}")
        elif r < 0.95:
            out.append(rnd.choice(["\t", "\x07", "中"]))
        else:
            out.append("\r")
    return "".join(out)


@pytest.mark.parametrize("seed", range(30))
def test_any_redraws_match(seed: int) -> None:
    """Redraws of every kind one after another on one line: the ones skipped must
    be those the next one sets the row over entirely."""
    rnd = random.Random(seed)
    columns = rnd.choice([8, 13, 30])
    lines = []
    for _ in range(60):
        lines.append("".join("\r" + _segment(rnd, columns) for _ in range(rnd.randint(1, 8))))
    data = ("\r\n".join(lines) + "\r\n").encode()
    for read in (5, 4096, len(data)):
        emu = Emulator(columns, 5)
        for i in range(0, len(data), read):
            emu.feed(data[i : i + read])
        slow = Emulator(columns, 5, fast_path=False)
        slow.feed(data)
        assert _exact(emu) == _exact(slow), f"read {read}"
