"""Reading the last events of a log from its end (store.tail, framing.chain_start)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from agentshell import SessionManager
from agentshell.core import events as ev
from agentshell.store import framing
from agentshell.store.framing import (
    ScanResult,
    chain_start,
    encode_record,
    iter_records,
)
from agentshell.store.session import read_events
from agentshell.store.tail import SEEK_WINDOW, read_recent_events, records_after_seq, seek_seq


def make_session(tmp_path: Path, n: int = 400) -> Path:
    """A log mixing terminal output (most of it) with commands, in batch frames."""
    sm = SessionManager("s", tmp_path)
    sm.append(ev.TerminalOpened(terminal="main", cwd="/w"))
    for i in range(n):
        sm.append_buffered(ev.TerminalOutput(terminal="main", data=b"x" * (i % 300)))
        if i % 7 == 0:
            sm.append_buffered(ev.CommandExecuted(command=f"make {i}", exit_code=0))
        if i % 50 == 0:
            sm.flush()  # frames of several sizes: record frames and batch frames
    sm.close()
    return sm.log_path


def seqs(events: list[ev.Event]) -> list[int]:
    return [e.seq for e in events]


def is_command(rec: dict[str, object]) -> bool:
    return rec["t"] == "command_executed"


def test_last_events_match_a_full_read_whatever_the_window(tmp_path: Path) -> None:
    log = make_session(tmp_path)
    everything = list(read_events(log))
    for window in (64, 1000, 4096, 1 << 20):
        got = read_recent_events(log, 50, window=window)
        assert seqs(got) == seqs(everything[-50:]), window
        assert got == everything[-50:]


def test_kept_kinds_grow_the_window_until_enough(tmp_path: Path) -> None:
    log = make_session(tmp_path)
    commands = [e for e in read_events(log) if e.event_type == "command_executed"]
    got = read_recent_events(log, 30, is_command, window=512)
    assert got == commands[-30:]
    # fewer than asked for in the whole log: all of them
    assert read_recent_events(log, 10_000, is_command, window=512) == commands
    # a cap on how far back it reads: only what that part of the log holds
    capped = read_recent_events(log, 10_000, is_command, window=512, max_bytes=32768)
    assert capped and capped == commands[-len(capped) :] and len(capped) < len(commands)


def test_also_events_come_along_without_counting(tmp_path: Path) -> None:
    log = make_session(tmp_path)
    everything = list(read_events(log))
    got = read_recent_events(
        log, 5, is_command, also=lambda r: r["t"] == "terminal_output", window=256
    )
    commands = [e for e in got if e.event_type == "command_executed"]
    assert len(commands) == 5
    assert got == [e for e in everything if e.seq >= commands[0].seq]


def test_a_frame_still_being_written_ends_the_tail(tmp_path: Path) -> None:
    log = make_session(tmp_path)
    everything = list(read_events(log))
    whole = encode_record(ev.CommandExecuted(command="late", seq=10**6).to_record())
    with open(log, "ab") as f:
        f.write(whole[: len(whole) // 2])  # the writer's round, half written
    assert read_recent_events(log, 20, window=2048) == everything[-20:]


def test_frames_copied_into_a_record_are_not_taken_for_the_log(tmp_path: Path) -> None:
    # a log file shown in a terminal: its frames inside a terminal_output record's
    # data chain up to the real frame after it (data is the record's last field)
    copied = b"".join(
        encode_record(ev.CommandExecuted(command=f"old {i}", seq=i).to_record())
        for i in range(1, 6)
    )
    sm = SessionManager("s", tmp_path)
    for i in range(20):
        sm.append(ev.CommandExecuted(command=f"before {i}"))
    output = sm.append(ev.TerminalOutput(terminal="main", data=copied))
    for i in range(3):
        sm.append(ev.CommandExecuted(command=f"after {i}"))
    sm.close()
    log = sm.log_path
    size = log.stat().st_size
    data = log.read_bytes()
    at = data.index(copied)
    # the window starts inside the output record, before the copied frames
    got = read_recent_events(log, 10, window=size - at + 5, max_bytes=size - at + 5)
    assert [e.command for e in got if isinstance(e, ev.CommandExecuted)] == [  # type: ignore[attr-defined]
        "after 0",
        "after 1",
        "after 2",
    ]
    assert output.seq not in seqs(got)
    # the copied frames do chain to the end: only the sequence check rules them out
    assert chain_start(memoryview(data)[at - 5 :]) == 5


def test_no_frame_boundary_in_the_window_grows_it(tmp_path: Path) -> None:
    sm = SessionManager("s", tmp_path)
    sm.append(ev.CommandExecuted(command="first"))
    big = sm.append(ev.TerminalOutput(terminal="main", data=b"y" * 50_000))
    sm.close()
    got = read_recent_events(sm.log_path, 1, window=1000)
    assert seqs(got) == [big.seq]


# ------------------------------------------------------- events after a seq number


def frame_starts(data: bytes) -> list[int]:
    """Where each frame of a whole log starts."""
    return list(framing.frame_starts(data))


def test_events_after_any_seq_match_a_full_read(tmp_path: Path) -> None:
    log = make_session(tmp_path, n=1500)
    everything = list(read_events(log))
    last = everything[-1].seq
    anchor = frame_starts(log.read_bytes())[-1]
    for after in [1, 2, 57, last // 3, last // 2, last - 40, last - 1, last, last + 5]:
        for window in (64, 700, 4096, SEEK_WINDOW):
            result = ScanResult()
            got = list(records_after_seq(log, after, result, anchor=anchor, window=window))
            assert [r["s"] for r in got] == [e.seq for e in everything if e.seq > after]
            # well past the log's first half, read from near the first of them, not
            # from byte 0: the records read before it fit in a window and a batch frame
            skipped = result.count - len(got)
            assert after < last * 3 // 4 or skipped <= window // 20 + 40, (after, window, skipped)
        assert list(read_events(log, after)) == [e for e in everything if e.seq > after]
        assert list(read_events(log, after, anchor=anchor)) == list(read_events(log, after))


def test_the_seek_lands_near_the_wanted_record(tmp_path: Path) -> None:
    log = make_session(tmp_path, n=3000)
    data = log.read_bytes()
    size = len(data)
    frame_of: dict[int, int] = {}  # seq -> where its frame starts (batch frames hold several)
    starts = frame_starts(data)
    for a, b in itertools.pairwise([*starts, size]):
        for rec in iter_records(data[a:b], base=a):
            frame_of[rec["s"]] = a
    biggest = max(b - a for a, b in itertools.pairwise([*starts, size]))
    with open(log, "rb") as f:
        for seq in [5, 400, 1777, max(frame_of)]:
            at = seek_seq(f, size, str(log), seq, window=1024)
            assert at in starts  # a real frame boundary
            assert at <= frame_of[seq]  # at or before the record's own frame
            assert frame_of[seq] - at <= 1024 + biggest, (seq, at, frame_of[seq])


@pytest.mark.parametrize("after_copy", [0, 30])
def test_frames_copied_into_output_do_not_mislead_the_seek(tmp_path: Path, after_copy: int) -> None:
    # the log shown in one of its own terminals, again and again: copies of its real
    # frames (consecutive seqs, good checksums) inside terminal_output records, long
    # enough for a probe's window to start and end inside one. When the last record
    # is such a copy, from inside it frames chain and seqs run on to the very end
    # (only the anchor tells); else they chain on into the real frames after it
    # (only the jump in seqs tells).
    sm = SessionManager("s", tmp_path)
    for i in range(120 + after_copy):
        sm.append(ev.CommandExecuted(command=f"cmd {i}"))
        if i % 30 == 29 and i < 120:
            sm.append(ev.TerminalOutput(terminal="main", data=sm.log_path.read_bytes()))
    anchor = sm._log.last_frame[0]
    log = sm.log_path
    data = log.read_bytes()
    everything = list(read_events(log))
    fooled = 0
    for after in range(1, everything[-1].seq + 1, 3):
        for window in (256, 1024):
            got = [r["s"] for r in records_after_seq(log, after, anchor=anchor, window=window)]
            assert got == [e.seq for e in everything if e.seq > after], (after, window)
            with open(log, "rb") as f:
                at = seek_seq(f, len(data), str(log), after + 1, window)
            fooled += data.find(data[at : at + 64]) < at  # the bytes at `at` are a copy
        assert [e.seq for e in sm.iter_events(after)] == [e.seq for e in everything[after:]]
    sm.close()
    assert fooled  # the bisection did land in copies: the check after it was needed


def test_types_are_filtered_before_events_are_made(tmp_path: Path) -> None:
    log = make_session(tmp_path)
    everything = list(read_events(log))
    got = list(read_events(log, 10, types=("command_executed",)))
    assert got == [e for e in everything if e.seq > 10 and e.event_type == "command_executed"]
    assert got and all(isinstance(e, ev.CommandExecuted) for e in got)


def test_the_anchor_keeps_the_tail_out_of_a_copy_in_the_last_record(tmp_path: Path) -> None:
    sm = SessionManager("s", tmp_path)
    for i in range(200):
        sm.append_buffered(ev.CommandExecuted(command=f"cmd {i}"))
    sm.flush()
    last = sm.append(ev.TerminalOutput(terminal="main", data=sm.log_path.read_bytes()))
    anchor = sm.last_frame_at
    sm.close()
    everything = list(read_events(sm.log_path))
    assert everything[-1] == last
    # the window starts inside the copy: without the anchor its frames pass for the log
    fooled = read_recent_events(sm.log_path, 5, window=4096)
    assert last.seq not in seqs(fooled)
    got = read_recent_events(sm.log_path, 5, window=4096, anchor=anchor)
    assert got == everything[-5:]


def test_damage_after_the_start_reads_as_a_full_read_does(tmp_path: Path) -> None:
    from agentshell.core.errors import LogCorruptionError

    log = make_session(tmp_path, n=1500)
    data = bytearray(log.read_bytes())
    starts = frame_starts(bytes(data))
    anchor = starts[-1]
    bad = starts[len(starts) * 7 // 8]  # a frame well inside the part a seek would read
    data[bad + 12] ^= 0xFF
    log.write_bytes(bytes(data))
    after = 1400

    def read(**kw: object) -> tuple[list[int], str]:
        got: list[int] = []
        with pytest.raises(LogCorruptionError) as e:
            for rec in records_after_seq(log, after, **kw):  # type: ignore[arg-type]
                got.append(rec["s"])
        return got, str(e.value)

    assert read(anchor=anchor) == read()  # the check fell back to byte 0: same records, same error
