"""Hostile or broken clients get error frames; everyone else keeps being served."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import struct
from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest

from agentshell.server.framing import MAX_FRAME, encode, read_frame
from agentshell.server.paths import SocketSecurityError, ensure_private_dir

from .conftest import Served


class Raw:
    def __init__(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.r, self.w = r, w

    async def send(self, data: bytes) -> None:
        self.w.write(data)
        await self.w.drain()

    async def recv(self) -> dict[str, Any]:
        return await asyncio.wait_for(read_frame(self.r), 10)

    async def req(self, **body: Any) -> dict[str, Any]:
        await self.send(encode(body))
        return await self.recv()


async def raw(served: Served, hello: bool = True) -> Raw:
    r, w = await asyncio.open_unix_connection(str(served.socket))
    c = Raw(r, w)
    if hello:
        if "a" not in served.tokens:
            served.tokens["a"] = await served.coordinator.add_agent("a", ["read", "run"])
        rep = await c.req(id=0, op="hello", agent="a", token=served.tokens["a"])
        assert rep["ok"], rep
    return c


async def still_served(served: Served) -> None:
    c = await raw(served)
    assert (await c.req(id=99, op="ping"))["pong"] is True
    c.w.close()


async def test_oversized_length_refused_and_closed(served: Served) -> None:
    c = await raw(served)
    await c.send(struct.pack(">I", MAX_FRAME + 1))  # no body follows
    rep = await c.recv()
    assert rep["ok"] is False and rep["error"]["code"] == "frame_too_large"
    assert await asyncio.wait_for(c.r.read(), 5) == b""  # then closed
    await still_served(served)


async def test_bad_msgpack_gets_error_and_connection_lives(served: Served) -> None:
    c = await raw(served)
    junk = b"\xc1\xc1"
    await c.send(struct.pack(">I", len(junk)) + junk)
    rep = await c.recv()
    assert rep["ok"] is False and rep["error"]["code"] == "bad_frame" and rep["id"] is None
    body = msgpack.packb([1, 2, 3])
    await c.send(struct.pack(">I", len(body)) + body)
    assert (await c.recv())["error"]["code"] == "bad_frame"
    assert (await c.req(id=5, op="ping")) == {"id": 5, "ok": True, "pong": True}


async def test_unknown_op_and_wrong_types(served: Served) -> None:
    c = await raw(served)
    rep = await c.req(id=1, op="format_disk")
    assert (
        rep == {"id": 1, "ok": False, "error": rep["error"]}
        and rep["error"]["code"] == "unknown_op"
    )
    for bad in (
        {"id": 2, "op": "run", "command": 123},
        {"id": 3, "op": "run", "command": "ls", "timeout": "soon"},
        {"id": 4, "op": "screen", "terminal": ["main"]},
        {"id": 5, "op": 7},
        {"id": 6, "op": "propose"},
        {"id": 7, "op": "run", "command": "ls", "timeout": True},
    ):
        rep = await c.req(**bad)
        assert rep["ok"] is False and rep["id"] == bad["id"], rep
        assert rep["error"]["code"] == "bad_request", rep
    rep = await c.req(id=[1], op="ping")
    assert rep["error"]["code"] == "bad_request"
    rep = await c.req(id=8, op="screen", terminal="nope")
    assert rep["error"]["code"] == "not_found"
    assert served.coordinator.approvals() == []


async def test_ops_before_hello_refused(served: Served) -> None:
    c = await raw(served, hello=False)
    assert (await c.req(id=1, op="ping"))["ok"] is True
    rep = await c.req(id=2, op="run", command="ls")
    assert rep["error"]["code"] == "unauthenticated"
    rep = await c.req(id=3, op="hello", agent="ghost", token="x")
    assert rep["error"]["code"] == "auth_failed"


async def test_disconnect_mid_frame_harms_nobody(served: Served) -> None:
    other = await raw(served)
    for cut in (2, 4, 10):
        c = await raw(served)
        data = encode({"id": 1, "op": "ping", "pad": "x" * 50})
        await c.send(data[:cut])
        c.w.close()
        await c.w.wait_closed()
    assert (await other.req(id=1, op="ping"))["ok"]
    await still_served(served)


async def test_socket_and_dir_modes(served: Served) -> None:
    st = os.lstat(served.socket)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert stat.S_IMODE(os.lstat(served.socket.parent).st_mode) == 0o700
    tok = served.socket.with_name(served.socket.name + ".operator")
    assert stat.S_IMODE(os.lstat(tok).st_mode) == 0o600


def test_private_dir_checks(tmp_path: Any) -> None:
    d = tmp_path / "open"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    with pytest.raises(SocketSecurityError):
        ensure_private_dir(d)
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(SocketSecurityError):
        ensure_private_dir(link)
    ensure_private_dir(tmp_path / "new")
    assert stat.S_IMODE(os.lstat(tmp_path / "new").st_mode) == 0o700
    # a place where no directory can be made: the same error, saying why
    (tmp_path / "a-file").write_text("")
    for where in (tmp_path / "missing" / "sock", tmp_path / "a-file" / "sock"):
        with pytest.raises(SocketSecurityError, match="cannot make the socket directory"):
            ensure_private_dir(where)


_CLIENT = """
import socket, struct, sys, msgpack
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect-refused", e.errno); sys.exit(0)
s.settimeout(5)
hdr = b""
while len(hdr) < 4:
    chunk = s.recv(4 - len(hdr))
    if not chunk:
        print("closed"); sys.exit(0)
    hdr += chunk
n, = struct.unpack(">I", hdr)
body = b""
while len(body) < n:
    body += s.recv(n - len(body))
print("frame", msgpack.unpackb(body)["error"]["code"])
"""


@pytest.mark.skipif(os.getuid() != 0, reason="switching to another uid needs root (setpriv)")
async def test_other_uid_refused(served: Served) -> None:
    import shutil
    import sys

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    nobody = 65534
    args = [
        "setpriv",
        f"--reuid={nobody}",
        f"--regid={nobody}",
        "--clear-groups",
        sys.executable,
        "-c",
        _CLIENT,
        str(served.socket),
    ]
    # 1. as deployed, the 0700 directory keeps other users out entirely
    p = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(p.communicate(), 30)
    assert out.decode().startswith("connect-refused"), out
    # 2. even if the modes were loosened, the peer-uid check refuses the connection
    os.chmod(served.root, 0o711)
    os.chmod(served.socket.parent, 0o711)
    os.chmod(served.socket, 0o666)
    try:
        p = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(p.communicate(), 30)
    finally:
        os.chmod(served.socket.parent, 0o700)
        os.chmod(served.socket, 0o600)
    assert out.decode().strip() == "frame peer_uid", out
    await still_served(served)


def test_python_can_see_sockets() -> None:
    assert hasattr(socket, "SO_PEERCRED")
