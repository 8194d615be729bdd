"""Fidelity on realistic output: the emulator fed as a PTY delivers (4 KB reads, and
reads cut inside escape sequences and UTF-8 characters) ends with the same screen,
cursor, cursor style and scrollback as stock pyte fed everything at once, cell by
cell, for every shape of benchmarks/terminal_corpus.py (see tests/terminal/reference.py
for what the comparison normalises)."""

from __future__ import annotations

import functools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentshell.terminal import Emulator, emulator
from agentshell.terminal.scrollback import LazyBlock
from benchmarks.terminal_corpus import CASES, COLUMNS, LINES, corpus, pty_bytes
from tests.terminal.reference import first_difference, reference, state

SIZE = 48_000


@functools.cache
def _data(case: str, size: int = SIZE) -> bytes:
    return pty_bytes(corpus(case, size))


@functools.cache
def _expected(case: str, size: int, end: int) -> dict[str, object]:
    return state(reference(_data(case, size)[:end], COLUMNS, LINES))


def _fed(data: bytes, cuts: list[int]) -> Emulator:
    emu = Emulator(COLUMNS, LINES)
    last = 0
    for cut in [*sorted(cuts), len(data)]:
        if cut > last:
            emu.feed(data[last:cut])
            last = cut
    return emu


def _check(case: str, size: int, end: int, cuts: list[int]) -> None:
    data = _data(case, size)[:end]
    got = state(_fed(data, [c for c in cuts if 0 < c < end]))
    diff = first_difference(got, _expected(case, size, end))
    assert not diff, f"{case}, {end} bytes, cut at {sorted(cuts)[:20]}...: {diff}"


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("read", [0, 65536], ids=["one-read", "64k-reads"])
def test_large_reads_match_pyte(case: str, read: int) -> None:
    """Large reads, as a terminal catching up on a backlog feeds them: the bulk and
    lazy scrollback paths (lines that scroll away are kept raw, emulated when read)."""
    data = _data(case, 2 * SIZE)
    _check(case, 2 * SIZE, len(data), list(range(read, len(data), read)) if read else [])


@pytest.mark.parametrize("case", list(CASES))
def test_feeds_stopped_at_deadlines_match_pyte(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed given a deadline that has passed does one step and holds the rest;
    going on with empty feeds until nothing is held gives pyte's result."""
    monkeypatch.setattr(emulator, "STEP_PLAIN", 8192)  # many steps per read
    monkeypatch.setattr(emulator, "STEP_OTHER", 2048)
    monkeypatch.setattr(emulator, "STEP_LAZY", 32768)
    data = _data(case, 2 * SIZE)
    emu = Emulator(COLUMNS, LINES)
    steps = 0
    for i in range(0, len(data), 65536):
        emu.feed(data[i : i + 65536], deadline=0.0)
        while emu.held:
            emu.feed(b"", deadline=0.0)
            steps += 1
    assert steps > 0, "no feed stopped at its deadline"
    diff = first_difference(state(emu), _expected(case, 2 * SIZE, len(data)))
    assert not diff, f"{case}: {diff}"


@pytest.mark.parametrize("case", list(CASES))
def test_4k_reads_match_pyte(case: str) -> None:
    data = _data(case)
    _check(case, SIZE, len(data), list(range(4096, len(data), 4096)))
    # and mid-way, where the screen is busy (inside the alternate screen, a redraw...)
    _check(case, SIZE, len(data) * 3 // 5, list(range(4096, len(data), 4096)))


def test_the_corpus_has_what_it_claims() -> None:
    """Each case holds the shape it is named after (else its comparison means little)."""
    text = {case: _data(case).decode() for case in CASES}
    assert "\r\r\n" in text["crcrlf"] and "\r\r\n" not in text["plain"]
    assert "\x1b[K" in text["testrunner"] and "\x1b[32m" in text["testrunner"]
    assert re.search(r"[^\n]\r[^\n]", text["progress"]) and "\x1b[K" in text["progress"]
    assert max(map(len, re.sub(r"\x1b\[[0-9;]*m", "", text["wrapping"]).split("\r\n"))) > COLUMNS
    assert "\t" in text["tabs"]
    assert "中" in text["cjk"] and "\u0301" in text["cjk"] and "🚀" in text["cjk"]
    for seq in (
        r"\x1b\[\d+;1H",
        r"\x1b\[K",
        r"\x1b\[J",
        r"\x1b\[\d+;\d+r",
        r"\x1b\[\dL",
        r"\x1b\[\dM",
    ):
        assert re.search(seq, text["fullscreen"]), seq
    assert "\x1b[?1049h" in text["altscreen"] and "\x1b[?1049l" in text["altscreen"]
    assert _data("mix") == _data("mix") and len(_data("mix")) >= SIZE
    emu = _fed(_data("plain"), [])
    assert len(emu.history) > 100  # the scrollback comparison has rows to compare
    # one large read takes the lazy scrollback path (rows kept raw until read)
    assert any(isinstance(row, LazyBlock) for row in emu.history._rows)


def _cut_points(data: bytes) -> st.SearchStrategy[list[int]]:
    """Cuts anywhere, and cuts just inside escape sequences and UTF-8 characters."""
    escapes = [m.start() for m in re.finditer(rb"\x1b", data)]
    multibyte = [i for i, b in enumerate(data) if b >= 0xC0]
    choices = [st.integers(0, len(data))]
    if escapes:
        choices.append(st.tuples(st.sampled_from(escapes), st.integers(1, 5)).map(sum))
    if multibyte:
        choices.append(st.tuples(st.sampled_from(multibyte), st.integers(1, 3)).map(sum))
    return st.lists(st.one_of(*choices), max_size=60)


SMALL = 16_000


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), case=st.sampled_from(list(CASES)))
def test_reads_cut_anywhere_match_pyte(data: st.DataObject, case: str) -> None:
    full = _data(case, SMALL)
    end = data.draw(st.sampled_from([len(full), len(full) // 2, len(full) // 3]))
    cuts = data.draw(_cut_points(full))
    _check(case, SMALL, end, cuts)
