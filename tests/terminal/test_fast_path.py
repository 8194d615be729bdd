"""Differential test: the emulator's fast paths (regex tokenizer, bulk plain lines,
lazy scrollback) against pyte's plain parser driving the same Emulator class."""

from __future__ import annotations

import os
import random

import pytest

from agentshell.terminal import Emulator

_WORDS = ["INFO", "job", "ok", "x" * 12, " ", "  ", "a b", "123", "é", "中文", "-" * 30]
_SGRS = [
    "0",
    "",
    "1",
    "22",
    "31",
    "32;1",
    "33",
    "36",
    "39",
    "4",
    "24",
    "7",
    "27",
    "44",
    "49",
    "38;5;200",
    "48;5;17",
    "38;2;1;2;3",
    "1;3;4",
    "0;35",
]


_ENDINGS = ["", "", "", "\t", "\t\tab", " é", "中", "  ", "\x1b[0m  "]


def _piece(rnd: random.Random, columns: int, lines: int) -> str:
    r = rnd.random()
    if r < 0.35:
        return rnd.choice(_WORDS) * rnd.randint(1, 3)
    if r < 0.55:
        return f"\x1b[{rnd.choice(_SGRS)}m"
    if r < 0.75:
        return "\r\n"
    if r < 0.79:
        return "\r"
    if r < 0.83:
        return "\n"
    if r < 0.90:
        final = rnd.choice("ABCD")
        return f"\x1b[{rnd.choice(['', '1', '3', str(columns)])}{final}"
    if r < 0.94:
        return f"\x1b[{rnd.randint(1, lines)};{rnd.randint(1, columns + 2)}H"
    if r < 0.96:
        top = rnd.randint(1, lines)
        return rnd.choice(["\x1b[r", f"\x1b[{top};{rnd.randint(top, lines)}r"])
    if r < 0.98:
        return f"\x1b[{rnd.choice('012')}K"
    return "\t"


_PLAIN_ENDINGS = ["", "  ", "\x1b[0m  ", "\x1b[44m "]


def _log_lines(rnd: random.Random, count: int, endings: list[str] | None = None) -> str:
    """Coloured log lines; most blocks pure ASCII + SGR (the bulk paths' case)."""
    if endings is None:
        endings = _ENDINGS if rnd.random() < 0.3 else _PLAIN_ENDINGS
    out = []
    for i in range(count):
        out.append(
            f"\x1b[{rnd.choice(_SGRS)}m{rnd.choice(['INFO', 'WARN', ''])}\x1b[0m "
            f"{i:05d} \x1b[1mw{i % 8}\x1b[22m {'z' * rnd.randint(0, 30)}"
            f"{rnd.choice(endings)}\r\n"
        )
    return "".join(out)


def _state(emu: Emulator) -> tuple[object, ...]:
    return (
        emu.display,
        [emu.row_segments(y) for y in range(emu.lines)],
        (emu.cursor.x, emu.cursor.y, emu.cursor.attrs),
        emu.margins,
        [(line.text, line.segments) for line in emu.history],
    )


@pytest.mark.parametrize("seed", range(int(os.environ.get("FAST_PATH_SEEDS", "60"))))
def test_fast_path_equals_plain_pyte_parsing(seed: int) -> None:
    rnd = random.Random(seed)
    columns = rnd.choice([10, 23, 40, 80, 100, 132])
    lines = rnd.choice([1, 3, 8, 24])
    scrollback = rnd.choice([0, 5, 1000])
    text = ""
    for _ in range(rnd.randint(1, 6)):
        if rnd.random() < 0.5:
            text += _log_lines(rnd, rnd.randint(1, 600))
        else:
            text += "".join(_piece(rnd, columns, lines) for _ in range(rnd.randint(1, 300)))
    data = text.encode()

    reference = Emulator(columns, lines, scrollback, fast_path=False)
    reference.feed(data)
    for lazy in (False, True):
        emu = Emulator(columns, lines, scrollback, lazy_scrollback=lazy)
        pos = 0
        while pos < len(data):  # random chunks, including 4 KB and large ones
            size = rnd.choice([1, 7, 300, 4096, 70000])
            emu.feed(data[pos : pos + size])
            pos += size
        assert _state(emu) == _state(reference)


@pytest.mark.parametrize("chunk", [1, 300, 4096, 1 << 20])
@pytest.mark.parametrize(
    "edit",
    [
        "\x1b[2;30HXYZ",  # text past the end of a drawn line
        "\x1b[3;30H\u00e9\u0301",  # a combining character there
        "\x1b[4;1H\x1b[44m\x1b[K\x1b[0m",  # erase with a background colour
        "\x1b[5;1H\x1b[4@",  # insert characters
        "\x1b[6;1H\x1b[2P",  # delete characters
        "\x1b[7;1H\x1b[44m\x1b[50X\x1b[0m",  # erase characters
        "\x1b[8;1H\u4e2d\u6587",  # wide characters
        "\x1b[9;5H\u0301",  # a combining character on a drawn one
        "\x1b[2;1H",  # the next lines drawn over these rows
        "\x1b[2;1H\x1b[?7l" + "w" * 100 + "\x1b[?7h",  # no autowrap
    ],
)
def test_rows_written_after_bulk_drawing_keep_the_writes(chunk: int, edit: str) -> None:
    """Rows the bulk drawer made, written to later, scroll off with what was written."""
    rnd = random.Random(1)
    before = _log_lines(rnd, 300, _PLAIN_ENDINGS)
    data = (before + edit + "\r\n" + _log_lines(rnd, 300, _PLAIN_ENDINGS)).encode()
    reference = Emulator(80, 10, 1000, fast_path=False)
    reference.feed(data)
    for lazy in (False, True):
        emu = Emulator(80, 10, 1000, lazy_scrollback=lazy)
        for i in range(0, len(data), chunk):
            emu.feed(data[i : i + chunk])
        assert _state(emu) == _state(reference)
