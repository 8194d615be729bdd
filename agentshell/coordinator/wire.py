"""Wire helpers shared by server and client. Frame codec of the agent socket: a 4-byte big-endian length, then a msgpack map.

``encode(obj)`` builds one frame; ``read_frame(reader)`` reads one from an asyncio
stream. A length over :data:`MAX_FRAME` is refused *before* the body is read
(:class:`FrameTooLarge`); a body that is not msgpack, or not a map, raises
:class:`BadFrame` with the frame already consumed, so the stream stays in step and the
caller can answer with an error frame and carry on. The same functions are used by the
server and the client; ``recv_frame_sync``/``send_frame_sync`` serve blocking sockets.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import struct
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]

from agentshell.core.errors import AgentShellError

#: Largest body accepted in either direction (1 MiB).
MAX_FRAME = 1 << 20
HEADER = struct.Struct(">I")


class FrameError(AgentShellError):
    """A frame could not be read."""

    code = "bad_frame"


class FrameTooLarge(FrameError):
    """The announced length is over the limit; the body was not read."""

    code = "frame_too_large"


class BadFrame(FrameError):
    """The body is not a msgpack map (the frame was consumed; the stream is in step)."""

    code = "bad_frame"


def encode(obj: dict[str, Any], max_frame: int = MAX_FRAME) -> bytes:
    """One frame carrying ``obj``; raises FrameTooLarge when the body would be too big."""
    body: bytes = msgpack.packb(obj, use_bin_type=True)
    if len(body) > max_frame:
        raise FrameTooLarge(f"frame of {len(body)} bytes is over the {max_frame}-byte limit")
    return HEADER.pack(len(body)) + body


def decode_body(body: bytes) -> dict[str, Any]:
    try:
        obj = msgpack.unpackb(body, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types
        raise BadFrame(f"body is not valid msgpack: {type(exc).__name__}: {exc}") from None
    if not isinstance(obj, dict):
        raise BadFrame(f"body must be a map, got {type(obj).__name__}")
    return obj


def check_length(n: int, max_frame: int = MAX_FRAME) -> None:
    if n > max_frame:
        raise FrameTooLarge(f"frame length {n} is over the {max_frame}-byte limit")


async def read_frame(reader: asyncio.StreamReader, max_frame: int = MAX_FRAME) -> dict[str, Any]:
    """Read one frame. EOF raises ``asyncio.IncompleteReadError`` (clean or mid-frame)."""
    header = await reader.readexactly(HEADER.size)
    (n,) = HEADER.unpack(header)
    check_length(n, max_frame)
    body = await reader.readexactly(n)
    return decode_body(body)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return bytes(buf)


def recv_frame_sync(sock: socket.socket, max_frame: int = MAX_FRAME) -> dict[str, Any]:
    (n,) = HEADER.unpack(_recv_exactly(sock, HEADER.size))
    check_length(n, max_frame)
    return decode_body(_recv_exactly(sock, n))


def send_frame_sync(sock: socket.socket, obj: dict[str, Any]) -> None:
    sock.sendall(encode(obj))


class SocketSecurityError(AgentShellError):
    """The socket directory or path is not private enough to use."""


def operator_token_path(socket_path: Path) -> Path:
    """The 0600 file beside the socket holding the operator token."""
    return socket_path.with_name(socket_path.name + ".operator")


def read_private_file(path: Path) -> str:
    """Read a file only if it is a regular file of ours that nobody else can read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SocketSecurityError(f"{path} is a symlink") from None
        raise
    try:
        st = os.fstat(fd)
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise SocketSecurityError(f"{path} must be owned by us with mode 0600")
        return os.read(fd, 4096).decode().strip()
    finally:
        os.close(fd)
