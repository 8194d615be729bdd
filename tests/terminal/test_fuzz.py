"""Garbage never raises out of feed; chunking never changes the result."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agentshell.terminal import Emulator
from agentshell.terminal.marks import Mark, MarkScanner

_PIECES = [
    b"\x1b",
    b"\x1b[",
    b"\x1b]",
    b"\x1b[?1049h",
    b"\x1b[?1049l",
    b"\x1b[?47h",
    b"\x1b[2;5r",
    b"\x1b[r",
    b"\x1b[38;2;1;2;3m",
    b"\x1b[38:2::1:2:3m",
    b"\x1b[5;200H",
    b"\x1b[99999;99999H",
    b"\x1b[L",
    b"\x1b[M",
    b"\x1b[P",
    b"\x1b[@",
    b"\x1b[3J",
    b"\x1bM",
    b"\x1bD",
    b"\x1b7",
    b"\x1b8",
    b"\x1bc",
    b"\x1b(0",
    b"\x1b(B",
    b"\x1b#8",
    b"\x1b[6n",
    b"\x1b[>c",
    b"\x1b]0;t\x07",
    b"\x1b]133;D;1\x07",
    "中".encode(),
    "é".encode(),
    "\u0301".encode(),
    b"\xff\xfe",
    b"\r\n",
    b"\n",
    b"\t",
    b"\x08",
    b"\x00",
    b"\x9b",
    b"x" * 30,
]

garbage = st.lists(st.one_of(st.binary(max_size=40), st.sampled_from(_PIECES)), max_size=60).map(
    b"".join
)


@given(garbage, st.integers(1, 30), st.integers(1, 8))
def test_feed_never_raises(data: bytes, columns: int, lines: int) -> None:
    answers: list[bytes] = []
    e = Emulator(columns, lines, scrollback=20, write_process_input=answers.append)
    e.feed(data)
    e.resize(max(1, columns - 3), lines + 1)
    e.feed(data)
    assert len(e.display) == e.lines
    assert all(len(row) == e.columns for row in e.buffer)
    assert 0 <= e.cursor.y < e.lines and 0 <= e.cursor.x <= e.columns
    e.frame()
    list(e.history)


@given(garbage, st.lists(st.integers(1, 50), min_size=1, max_size=20))
def test_chunking_does_not_change_the_screen(data: bytes, cuts: list[int]) -> None:
    whole = Emulator(12, 4, scrollback=50)
    whole.feed(data)
    pieces = Emulator(12, 4, scrollback=50)
    pos = 0
    for n in cuts * 10:
        pieces.feed(data[pos : pos + n])
        pos += n
    pieces.feed(data[pos:])
    assert whole.display == pieces.display
    assert whole.history.text() == pieces.history.text()


@given(st.lists(st.integers(0, 200), max_size=10))
def test_mark_scanner_tolerates_any_split(cuts: list[int]) -> None:
    stream = (
        b"pre\x1b]133;A\x07$ \x1b]133;B\x07ls\r\n\x1b]133;C\x07out\x1b[31mred\x1b[0m\r\n"
        b"\x1b]133;D;7\x07\x1b]7;file://host/tmp/a%20b\x1b\\\x1b]0;title\x07end"
    )
    scanner = MarkScanner()
    items: list[bytes | Mark] = []
    pos = 0
    for c in sorted(set(cuts)):
        items += scanner.feed(stream[pos:c])
        pos = max(pos, c)
    items += scanner.feed(stream[pos:])
    marks = [i for i in items if isinstance(i, Mark)]
    assert marks == [
        Mark("A"),
        Mark("B"),
        Mark("C"),
        Mark("D", exit_code=7),
        Mark("cwd", path="/tmp/a b"),
    ]
    plain = b"".join(i for i in items if isinstance(i, bytes)) + scanner.flush()
    assert plain == b"pre$ ls\r\nout\x1b[31mred\x1b[0m\r\n\x1b]0;title\x07end"
