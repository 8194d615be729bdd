"""JSON and msgpack for the hook's fast path, on the interpreter's C accelerators.

``json`` imports ``re`` and compiles its patterns, ``msgpack`` imports ``datetime``,
``socket`` imports ``enum`` and ``selectors``: together several times what the hook
does with them. A hook call reads one JSON object, writes one, and exchanges a few
small msgpack maps, so it uses ``_json``'s scanner and string encoder and a msgpack
subset (nil, bools, ints, floats, str, bin, arrays, maps: all the protocol sends),
checked against both libraries by tests/bridges/test_hook_lean.py.
"""

from __future__ import annotations

import _json
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# ----------------------------------------------------------------------- JSON


class _Context:
    """What ``_json.make_scanner`` reads from a JSONDecoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str]

    def __init__(self) -> None:
        self.memo = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}[name]


_WS = " \t\n\r"


def loads(text: str) -> Any:
    """One JSON value (ValueError when ``text`` is not exactly one)."""
    scan = _json.make_scanner(_Context())  # type: ignore[arg-type]
    i = len(text) - len(text.lstrip(_WS))
    try:
        value, end = scan(text, i)
    except StopIteration as exc:
        raise ValueError(f"expecting a value at character {exc.value}") from None
    if text[end:].strip(_WS):
        raise ValueError(f"extra data at character {end}")
    return value


def dumps(obj: Any) -> str:
    """Compact JSON (``ensure_ascii``); dicts, lists, str, int, float, bool, None."""
    out: list[str] = []
    _dump(obj, out)
    return "".join(out)


def _dump(obj: Any, out: list[str]) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(_json.encode_basestring_ascii(obj))
    elif isinstance(obj, int):
        out.append(int.__repr__(obj))
    elif isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            raise ValueError("JSON has no NaN or infinity")
        out.append(float.__repr__(obj))
    elif isinstance(obj, dict):
        out.append("{")
        for n, (k, v) in enumerate(obj.items()):
            if n:
                out.append(", ")
            out.append(_json.encode_basestring_ascii(str(k)))
            out.append(": ")
            _dump(v, out)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for n, v in enumerate(obj):
            if n:
                out.append(", ")
            _dump(v, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(obj).__name__} as JSON")


# -------------------------------------------------------------------- msgpack


def pack(obj: Any) -> bytes:
    out = bytearray()
    _pack(obj, out)
    return bytes(out)


def _pack(obj: Any, out: bytearray) -> None:
    if obj is None:
        out.append(0xC0)
    elif obj is True:
        out.append(0xC3)
    elif obj is False:
        out.append(0xC2)
    elif isinstance(obj, int):
        if 0 <= obj < 0x80:
            out.append(obj)
        elif -32 <= obj < 0:
            out.append(obj & 0xFF)
        elif -(1 << 63) <= obj < (1 << 63):
            out.append(0xD3)
            out += obj.to_bytes(8, "big", signed=True)
        elif obj < (1 << 64):
            out.append(0xCF)
            out += obj.to_bytes(8, "big")
        else:
            raise OverflowError("int too large for msgpack")
    elif isinstance(obj, float):
        out.append(0xCB)
        out += struct.pack(">d", obj)
    elif isinstance(obj, str):
        b = obj.encode("utf-8")
        n = len(b)
        if n < 32:
            out.append(0xA0 | n)
        elif n < 0x100:
            out += bytes((0xD9, n))
        elif n < 0x10000:
            out.append(0xDA)
            out += n.to_bytes(2, "big")
        else:
            out.append(0xDB)
            out += n.to_bytes(4, "big")
        out += b
    elif isinstance(obj, bytes | bytearray):
        n = len(obj)
        if n < 0x100:
            out += bytes((0xC4, n))
        elif n < 0x10000:
            out.append(0xC5)
            out += n.to_bytes(2, "big")
        else:
            out.append(0xC6)
            out += n.to_bytes(4, "big")
        out += obj
    elif isinstance(obj, list | tuple):
        _head(len(obj), 0x90, 0xDC, out)
        for v in obj:
            _pack(v, out)
    elif isinstance(obj, dict):
        _head(len(obj), 0x80, 0xDE, out)
        for k, v in obj.items():
            _pack(k, out)
            _pack(v, out)
    else:
        raise TypeError(f"cannot pack {type(obj).__name__}")


def _head(n: int, fix: int, wide: int, out: bytearray) -> None:
    if n < 16:
        out.append(fix | n)
    elif n < 0x10000:
        out.append(wide)
        out += n.to_bytes(2, "big")
    else:
        out.append(wide + 1)
        out += n.to_bytes(4, "big")


class UnpackError(ValueError):
    pass


def unpack(data: bytes) -> Any:
    value, end = _unpack(data, 0)
    if end != len(data):
        raise UnpackError("extra bytes after the value")
    return value


_FIXED = {  # type byte: (length, kind)
    0xCC: (1, "u"), 0xCD: (2, "u"), 0xCE: (4, "u"), 0xCF: (8, "u"),
    0xD0: (1, "i"), 0xD1: (2, "i"), 0xD2: (4, "i"), 0xD3: (8, "i"),
    0xCA: (4, "f"), 0xCB: (8, "f"),
}  # fmt: skip


def _take(data: bytes, i: int, n: int) -> bytes:
    if i + n > len(data):
        raise UnpackError("truncated msgpack")
    return data[i : i + n]


def _unpack(data: bytes, i: int) -> tuple[Any, int]:
    b = _take(data, i, 1)[0]
    i += 1
    if b < 0x80:
        return b, i
    if b >= 0xE0:
        return b - 0x100, i
    if 0xA0 <= b <= 0xBF:
        n = b & 0x1F
        return _take(data, i, n).decode("utf-8"), i + n
    if 0x90 <= b <= 0x9F:
        return _array(data, i, b & 0x0F)
    if 0x80 <= b <= 0x8F:
        return _map(data, i, b & 0x0F)
    if b == 0xC0:
        return None, i
    if b in (0xC2, 0xC3):
        return b == 0xC3, i
    fixed = _FIXED.get(b)
    if fixed is not None:
        n, kind = fixed
        raw = _take(data, i, n)
        if kind == "f":
            return struct.unpack(">f" if n == 4 else ">d", raw)[0], i + n
        return int.from_bytes(raw, "big", signed=kind == "i"), i + n
    if b in (0xD9, 0xDA, 0xDB, 0xC4, 0xC5, 0xC6):
        w = {0xD9: 1, 0xDA: 2, 0xDB: 4, 0xC4: 1, 0xC5: 2, 0xC6: 4}[b]
        n = int.from_bytes(_take(data, i, w), "big")
        raw = _take(data, i + w, n)
        return (raw.decode("utf-8") if b >= 0xD9 else raw), i + w + n
    if b in (0xDC, 0xDD, 0xDE, 0xDF):
        w = 2 if b in (0xDC, 0xDE) else 4
        n = int.from_bytes(_take(data, i, w), "big")
        return (_array if b in (0xDC, 0xDD) else _map)(data, i + w, n)
    raise UnpackError(f"msgpack type 0x{b:02x} is not one the protocol sends")


def _array(data: bytes, i: int, n: int) -> tuple[list[Any], int]:
    out = []
    for _ in range(n):
        v, i = _unpack(data, i)
        out.append(v)
    return out, i


def _map(data: bytes, i: int, n: int) -> tuple[dict[Any, Any], int]:
    out = {}
    for _ in range(n):
        k, i = _unpack(data, i)
        v, i = _unpack(data, i)
        if isinstance(k, list | dict):
            raise UnpackError("a map key that is not a scalar")
        out[k] = v
    return out, i
