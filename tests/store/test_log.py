"""EventLog: recovery on open, group commit, async appends, buffered mode, fsync failure."""

from __future__ import annotations

import asyncio
import os
import struct
import threading
from pathlib import Path

import pytest

from agentshell.core.errors import LogClosedError, LogCorruptionError
from agentshell.store import log as log_mod
from agentshell.store.framing import BATCH_FLAG, pack_body, scan
from agentshell.store.log import EventLog, RecoveryReport, keep_and_cut, recover, recover_batches
from tests.polling import until
from tests.store.helpers import batched_log_bytes, log_bytes, record


def body(i: int) -> bytes:
    return pack_body(record(i))


def seqs(path: Path) -> list[int]:
    from agentshell.store.framing import iter_records

    return [r["s"] for r in iter_records(path.read_bytes(), str(path))]


def test_append_is_read_back_and_survives_reopen(tmp_path: Path) -> None:
    p = tmp_path / "events.log"
    with EventLog(p) as log:
        for i in range(1, 6):
            log.append(body(i))
        assert log.size == p.stat().st_size
    assert seqs(p) == [1, 2, 3, 4, 5]
    with EventLog(p) as log:
        assert log.report.records == 5 and log.report.cut_bytes == 0
        log.append(body(6))
    assert seqs(p) == [1, 2, 3, 4, 5, 6]


def test_torn_tail_is_cut_and_kept_then_appends_continue(tmp_path: Path) -> None:
    p = tmp_path / "events.log"
    data, _, offsets = log_bytes(5)
    p.write_bytes(data[: offsets[4] + 11])
    with EventLog(p) as log:
        assert log.report.records == 4 and log.report.cut_bytes == 11
        assert log.report.broken_path == tmp_path / "events.log.broken"
        assert (tmp_path / "events.log.broken").read_bytes() == data[offsets[4] : offsets[4] + 11]
        log.append(body(5))
        log.append(body(6))
    assert seqs(p) == [1, 2, 3, 4, 5, 6]
    # A second torn tail does not overwrite the first copy.
    with open(p, "ab") as f:
        f.write(b"\x00\x00\x01")
    EventLog(p).close()
    assert (tmp_path / "events.log.broken.1").read_bytes() == b"\x00\x00\x01"
    assert seqs(p) == [1, 2, 3, 4, 5, 6]


def test_zeroed_sector_at_the_end_then_append_more(tmp_path: Path) -> None:
    p = tmp_path / "events.log"
    data, _, _ = log_bytes(30)
    p.write_bytes(data + bytes(512))
    with EventLog(p) as log:
        assert log.report.cut_reason == "zero length"
        log.append(body(31))
    assert seqs(p) == list(range(1, 32))


def test_mid_file_corruption_is_reported_and_nothing_is_cut(tmp_path: Path) -> None:
    p = tmp_path / "events.log"
    data, _, offsets = log_bytes(40)
    bad = data[:2000] + bytes(512) + data[2512:]
    p.write_bytes(bad)
    with pytest.raises(LogCorruptionError) as err:
        EventLog(p)
    assert err.value.path == str(p)
    assert err.value.offset == max(o for o in offsets if o <= 2000)
    assert p.read_bytes() == bad  # untouched
    assert not (tmp_path / "events.log.broken").exists()
    # Repair = keep a copy and cut at the last good record; then appends go on.
    keep_and_cut(p, err.value.offset, ".corrupt")
    with EventLog(p) as log:
        n = log.report.records
        log.append(body(n + 1))
    assert seqs(p) == list(range(1, n + 2))


def test_concurrent_appends_share_fsyncs(tmp_path: Path) -> None:
    p = tmp_path / "events.log"
    threads, per = 16, 40
    log = EventLog(p)
    start = threading.Barrier(threads)

    def run(k: int) -> None:
        start.wait()
        for i in range(per):
            log.append(body(k * per + i + 1))

    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    fsyncs = log.fsyncs
    log.close()
    assert sorted(seqs(p)) == list(range(1, threads * per + 1))
    assert fsyncs < threads * per  # group commit: fewer fsyncs than appends


def test_every_append_is_durable_before_it_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fdatasync

    def spy(fd: int) -> None:
        real(fd)
        synced.append(os.fstat(fd).st_size)

    monkeypatch.setattr(log_mod.os, "fdatasync", spy)
    p = tmp_path / "events.log"
    with EventLog(p) as log:
        for i in range(1, 20):
            log.append(body(i))
            assert synced and synced[-1] == p.stat().st_size


async def test_async_append_does_not_block_the_loop(tmp_path: Path) -> None:
    p = tmp_path / "events.log"
    gate = threading.Event()
    real = os.fdatasync

    def slow(fd: int) -> None:
        gate.wait(10)
        real(fd)

    log = EventLog(p)
    try:
        log_mod.os.fdatasync = slow  # type: ignore[attr-defined]
        task = asyncio.ensure_future(
            asyncio.gather(*(log.append_async(body(i)) for i in range(1, 9)))
        )
        ticks = 0
        while ticks < 20:  # the loop keeps running while the writer is stuck in fsync
            await asyncio.sleep(0)
            ticks += 1
        assert not task.done()
        gate.set()
        await asyncio.wait_for(task, 10)
    finally:
        log_mod.os.fdatasync = real  # type: ignore[attr-defined]
        gate.set()
        log.close()
    assert sorted(seqs(p)) == list(range(1, 9))


def test_buffered_appends_and_flush(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = os.fdatasync
    monkeypatch.setattr(log_mod.os, "fdatasync", lambda fd: (calls.append(fd), real(fd))[1])
    p = tmp_path / "events.log"
    with EventLog(p) as log:
        for i in range(1, 501):
            log.append_buffered(body(i))
        log.flush()
        assert len(calls) <= 2
        assert seqs(p) == list(range(1, 501))


def test_fsync_failure_stops_the_log_and_is_never_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "events.log"
    log = EventLog(p)
    log.append(body(1))
    calls = []

    def failing(fd: int) -> None:
        calls.append(fd)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(log_mod.os, "fdatasync", failing)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            log.append(body(i))
        except BaseException as exc:
            errors.append(exc)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(2, 10)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(10)
    assert len(errors) == 8 and all(isinstance(e, LogClosedError) for e in errors)
    with pytest.raises(LogClosedError):
        log.append(body(11))
    with pytest.raises(LogClosedError):
        log.append_buffered(body(12))
    assert len(calls) == 1  # one failed fsync, no retry
    assert isinstance(log.failed, OSError)
    log.close()
    monkeypatch.undo()
    # Reopening recovers from what is in the file (no cut needed: writes were whole).
    with EventLog(p) as again:
        assert again.report.records >= 1


def test_a_durable_round_is_acknowledged_when_the_next_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer acknowledges a round after writing the next one: if that write
    fails, the earlier round's callers (fsync'd) still succeed, only the next fail."""
    p = tmp_path / "events.log"
    log = EventLog(p)
    gates = [threading.Event(), threading.Event()]
    real_sync, real_write = os.fdatasync, os.write
    syncs: list[int] = []

    def gated_sync(fd: int) -> None:
        n = len(syncs)
        syncs.append(fd)
        if n < len(gates):
            gates[n].wait(10)
        real_sync(fd)

    monkeypatch.setattr(log_mod.os, "fdatasync", gated_sync)
    results: dict[int, str] = {}

    def run(i: int) -> None:
        try:
            log.append(body(i))
            results[i] = "ok"
        except LogClosedError:
            results[i] = "failed"

    def start(*ids: int) -> list[threading.Thread]:
        ts = [threading.Thread(target=run, args=(i,)) for i in ids]
        for t in ts:
            t.start()
        return ts

    def queued(n: int) -> bool:
        return len(log._round.waiters) == n

    ts = start(1)  # leads round 1, held in its fsync
    asyncio.run(until(lambda: len(syncs) == 1, what="round 1 in fsync"))
    ts += start(2, 3)
    asyncio.run(until(lambda: queued(2), what="round 2 queued"))
    gates[0].set()  # round 2 goes to the writer thread, held in its fsync
    asyncio.run(until(lambda: len(syncs) == 2, what="round 2 in fsync"))
    ts += start(4, 5)
    asyncio.run(until(lambda: queued(2), what="round 3 queued"))

    def broken_write(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(log_mod.os, "write", broken_write)
    gates[1].set()
    for t in ts:
        t.join(10)
    assert results == {1: "ok", 2: "ok", 3: "ok", 4: "failed", 5: "failed"}
    assert isinstance(log.failed, OSError)
    log.close()
    monkeypatch.setattr(log_mod.os, "write", real_write)
    assert sorted(seqs(p)) == [1, 2, 3]


def test_closed_log_refuses_appends(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.log")
    log.close()
    log.close()
    with pytest.raises(LogClosedError):
        log.append(body(1))


def test_recover_creates_missing_log(tmp_path: Path) -> None:
    p = tmp_path / "sub" / "events.log"
    assert list(recover(p)) == []
    assert p.exists() and scan(p.read_bytes()).count == 0


def _frames(data: bytes) -> list[tuple[int, int, bool]]:
    """(offset, crc, is a batch) of each frame of ``data``."""
    out = []
    pos = 0
    while pos < len(data):
        length, crc = struct.unpack(">II", data[pos : pos + 8])
        out.append((pos, crc, bool(length & BATCH_FLAG)))
        pos += 8 + (length & ~BATCH_FLAG)
    assert pos == len(data)
    return out


def test_a_round_is_written_as_batch_frames(tmp_path: Path) -> None:
    p = tmp_path / "events.log"
    with EventLog(p) as log:
        log.append(body(1))  # alone: a record frame
        for i in range(2, 202):
            log.append_buffered(body(i))
        log.flush()  # one round: batch frames
        frames = _frames(p.read_bytes())
        assert log.size == p.stat().st_size
        assert log.last_frame == frames[-1][:2]
    assert not frames[0][2] and all(batch for _, _, batch in frames[1:])
    assert 1 < len(frames) < 10
    assert seqs(p) == list(range(1, 202))
    with EventLog(p) as again:  # recovery finds the same last frame
        assert again.last_frame == frames[-1][:2] and again.report.records == 201


def test_sync_async_and_buffered_appends_together(tmp_path: Path) -> None:
    """Callers that write rounds themselves and the writer thread share one log."""
    p = tmp_path / "events.log"
    log = EventLog(p)
    threads, per = 8, 60
    start = threading.Barrier(threads + 1)

    def run(k: int) -> None:
        start.wait()
        for i in range(per):
            n = 1000 + k * per + i
            if i % 5 == 0:
                log.append_buffered(body(n))
            else:
                log.append(body(n))

    async def loop_side() -> None:
        await asyncio.gather(*(log.append_async(body(i)) for i in range(1, 201)))

    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    start.wait()
    asyncio.run(loop_side())
    for t in ts:
        t.join()
    log.close()
    expected = set(range(1, 201)) | {1000 + j for j in range(threads * per)}
    got = seqs(p)
    assert len(got) == len(expected) and set(got) == expected


def test_close_while_threads_append(tmp_path: Path) -> None:
    p = tmp_path / "events.log"
    log = EventLog(p)
    acked: list[int] = []
    refused: list[int] = []

    def run(k: int) -> None:
        for i in range(10_000):
            n = k * 10_000 + i + 1
            try:
                log.append(body(n))
            except LogClosedError:
                refused.append(n)
                return
            acked.append(n)

    ts = [threading.Thread(target=run, args=(k,)) for k in range(6)]
    for t in ts:
        t.start()
    asyncio.run(until(lambda: len(acked) >= 300, what="appends under way"))
    log.close()
    for t in ts:
        t.join(10)
        assert not t.is_alive()
    assert len(refused) == 6
    assert set(acked) <= set(seqs(p))


def _recover_all(p: Path) -> tuple[list[dict], str | None, RecoveryReport]:
    report = RecoveryReport(p)
    got: list[dict] = []
    err = None
    try:
        for batch in recover_batches(p, report=report):
            got.extend(batch)
    except LogCorruptionError as exc:
        err = str(exc)
    return got, err, report


@pytest.mark.parametrize("window", [64, 700, 1 << 22])
def test_recovery_reads_in_windows_with_the_same_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    """Windowed recovery == one whole read: records, errors, cut, last frame."""
    v1, _, _ = log_bytes(30)
    v2, _, offsets2 = batched_log_bytes([4, 1, 9, 2, 7, 1, 3])
    cases = {
        "v1": v1,
        "v2": v2,
        "torn": v2[:-5],
        "torn v1 after v2": v2 + v1[:-9],
        "middle": v2[: offsets2[3] + 20] + b"\xff" * 30 + v2[offsets2[3] + 50 :],
        "zeroed tail": v2 + bytes(3000),
    }
    outcomes = {}
    for w in (window, 1 << 30):
        monkeypatch.setattr(log_mod, "READ_WINDOW", w)
        for name, data in cases.items():
            p = tmp_path / "events.log"  # the same name: messages compare equal
            p.write_bytes(data)
            for broken in tmp_path.glob("events.log.*"):
                broken.unlink()
            got, err, report = _recover_all(p)
            outcomes.setdefault(name, []).append(
                (got, err, report.records, report.end, report.cut_bytes, report.last_record)
            )
    for name, (windowed, whole) in outcomes.items():
        assert windowed == whole, name
    assert outcomes["middle"][0][1] is not None
    assert outcomes["torn"][0][4] == len(v2) - offsets2[-1] - 5  # the torn batch, whole


def test_windowed_recovery_keeps_bytes_a_fold_still_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fold keeps (seq, raw) for the last edits; the reused buffer must not
    change them under it."""
    from agentshell.core import events as ev
    from agentshell.core.state import apply_event, fold_batches, new_state, state_to_plain

    events: list[ev.Event] = [ev.AgentRegistered(agent_id="a", capabilities=["x"])]
    for i in range(3000):
        if i % 3 == 0:
            events.append(
                ev.FileEdited(
                    agent_id="a",
                    file_path=f"/f{i % 4}",
                    old_hash="o",
                    new_hash="n",
                    ranges=[[i, i]],
                )
            )
        else:
            events.append(ev.CommandExecuted(agent_id="a", command=f"c{i}", output="o" * (i % 50)))
    events = [e.with_seq(i + 1) for i, e in enumerate(events)]
    p = tmp_path / "events.log"
    with EventLog(p) as log:
        for e in events:
            log.append_buffered(pack_body(e.to_record()))
    expected = new_state("s")
    for e in events:
        apply_event(expected, e)
    monkeypatch.setattr(log_mod, "READ_WINDOW", 20_000)
    folded = new_state("s")
    fold_batches(folded, recover_batches(p))
    assert state_to_plain(folded) == state_to_plain(expected)
