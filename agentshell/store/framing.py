"""Frames of the event log: ``u32 length | u32 crc32 | payload`` (see docs/log_format.md).

Both integers are big-endian; the CRC-32 (zlib polynomial) covers the payload only.
The top bit of the length field tells the two kinds of frame apart:

* a **record frame** (top bit 0, format 1): the payload is one event record, a
  msgpack map carrying ``"v"``, the record format version;
* a **batch frame** (top bit 1, format 2): the payload is several such records back to
  back. The group-commit writer writes one batch frame per written round, so a
  reader checks one CRC per round and decodes the payload with one streaming
  unpacker. A batch is written and acknowledged as a unit.

Logs written before batch frames existed hold only record frames and read as before;
a log may mix both kinds.

Decoding walks the frames from the start of the file. The first frame that is not
whole and intact ends the good prefix. What follows decides what it means:

* nothing intact follows (no valid frame starts anywhere after it): a **torn tail**,
  the unfinished last write of a crashed process. The reader stops there and reports
  the tail (offset and reason); the log cuts it on open.
* an intact frame follows somewhere after it: **mid-file corruption**, reported as
  :class:`LogCorruptionError` with the offset of the bad frame and what is wrong.
  Good records after the damage are never dropped silently.

Offsets in results and errors are frame offsets; record numbers count records (a
batch frame holds several).
"""

from __future__ import annotations

import operator
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgpack  # type: ignore[import-untyped]

from agentshell.core.errors import InvalidEventError, LogCorruptionError
from agentshell.core.events import FORMAT_VERSION

HEADER = struct.Struct(">II")
HEADER_SIZE = HEADER.size
#: Largest payload accepted; a length field above it is rejected before reading it.
MAX_RECORD = 16 * 1024 * 1024
#: Top bit of the length field: the frame is a batch of records.
BATCH_FLAG = 0x80000000
#: A batch frame the writer makes holds at most this many payload bytes (a round
#: with more is written as several frames, still with one write and one fdatasync).
MAX_BATCH = 1 << 14
#: :func:`iter_records` reports its progress every this many bytes (when asked to).
PROGRESS_STEP = 8 << 20

_crc32 = zlib.crc32
_pack_header = HEADER.pack


def new_packer() -> Any:
    """A reusable msgpack packer for :func:`pack_body` (not thread-safe: one per lock)."""
    return msgpack.Packer(use_bin_type=True)


def pack_body(record: dict[str, Any], packer: Any = None) -> bytes:
    """msgpack bytes of ``record``; values msgpack cannot store raise InvalidEventError.

    ``packer`` (from :func:`new_packer`) saves making one per call on a hot path.
    """
    try:
        if packer is not None:
            body: bytes = packer.pack(record)
        else:
            body = msgpack.packb(record, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidEventError(f"event cannot be stored as msgpack: {exc}") from exc
    if len(body) > MAX_RECORD:
        raise InvalidEventError(f"event is {len(body)} bytes, over the {MAX_RECORD} byte limit")
    return body


def frame(body: bytes) -> bytes:
    """The record frame holding ``body`` (header + body)."""
    return _pack_header(len(body), _crc32(body)) + body


def batch_frame(payload: bytes) -> bytes:
    """The batch frame holding ``payload`` (the bodies of several records, joined)."""
    return _pack_header(len(payload) | BATCH_FLAG, _crc32(payload)) + payload


def frame_round(bodies: list[bytes]) -> tuple[list[bytes], int, int]:
    """The frames of one written round of record bodies, in order.

    One record makes a record frame; more make batch frames of at most
    :data:`MAX_BATCH` payload bytes each. Returns the pieces to write (headers and
    payloads), the offset of the last frame relative to the start of the round and
    that frame's CRC.
    """
    if len(bodies) == 1:
        body = bodies[0]
        crc = _crc32(body)
        return [_pack_header(len(body), crc), body], 0, crc
    out: list[bytes] = []
    pos = last = crc = 0
    group: list[bytes] = []
    size = 0
    for body in [*bodies, b""]:
        if group and (not body or size + len(body) > MAX_BATCH):
            payload = group[0] if len(group) == 1 else b"".join(group)
            crc = _crc32(payload)
            flag = BATCH_FLAG if len(group) > 1 else 0
            out.append(_pack_header(len(payload) | flag, crc))
            out.append(payload)
            last = pos
            pos += HEADER_SIZE + len(payload)
            group = []
            size = 0
        if body:
            group.append(body)
            size += len(body)
    return out, last, crc


def encode_record(record: dict[str, Any]) -> bytes:
    """``frame(pack_body(record))``."""
    return frame(pack_body(record))


@dataclass
class ScanResult:
    """Where a decode stopped. Filled in when the record iterator is exhausted.

    ``end`` is the file offset just past the last good frame, ``count`` the number
    of good records (counting from the first record of the file), ``tail_reason``
    why decoding stopped before the end of the data (None when the data ended
    exactly after a frame): what was wrong at ``end``.
    """

    end: int = 0
    count: int = 0
    tail_reason: str | None = None
    data_size: int = 0
    #: (file offset, crc32) of the last good frame; (0, 0) when there is none.
    last_record: tuple[int, int] = (0, 0)

    @property
    def torn(self) -> bool:
        return self.tail_reason is not None


def _frame_problem(mv: memoryview, pos: int) -> str | None:
    """Why the frame at ``pos`` is not intact, or None when it is."""
    n = len(mv)
    if n - pos < HEADER_SIZE:
        return f"incomplete header ({n - pos} of {HEADER_SIZE} bytes)"
    length, crc = HEADER.unpack_from(mv, pos)
    length &= ~BATCH_FLAG
    if length == 0:
        return "zero length"
    if length > MAX_RECORD:
        return f"length {length} is over the {MAX_RECORD} byte limit"
    end = pos + HEADER_SIZE + length
    if end > n:
        return f"frame of {length} bytes is cut short ({n - pos - HEADER_SIZE} bytes present)"
    if _crc32(mv[pos + HEADER_SIZE : end]) != crc:
        return "checksum mismatch"
    return None


def _body_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body is not a map"
    v = body.get("v")
    if v != FORMAT_VERSION:
        return f"unsupported format version {v!r} (this program reads {FORMAT_VERSION})"
    return None


def _intact_frame_after(mv: memoryview, pos: int) -> int | None:
    """Offset of the first intact frame starting after ``pos``, or None.

    Only candidates whose payload starts like a msgpack map are checksummed, so this
    is a fast scan even over a long damaged region.
    """
    data = mv
    n = len(mv)
    i = pos + 1
    while i + HEADER_SIZE < n:
        b = data[i + HEADER_SIZE]
        if 0x80 <= b <= 0x8F or b in (0xDE, 0xDF):
            length = int.from_bytes(data[i : i + 4], "big") & ~BATCH_FLAG
            if 0 < length <= MAX_RECORD and i + HEADER_SIZE + length <= n:
                crc = int.from_bytes(data[i + 4 : i + 8], "big")
                if _crc32(mv[i + HEADER_SIZE : i + HEADER_SIZE + length]) == crc:
                    return i
        i += 1
    return None


def next_frame(mv: memoryview, pos: int) -> int:
    """Where the frame after the one whose header is at ``pos`` starts (by its length
    field alone: nothing is checked)."""
    length: int = HEADER.unpack_from(mv, pos)[0] & ~BATCH_FLAG
    return pos + HEADER_SIZE + length


def frame_starts(data: bytes | bytearray | memoryview, start: int = 0) -> Iterator[int]:
    """The offsets of the frames of ``data`` from ``start`` on, hopped by their length
    fields (nothing checked; the last may be cut short)."""
    mv = memoryview(data).cast("B")
    pos, n = start, len(mv)
    while pos + HEADER_SIZE <= n:
        yield pos
        pos = next_frame(mv, pos)
    if pos < n:
        yield pos  # a header cut short


def chain_start(data: bytes | bytearray | memoryview, after: int = -1) -> int | None:
    """The first offset in ``data`` (a piece cut from the end of a log, starting
    anywhere) after ``after`` from which intact frames run back to back to its end;
    None if none does.

    Lets a reader start near the end of a long log without scanning it from byte 0.
    A frame still being written may end the piece (its header or body cut short);
    anything else that breaks the chain rules that start out. A false start needs a
    CRC-32 match at every frame up to the end, so it is not found by chance.
    """
    mv = memoryview(data).cast("B")
    n = len(mv)
    pos = after
    while True:
        start = _intact_frame_after(mv, pos)
        if start is None:
            return None
        at = start
        while at < n and _frame_problem(mv, at) is None:
            at = next_frame(mv, at)
        if at >= n or _cut_short(mv, at):
            return start
        pos = start


def _cut_short(mv: memoryview, pos: int) -> bool:
    """Whether the frame at ``pos`` only lacks its end (a write still in progress)."""
    n = len(mv)
    if n - pos < HEADER_SIZE:
        return True
    length = HEADER.unpack_from(mv, pos)[0] & ~BATCH_FLAG
    return bool(0 < length <= MAX_RECORD and pos + HEADER_SIZE + length > n)


def _where(number: int, batch: bool) -> str:
    """How a message names the frame holding record ``number`` (the next one)."""
    return f"the batch frame starting with record #{number}" if batch else f"record #{number}"


def _stop(mv: memoryview, pos: int, base: int, reason: str, path: str, result: ScanResult) -> None:
    """Decide between torn tail (record it) and mid-file corruption (raise)."""
    after = _intact_frame_after(mv, pos)
    if after is not None:
        raise LogCorruptionError(
            path,
            base + pos,
            f"{reason} in the frame of record #{result.count + 1}; "
            f"intact records follow at byte {base + after}",
        )
    result.tail_reason = reason


def _decode_batch(payload: memoryview, path: str, offset: int, number: int) -> list[Any]:
    """The records of an intact batch frame's payload, each checked; raises
    :class:`LogCorruptionError` (at the frame's ``offset``) when it is not a run of
    whole records of this format version."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=MAX_RECORD)
    try:
        unpacker.feed(payload)
        records = list(unpacker)
    except Exception as exc:  # intact CRC but undecodable: a writer bug
        raise LogCorruptionError(
            path, offset, f"{_where(number, True)} is not valid msgpack ({exc})"
        ) from exc
    if unpacker.tell() != len(payload):
        raise LogCorruptionError(
            path, offset, f"{_where(number, True)} ends inside a record (cut short)"
        )
    for k, rec in enumerate(records):
        if type(rec) is not dict or rec.get("v") != FORMAT_VERSION:
            raise LogCorruptionError(
                path,
                offset,
                f"record #{number + k} (record {k + 1} of the batch frame at byte {offset}): "
                f"{_body_problem(rec)}",
            )
    return records


def iter_records(
    data: bytes | bytearray | memoryview,
    path: str = "<bytes>",
    result: ScanResult | None = None,
    base: int = 0,
    first_number: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the records of ``data`` in order (the exact, frame-by-frame reader).

    ``data`` is the part of the file starting at byte ``base`` (offsets reported in
    errors and in ``result`` are file offsets); ``first_number`` is the record
    number of its first record (for messages). Stops quietly at a torn tail
    (``result.tail_reason`` says why, ``result.end`` where); raises
    :class:`LogCorruptionError` on mid-file corruption after yielding every good
    record before it. A batch frame's records are checked as a whole before the
    first of them is yielded. ``result`` counts whole frames: when the consumer
    stops inside a batch, it reports the progress up to the frame before it.
    ``progress(done, total)`` is called with file offsets every
    :data:`PROGRESS_STEP` bytes read (a long log's check).
    """
    if result is None:
        result = ScanResult()
    mv = memoryview(data).cast("B")
    n = len(mv)
    report = PROGRESS_STEP if progress is not None else n + 1
    result.data_size = base + n
    pos = 0
    count = 0
    number = first_number - 1
    last_pos = -1
    last_crc = 0
    unpack_from = HEADER.unpack_from
    crc32 = _crc32
    unpackb = msgpack.unpackb
    version = FORMAT_VERSION
    try:
        while pos < n:
            if pos >= report:
                assert progress is not None
                progress(base + pos, base + n)
                report = pos + PROGRESS_STEP
            if n - pos >= HEADER_SIZE:
                length, crc = unpack_from(mv, pos)
                batch = length & BATCH_FLAG
                length &= ~BATCH_FLAG
                end = pos + HEADER_SIZE + length
                if 0 < length <= MAX_RECORD and end <= n:
                    body = mv[pos + HEADER_SIZE : end]
                    if crc32(body) == crc:
                        if batch:
                            recs = _decode_batch(body, path, base + pos, number + count + 1)
                            yield from recs
                            last_pos, last_crc = pos, crc
                            pos = end
                            count += len(recs)
                            continue
                        try:
                            rec = unpackb(body, raw=False, strict_map_key=False)
                        except Exception as exc:  # intact CRC but undecodable: a writer bug
                            raise LogCorruptionError(
                                path,
                                base + pos,
                                f"record #{number + count + 1} is not valid msgpack ({exc})",
                            ) from exc
                        if type(rec) is not dict or rec.get("v") != version:
                            raise LogCorruptionError(
                                path,
                                base + pos,
                                f"record #{number + count + 1}: {_body_problem(rec)}",
                            )
                        last_pos, last_crc = pos, crc
                        pos = end
                        count += 1
                        yield rec
                        continue
            # The frame at pos is not intact.
            result.count = number + count
            _stop(mv, pos, base, _frame_problem(mv, pos) or "bad frame", path, result)
            return
        result.tail_reason = None
    finally:
        # Also on errors and when the consumer stops early: the progress so far.
        result.end, result.count = base + pos, number + count
        if last_pos >= 0:
            result.last_record = (base + last_pos, last_crc)


class RawRecords:
    """The msgpack bytes a :class:`RecordBatch` was decoded from (verified).

    ``decode()`` decodes them again: a bulk fold that keeps only a few of a batch's
    records for later (the last edits of each file) keeps this instead, so the
    records themselves can be freed at once.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes | memoryview) -> None:
        self.data = data

    def decode(self) -> list[dict[str, Any]]:
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=2 * MAX_RECORD)
        unpacker.feed(self.data)
        return list(unpacker)


class RecordBatch(list):  # type: ignore[type-arg]
    """A list of records from :func:`iter_record_batches`; ``raw`` holds their bytes."""

    __slots__ = ("raw",)
    raw: RawRecords


#: Bytes of record frames that :func:`iter_record_batches` verifies and decodes as one
#: batch (small enough that a batch's records stay in the CPU cache while they are
#: folded). A batch frame is always decoded as one batch of its own.
BATCH_BYTES = 1 << 14

_get_version = operator.itemgetter("v")


def iter_record_batches(
    data: bytes | bytearray | memoryview,
    path: str = "<bytes>",
    result: ScanResult | None = None,
    base: int = 0,
    first_number: int = 1,
    *,
    window: bool = False,
) -> Iterator[list[dict[str, Any]]]:
    """The records of ``data`` in order, as lists: the bulk read path of replay.

    ``window``: ``data`` is a window of a longer file; a frame cut short by its end
    (everything before it intact) ends it quietly (``result.tail_reason`` is
    ``"window"``), without the search that tells a torn tail from corruption.

    Same records, same errors and the same ``result`` as :func:`iter_records` (read
    it for the arguments); only faster on an intact log. A batch frame is checked
    (length, CRC-32) and its payload fed whole to a streaming ``msgpack.Unpacker``;
    runs of record frames are checked about :data:`BATCH_BYTES` at a time and their
    bodies decoded together. A batch is accepted only when it decoded to whole maps
    of this format version ending where the frames end (one per record frame).
    Anything else (a bad frame, a torn tail, an undecodable payload) hands the rest
    of the data, from the batch's first frame, to :func:`iter_records`, which finds
    and reports it exactly. When the consumer stops early, ``result`` reports
    progress up to the end of the last batch handed out.
    """
    if result is None:
        result = ScanResult()
    mv = memoryview(data).cast("B")
    n = len(mv)
    result.data_size = base + n
    pos = 0
    count = 0
    last_pos = -1
    last_crc = 0
    exact: ScanResult | None = None
    unpack_from = HEADER.unpack_from
    crc32 = _crc32
    join = b"".join
    get_version = _get_version
    versions = {FORMAT_VERSION}
    flag = BATCH_FLAG
    mask = ~BATCH_FLAG
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=2 * MAX_RECORD)
    feed = unpacker.feed
    tell = unpacker.tell
    fed = 0
    try:
        while pos < n:
            start = pos
            stop = min(n, pos + BATCH_BYTES)
            bodies: list[memoryview] = []
            add = bodies.append
            intact = True
            cut = False
            batch_last = last_crc_batch = 0
            chunk: memoryview | bytes | None = None
            while pos < stop:
                if n - pos < HEADER_SIZE:
                    intact = cut = window
                    break
                length, crc = unpack_from(mv, pos)
                if length & flag:
                    if bodies:  # decode the record frames before it first
                        break
                    length &= mask
                    end = pos + HEADER_SIZE + length
                    if not (0 < length <= MAX_RECORD and end <= n):
                        intact = cut = window and 0 < length <= MAX_RECORD
                        break
                    chunk = mv[pos + HEADER_SIZE : end]
                    if crc32(chunk) != crc:
                        intact = False
                        break
                    batch_last = pos
                    last_crc_batch = crc
                    pos = end
                    break
                end = pos + HEADER_SIZE + length
                if not (0 < length <= MAX_RECORD and end <= n):
                    intact = cut = window and 0 < length <= MAX_RECORD
                    break
                body = mv[pos + HEADER_SIZE : end]
                if crc32(body) != crc:
                    intact = False
                    break
                add(body)
                batch_last = pos
                last_crc_batch = crc
                pos = end
            records: list[dict[str, Any]] | None = [] if intact else None
            if intact and (bodies or chunk is not None):
                if chunk is None:
                    chunk = join(bodies)
                fed += len(chunk)
                try:
                    feed(chunk)
                    records = RecordBatch(unpacker)
                    records.raw = RawRecords(chunk)
                    if (
                        tell() != fed
                        or (bodies and len(records) != len(bodies))
                        or set(map(get_version, records)) != versions
                    ):
                        records = None
                except Exception:  # undecodable, not a map, no version: iter_records says
                    records = None
            if records is None:
                # Something is wrong in this batch: the exact per-record reader
                # yields its good records and reports the damage precisely.
                pos = start
                exact = ScanResult()
                for rec in iter_records(
                    mv[start:], path, exact, base=base + start, first_number=first_number + count
                ):
                    yield [rec]
                return
            if records:
                count += len(records)
                last_pos, last_crc = batch_last, last_crc_batch
                yield records
            if cut:
                result.tail_reason = "window"
                return
        result.tail_reason = None
    finally:
        if exact is not None:
            result.end, result.count, result.tail_reason = exact.end, exact.count, exact.tail_reason
            if exact.last_record != (0, 0):
                result.last_record = exact.last_record
            elif last_pos >= 0:
                result.last_record = (base + last_pos, last_crc)
        else:
            result.end, result.count = base + pos, first_number - 1 + count
            if last_pos >= 0:
                result.last_record = (base + last_pos, last_crc)


def scan(data: bytes | bytearray | memoryview, path: str = "<bytes>") -> ScanResult:
    """Verify every record of ``data`` without keeping them; see :func:`iter_records`."""
    result = ScanResult()
    for _ in iter_record_batches(data, path, result):
        pass
    return result
