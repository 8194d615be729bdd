"""Frame codec and decoder: LevelDB/etcd-style cases and a fuzz of the decoder."""

from __future__ import annotations

import struct
import zlib

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentshell.core.errors import InvalidEventError, LogCorruptionError
from agentshell.store import framing
from agentshell.store.framing import (
    BATCH_FLAG,
    HEADER_SIZE,
    MAX_RECORD,
    ScanResult,
    batch_frame,
    encode_record,
    frame,
    frame_round,
    iter_records,
    pack_body,
    scan,
)
from tests.store.helpers import batched_log_bytes, log_bytes, record


def decode(data: bytes) -> tuple[list[dict], ScanResult]:
    res = ScanResult()
    return list(iter_records(data, "t.log", res)), res


def test_round_trip_and_header_layout() -> None:
    rec = record(1)
    f = encode_record(rec)
    length, crc = struct.unpack(">II", f[:8])
    assert length == len(f) - HEADER_SIZE
    assert crc == zlib.crc32(f[8:])
    assert msgpack.unpackb(f[8:], raw=False) == rec
    got, res = decode(f + encode_record(record(2)))
    assert [r["s"] for r in got] == [1, 2]
    assert res.end == len(f) + len(encode_record(record(2))) and res.tail_reason is None


def test_empty_input() -> None:
    got, res = decode(b"")
    assert got == [] and res.end == 0 and res.count == 0 and not res.torn


@pytest.mark.parametrize("cut", [1, 4, 7, 8, 9, 20])
def test_truncated_trailing_record_is_a_torn_tail(cut: int) -> None:
    data, recs, offsets = log_bytes(5)
    short = data[: offsets[4] + cut]
    got, res = decode(short)
    assert got == recs[:4]
    assert res.end == offsets[4] and res.count == 4 and res.torn


def test_bad_length_at_end_is_a_torn_tail() -> None:
    data, recs, offsets = log_bytes(3)
    bad = bytearray(data)
    bad[offsets[2] : offsets[2] + 4] = struct.pack(">I", MAX_RECORD + 1)
    got, res = decode(bytes(bad))
    assert got == recs[:2] and res.end == offsets[2]
    assert "over the" in (res.tail_reason or "")


def test_length_over_maximum_rejected_before_reading_body() -> None:
    # Only the header is present: the length alone decides.
    data = struct.pack(">II", MAX_RECORD + 1, 0)
    got, res = decode(data)
    assert got == [] and "over the" in (res.tail_reason or "")


def test_checksum_mismatch_at_end_is_torn_but_in_the_middle_is_corruption() -> None:
    data, recs, offsets = log_bytes(4)
    last = bytearray(data)
    last[-1] ^= 0x01
    got, res = decode(bytes(last))
    assert got == recs[:3] and res.tail_reason == "checksum mismatch"

    mid = bytearray(data)
    mid[offsets[1] + HEADER_SIZE + 3] ^= 0x40
    seen = []
    with pytest.raises(LogCorruptionError) as err:
        for r in iter_records(bytes(mid), "t.log"):
            seen.append(r)
    assert seen == recs[:1]
    assert err.value.offset == offsets[1]
    assert "checksum mismatch" in err.value.reason and "record #2" in err.value.reason
    assert "agentshell repair" in str(err.value)


def test_zeroed_sector_in_the_middle_is_corruption() -> None:
    data, _, offsets = log_bytes(60)
    start = 1024
    bad = data[:start] + bytes(512) + data[start + 512 :]
    with pytest.raises(LogCorruptionError) as err:
        scan(bad, "t.log")
    first_bad = max(o for o in offsets if o <= start)
    assert err.value.offset == first_bad


def test_zeroed_tail_is_torn() -> None:
    data, recs, _ = log_bytes(10)
    got, res = decode(data + bytes(4096))
    assert got == recs and res.torn and res.end == len(data)
    assert res.tail_reason == "zero length"


def test_not_a_log() -> None:
    with pytest.raises(LogCorruptionError) as err:
        scan(frame(msgpack.packb([1, 2])) + encode_record(record(1)), "t.log")
    assert "not a map" in err.value.reason
    with pytest.raises(LogCorruptionError) as err:
        scan(frame(msgpack.packb({"v": 99})), "t.log")
    assert "version 99" in err.value.reason


def test_base_offsets_and_numbers_are_file_positions() -> None:
    data, recs, offsets = log_bytes(4)
    res = ScanResult()
    got = list(iter_records(data[offsets[2] :], "t.log", res, base=offsets[2], first_number=3))
    assert got == recs[2:] and res.end == len(data) and res.count == 4
    assert res.last_record[0] == offsets[3]


def test_pack_body_refuses_unpackable_values() -> None:
    with pytest.raises(InvalidEventError):
        pack_body({"v": 1, "x": object()})
    with pytest.raises(InvalidEventError):
        pack_body({"v": 1, "x": 2**70})


N_FUZZ = 12
FUZZ_DATA, FUZZ_RECS, _ = log_bytes(N_FUZZ)


def _check_prefix(data: bytes) -> None:
    got: list[dict] = []
    try:
        for r in iter_records(data, "fuzz.log"):
            got.append(r)
    except LogCorruptionError:
        pass
    assert got == FUZZ_RECS[: len(got)]


@given(st.integers(0, len(FUZZ_DATA)))
def test_fuzz_truncation_yields_a_prefix(cut: int) -> None:
    got = list(iter_records(FUZZ_DATA[:cut], "fuzz.log"))  # truncation is never corruption
    assert got == FUZZ_RECS[: len(got)]


@given(
    st.lists(st.tuples(st.integers(0, len(FUZZ_DATA) * 8 - 1)), min_size=1, max_size=4),
    st.integers(0, len(FUZZ_DATA)),
)
def test_fuzz_bit_flips_yield_a_prefix_or_corruption(flips: list[tuple[int]], cut: int) -> None:
    bad = bytearray(FUZZ_DATA)
    for (bit,) in flips:
        bad[bit // 8] ^= 1 << (bit % 8)
    _check_prefix(bytes(bad))
    _check_prefix(bytes(bad[:cut]))


@given(st.binary(max_size=300), st.integers(0, len(FUZZ_DATA)))
def test_fuzz_garbage_spliced_in_yields_a_prefix_or_corruption(junk: bytes, at: int) -> None:
    _check_prefix(FUZZ_DATA[:at] + junk + FUZZ_DATA[at:])


# ------------------------------------------ batched reader == exact reader


def _read_both(data: bytes, **kw: int) -> None:
    """iter_record_batches gives the same records, error and result as iter_records."""
    outcomes = []
    for reader in (iter_records, framing.iter_record_batches):
        res = ScanResult()
        got: list[dict] = []
        err = None
        try:
            for item in reader(data, "t.log", res, **kw):
                got.extend(item if reader is framing.iter_record_batches else [item])
        except LogCorruptionError as exc:
            err = str(exc)
        outcomes.append((got, err, res))
    assert outcomes[0] == outcomes[1]


def _odd_frames() -> list[bytes]:
    """Frames with an intact CRC around bodies a correct writer never makes."""
    one = pack_body(record(50))
    return [
        frame(one + pack_body(record(51))),  # two records in one frame
        frame(one[:-3]),  # a record cut short
        frame(msgpack.packb([1, 2])),  # not a map
        frame(msgpack.packb({"v": 99, "t": "x"})),  # another format version
        frame(msgpack.packb({"t": "x"})),  # no version
        frame(b"\xc1"),  # not msgpack
    ]


@pytest.mark.parametrize("batch", [16, 200, 1 << 14])
def test_batched_reader_equals_exact_reader(monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    monkeypatch.setattr(framing, "BATCH_BYTES", batch)
    data = FUZZ_DATA
    _read_both(data)
    for cut in range(0, len(data), 7):
        _read_both(data[:cut])
    for i in range(0, len(data) * 8, 13):
        bad = bytearray(data)
        bad[i // 8] ^= 1 << (i % 8)
        _read_both(bytes(bad))
    for odd in _odd_frames():
        for at in (0, len(data) // 2, len(data)):
            # at a frame boundary: find the nearest one at or after ``at``
            pos = 0
            while pos < at:
                pos += HEADER_SIZE + struct.unpack(">I", data[pos : pos + 4])[0]
            _read_both(data[:pos] + odd + data[pos:])
    _read_both(data[40:], base=40, first_number=2)


@given(st.binary(max_size=300))
def test_batched_reader_equals_exact_reader_on_noise(noise: bytes) -> None:
    _read_both(FUZZ_DATA[:100] + noise)
    _read_both(noise)


# ------------------------------------------------------- batch frames (format 2)

BATCH_GROUPS = [3, 1, 5, 2, 1]
BATCH_DATA, BATCH_RECS, BATCH_OFFSETS = batched_log_bytes(BATCH_GROUPS)


def test_a_round_is_one_batch_frame_and_one_record_a_record_frame() -> None:
    recs = [record(i) for i in (1, 2, 3)]
    bodies = [pack_body(r) for r in recs]
    parts, last, crc = frame_round(bodies)
    data = b"".join(parts)
    length, got_crc = struct.unpack(">II", data[:8])
    assert length == BATCH_FLAG | (len(data) - HEADER_SIZE) and last == 0
    assert got_crc == crc == zlib.crc32(b"".join(bodies))
    assert decode(data)[0] == recs
    single, last, crc = frame_round(bodies[:1])
    assert b"".join(single) == frame(bodies[0]) and last == 0 and crc == zlib.crc32(bodies[0])


def test_a_big_round_is_cut_into_frames_of_at_most_max_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bodies = [pack_body(record(i)) for i in range(1, 41)]
    monkeypatch.setattr(framing, "MAX_BATCH", 3 * len(bodies[0]) + 10)
    parts, last, crc = frame_round(bodies)
    headers = [struct.unpack(">II", h) for h in parts[::2]]
    assert len(headers) == 14  # 13 frames of 3 records, one record frame of 1
    assert all(n & BATCH_FLAG for n, _ in headers[:-1]) and not headers[-1][0] & BATCH_FLAG
    assert last == len(b"".join(parts)) - len(parts[-1]) - HEADER_SIZE and crc == headers[-1][1]
    assert [r["s"] for r in decode(b"".join(parts))[0]] == list(range(1, 41))


def test_batch_frames_mixed_with_record_frames() -> None:
    got, res = decode(BATCH_DATA)
    assert got == BATCH_RECS and res.count == len(BATCH_RECS) and not res.torn
    assert res.end == len(BATCH_DATA)
    assert res.last_record[0] == BATCH_OFFSETS[-1]
    # one per batch frame, one per record frame
    assert len(BATCH_OFFSETS) == len(BATCH_GROUPS)


@pytest.mark.parametrize("cut", [1, 8, 9, 40, -1])
def test_a_torn_batch_is_cut_whole(cut: int) -> None:
    """A batch is acknowledged as a unit: a torn one loses only its own records."""
    third = BATCH_OFFSETS[2]  # the batch of records 5..9 (the rest follows it)
    data = BATCH_DATA[: BATCH_OFFSETS[3]]
    short = data[: third + cut] if cut > 0 else data[:cut]
    got, res = decode(short)
    assert got == BATCH_RECS[:4] and res.count == 4 and res.end == third and res.torn


def test_corruption_inside_a_batch_in_the_middle_names_frame_and_record() -> None:
    bad = bytearray(BATCH_DATA)
    bad[BATCH_OFFSETS[2] + HEADER_SIZE + 30] ^= 0x08
    for reader in (iter_records, framing.iter_record_batches):
        seen: list[dict] = []
        with pytest.raises(LogCorruptionError) as err:
            for item in reader(bytes(bad), "t.log"):
                seen.extend(item if isinstance(item, list) else [item])
        assert seen == BATCH_RECS[:4]
        assert err.value.offset == BATCH_OFFSETS[2]
        assert "checksum mismatch" in err.value.reason and "record #5" in err.value.reason


def _odd_batches() -> list[bytes]:
    """Batch frames with an intact CRC around payloads a correct writer never makes."""
    one = pack_body(record(50))
    two = pack_body(record(51))
    return [
        batch_frame(one + two[:-3]),  # ends inside a record
        batch_frame(one + msgpack.packb([1, 2])),  # not a map
        batch_frame(msgpack.packb({"v": 99, "t": "x"}) + one),  # another format version
        batch_frame(one + b"\xc1"),  # not msgpack
    ]


def test_odd_batch_frames_are_corruption_with_record_numbers() -> None:
    # the batch goes in after record #3: the first of its records is #4
    names = ["batch frame starting with record #4", "record #5", "record #4", "record #4"]
    for odd, name in zip(_odd_batches(), names, strict=True):
        with pytest.raises(LogCorruptionError) as err:
            scan(BATCH_DATA[: BATCH_OFFSETS[1]] + odd + BATCH_DATA[BATCH_OFFSETS[1] :], "t.log")
        assert err.value.offset == BATCH_OFFSETS[1] and name in err.value.reason


def _check_batch_prefix(data: bytes) -> None:
    got: list[dict] = []
    try:
        for r in iter_records(data, "fuzz.log"):
            got.append(r)
    except LogCorruptionError:
        pass
    assert got == BATCH_RECS[: len(got)]
    # whole batches only: the prefix ends at a frame boundary
    ends = [sum(BATCH_GROUPS[: k + 1]) for k in range(len(BATCH_GROUPS))]
    assert len(got) in (0, *ends)


@given(st.integers(0, len(BATCH_DATA)))
def test_fuzz_truncated_batches_yield_whole_batches(cut: int) -> None:
    got = list(iter_records(BATCH_DATA[:cut], "fuzz.log"))
    assert got == BATCH_RECS[: len(got)]
    _check_batch_prefix(BATCH_DATA[:cut])


@given(
    st.lists(st.tuples(st.integers(0, len(BATCH_DATA) * 8 - 1)), min_size=1, max_size=4),
    st.integers(0, len(BATCH_DATA)),
)
def test_fuzz_bit_flips_in_batches_yield_a_prefix_or_corruption(
    flips: list[tuple[int]], cut: int
) -> None:
    bad = bytearray(BATCH_DATA)
    for (bit,) in flips:
        bad[bit // 8] ^= 1 << (bit % 8)
    _check_batch_prefix(bytes(bad))
    _check_batch_prefix(bytes(bad[:cut]))


@given(st.binary(max_size=300), st.integers(0, len(BATCH_DATA)))
def test_fuzz_garbage_in_batches_yields_a_prefix_or_corruption(junk: bytes, at: int) -> None:
    _check_batch_prefix(BATCH_DATA[:at] + junk + BATCH_DATA[at:])


@pytest.mark.parametrize("batch", [16, 200, 1 << 14])
def test_batched_reader_equals_exact_reader_on_batch_frames(
    monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(framing, "BATCH_BYTES", batch)
    data = BATCH_DATA
    _read_both(data)
    for cut in range(0, len(data), 5):
        _read_both(data[:cut])
    for i in range(0, len(data) * 8, 11):
        bad = bytearray(data)
        bad[i // 8] ^= 1 << (i % 8)
        _read_both(bytes(bad))
    for odd in [*_odd_frames(), *_odd_batches()]:
        for at in BATCH_OFFSETS:
            _read_both(data[:at] + odd + data[at:])
    _read_both(data[BATCH_OFFSETS[2] :], base=BATCH_OFFSETS[2], first_number=5)
