"""Frame codec: round trip, oversize refused before the body, bad bodies keep the stream in step."""

from __future__ import annotations

import asyncio
import struct

import msgpack  # type: ignore[import-untyped]
import pytest

from agentshell.server.framing import (
    MAX_FRAME,
    BadFrame,
    FrameTooLarge,
    decode_body,
    encode,
    read_frame,
)


def feed(data: bytes, eof: bool = True) -> asyncio.StreamReader:
    r = asyncio.StreamReader()
    r.feed_data(data)
    if eof:
        r.feed_eof()
    return r


async def test_round_trip_and_binary() -> None:
    obj = {"id": 1, "op": "x", "data": b"\x00\xff", "n": [1, 2.5, None, "é"]}
    r = feed(encode(obj) + encode({"id": 2}))
    assert await read_frame(r) == obj
    assert await read_frame(r) == {"id": 2}
    with pytest.raises(asyncio.IncompleteReadError):
        await read_frame(r)


async def test_oversized_refused_before_body() -> None:
    # only the header is there: if the reader waited for the body it would hang
    r = feed(struct.pack(">I", MAX_FRAME + 1), eof=False)
    with pytest.raises(FrameTooLarge):
        await asyncio.wait_for(read_frame(r), 1.0)


async def test_bad_body_consumed_stream_stays_in_step() -> None:
    bad = b"\xc1\xc1\xc1"  # 0xc1 is never valid msgpack
    r = feed(struct.pack(">I", len(bad)) + bad + encode({"id": 7}))
    with pytest.raises(BadFrame):
        await read_frame(r)
    assert await read_frame(r) == {"id": 7}


def test_non_map_and_non_string_keys_refused() -> None:
    with pytest.raises(BadFrame):
        decode_body(msgpack.packb([1, 2]))
    with pytest.raises(BadFrame):
        decode_body(msgpack.packb({1: 2}))


def test_encode_refuses_oversized() -> None:
    with pytest.raises(FrameTooLarge):
        encode({"x": b"a" * (MAX_FRAME + 10)})


async def test_midframe_eof() -> None:
    r = feed(struct.pack(">I", 100) + b"abc")
    with pytest.raises(asyncio.IncompleteReadError):
        await read_frame(r)
