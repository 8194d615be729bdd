"""A small blocking client of the agent socket (protocol: docs/protocol.md).

A hook process makes a handful of requests, one at a time, and exits: an event loop
and the full :class:`agentshell.client.AgentClient` would cost more to import than
the whole call. Frames are the protocol's own: a 4-byte big-endian length, a msgpack
map.
"""

from __future__ import annotations

import _socket
import struct

from . import lean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_FRAME = 1 << 20
_HEADER = struct.Struct(">I")


class Unreachable(Exception):
    """No server answers on the socket (none running, the path is wrong, it went away)."""


class ServerRefused(Exception):
    """An error frame: ``code`` and ``message`` as the server sent them."""

    def __init__(self, code: str, message: str, data: dict[str, Any]) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data


class Client:
    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self._sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(path)
        except OSError as exc:
            self._sock.close()
            raise Unreachable(f"{path}: {exc.strerror or exc}") from None
        self._ids = 0

    def close(self) -> None:
        self._sock.close()

    def request(self, op: str, timeout: float | None = None, /, **fields: Any) -> dict[str, Any]:
        """Send one request; its reply (an error frame raises ServerRefused)."""
        self._ids += 1
        body = {k: v for k, v in fields.items() if v is not None}
        body["id"] = self._ids
        body["op"] = op
        data = lean.pack(body)
        if timeout is not None:
            self._sock.settimeout(timeout)
        try:
            self._sock.sendall(_HEADER.pack(len(data)) + data)
            while True:
                reply = self._read()
                if reply.get("id") == self._ids:
                    break
                if reply.get("id") is None and reply.get("ok") is False:
                    break  # an error about the connection itself (peer uid, bad frame)
        except (TimeoutError, _socket.timeout):
            raise Unreachable(f"{self.path}: no reply within the time left") from None
        except OSError as exc:
            raise Unreachable(f"{self.path}: {exc.strerror or exc}") from None
        if not reply.get("ok"):
            err = reply.get("error")
            err = err if isinstance(err, dict) else {}
            raise ServerRefused(str(err.get("code", "error")), str(err.get("message", "")), err)
        return reply

    def _read(self) -> dict[str, Any]:
        (n,) = _HEADER.unpack(self._exactly(_HEADER.size))
        if n > MAX_FRAME:
            raise Unreachable(f"{self.path}: a frame of {n} bytes from the server")
        try:
            obj = lean.unpack(self._exactly(n))
        except (lean.UnpackError, UnicodeDecodeError) as exc:
            raise Unreachable(f"{self.path}: a frame that is not msgpack ({exc})") from None
        if not isinstance(obj, dict):
            raise Unreachable(f"{self.path}: the server sent something that is not a map")
        return obj

    def _exactly(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self._sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionResetError("the server closed the connection")
            buf += chunk
        return bytes(buf)
