"""Reading the last events of a log from its end (store.tail, framing.chain_start)."""

from __future__ import annotations

from pathlib import Path

from agentshell import SessionManager
from agentshell.core import events as ev
from agentshell.store.framing import chain_start, encode_record
from agentshell.store.session import read_events
from agentshell.store.tail import read_recent_events


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
