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


# msgpack in the standard library alone, for a process that cannot import the
# project's dependencies (see test_other_uid_refused): what the frames here need.
_MSGPACK = r"""
import struct

def pack(obj):
    if obj is None:
        return b"\xc0"
    if obj is True or obj is False:
        return b"\xc3" if obj else b"\xc2"
    if isinstance(obj, int):
        if 0 <= obj < 0x80:
            return bytes([obj])
        if -32 <= obj < 0:
            return struct.pack(">b", obj)
        return struct.pack(">Bq", 0xD3, obj) if obj < 0 else struct.pack(">BQ", 0xCF, obj)
    if isinstance(obj, float):
        return struct.pack(">Bd", 0xCB, obj)
    if isinstance(obj, str):
        raw = obj.encode("utf-8")
        return _head(len(raw), 0xA0, 32, (0xD9, 0xDA, 0xDB)) + raw
    if isinstance(obj, bytes):
        return _head(len(obj), None, 0, (0xC4, 0xC5, 0xC6)) + obj
    if isinstance(obj, (list, tuple)):
        return _head(len(obj), 0x90, 16, (None, 0xDC, 0xDD)) + b"".join(map(pack, obj))
    if isinstance(obj, dict):
        items = b"".join(pack(k) + pack(v) for k, v in obj.items())
        return _head(len(obj), 0x80, 16, (None, 0xDE, 0xDF)) + items
    raise TypeError(f"cannot pack {type(obj).__name__}")

def _head(n, fix, fix_limit, codes):
    if fix is not None and n < fix_limit:
        return bytes([fix | n])
    for code, fmt, limit in zip(codes, (">BB", ">BH", ">BI"), (1 << 8, 1 << 16, 1 << 32)):
        if code is not None and n < limit:
            return struct.pack(fmt, code, n)
    raise ValueError("too long")

_FIXED = {0xCA: ">f", 0xCB: ">d", 0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q",
          0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}
_SIZED = {0xC4: (">B", "bin"), 0xC5: (">H", "bin"), 0xC6: (">I", "bin"),
          0xD9: (">B", "str"), 0xDA: (">H", "str"), 0xDB: (">I", "str"),
          0xDC: (">H", "array"), 0xDD: (">I", "array"), 0xDE: (">H", "map"), 0xDF: (">I", "map")}

def unpack(data):
    obj, end = _take(data, 0)
    if end != len(data):
        raise ValueError(f"{len(data) - end} byte(s) after the value")
    return obj

def _take(d, i):
    if i >= len(d):
        raise ValueError("truncated")
    b = d[i]
    i += 1
    if b < 0x80:
        return b, i
    if b >= 0xE0:
        return b - 0x100, i
    if b < 0x90:
        return _compound(d, i, b & 0x0F, "map")
    if b < 0xA0:
        return _compound(d, i, b & 0x0F, "array")
    if b < 0xC0:
        return _blob(d, i, b & 0x1F, "str")
    if b in (0xC0, 0xC2, 0xC3):
        return {0xC0: None, 0xC2: False, 0xC3: True}[b], i
    if b in _FIXED:
        fmt = _FIXED[b]
        return struct.unpack_from(fmt, d, i)[0], i + struct.calcsize(fmt)
    if b in _SIZED:
        fmt, kind = _SIZED[b]
        n = struct.unpack_from(fmt, d, i)[0]
        i += struct.calcsize(fmt)
        return (_compound if kind in ("map", "array") else _blob)(d, i, n, kind)
    raise ValueError(f"msgpack type 0x{b:02x} is not handled here")

def _blob(d, i, n, kind):
    if i + n > len(d):
        raise ValueError("truncated")
    raw = bytes(d[i:i + n])
    return (raw.decode("utf-8") if kind == "str" else raw), i + n

def _compound(d, i, n, kind):
    if kind == "array":
        out = []
        for _ in range(n):
            v, i = _take(d, i)
            out.append(v)
        return out, i
    m = {}
    for _ in range(n):
        k, i = _take(d, i)
        m[k], i = _take(d, i)
    return m, i
"""

# The client another uid runs: the standard library only (that uid may not be able to
# read the checkout or its virtualenv). It says hello as a real agent, so that only
# the peer-uid check can refuse it; prints what happened.
_CLIENT = (
    """
import socket, struct, sys
"""
    + _MSGPACK
    + """
def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf

s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect-refused", e.errno)
    sys.exit(0)
s.settimeout(10)
body = pack({"id": 0, "op": "hello", "agent": sys.argv[2], "token": sys.argv[3]})
try:
    s.sendall(struct.pack(">I", len(body)) + body)
except OSError:
    pass  # refused and closed already: its frame is still there to read
hdr = read_exact(s, 4)
body = read_exact(s, struct.unpack(">I", hdr)[0]) if hdr else None
if body is None:
    print("closed")
    sys.exit(0)
reply = unpack(body)
print("frame", "ok" if reply.get("ok") else reply["error"]["code"])
"""
)

_NOBODY = 65534
_SWITCH = ["setpriv", f"--reuid={_NOBODY}", f"--regid={_NOBODY}", "--clear-groups"]
# -I -S: no site-packages, no current directory, no PYTHON* variables: only the stdlib
_PY_FLAGS = ["-I", "-S"]
_PROBE = "import socket, struct; print('ok')"


def _runs_as_nobody(python: str, env: dict[str, str] | None = None) -> bool:
    import subprocess

    try:
        p = subprocess.run(
            [*_SWITCH, python, *_PY_FLAGS, "-c", _PROBE],
            cwd="/",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.stdout.strip() == "ok"


def _stdlib_copy(python: str, into: str) -> tuple[str, dict[str, str]] | None:
    """A copy of ``python`` (a real interpreter, not a venv's link) with just the part
    of its standard library the client needs, under ``into`` (world-readable), as
    ``(interpreter, env)``; None when its files do not all live under its prefix."""
    import json
    import shutil
    import subprocess

    def ask(code: str, *flags: str) -> str:
        return subprocess.run(
            [python, *flags, "-c", code], capture_output=True, text=True, timeout=60, check=True
        ).stdout

    # the files the client's imports load (the same flags as the client's run)
    files = ask(
        _PROBE.split(";")[0] + "; import sys; print('\\n'.join(m.__file__ for m in"
        " list(sys.modules.values()) if getattr(m, '__file__', None)))",
        *_PY_FLAGS,
    ).splitlines()
    prefix, libdir, soname, shared, platstdlib = json.loads(
        ask(
            "import json, sys, sysconfig; g = sysconfig.get_config_var; print(json.dumps("
            "[sys.base_prefix, g('LIBDIR'), g('INSTSONAME'), g('Py_ENABLE_SHARED'),"
            " sysconfig.get_path('platstdlib')]))",
            "-I",
        )
    )
    prefix = os.path.realpath(prefix)
    exe = os.path.realpath(python)
    files.append(exe)
    if shared and libdir and soname:
        files.append(os.path.join(libdir, soname))
    files.append(os.path.join(platstdlib, "lib-dynload"))  # a landmark of the prefix
    for f in files:
        real = os.path.realpath(f)
        if os.path.commonpath([real, prefix]) != prefix:
            return None
        dest = os.path.join(into, os.path.relpath(real, prefix))
        if os.path.isdir(real):
            os.makedirs(dest, exist_ok=True)
        elif os.path.exists(real):
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(real, dest)
    for root, _dirs, names in os.walk(into):
        os.chmod(root, 0o755)
        for n in names:
            os.chmod(os.path.join(root, n), 0o755)
    env = {"PATH": os.defpath}
    if libdir:
        env["LD_LIBRARY_PATH"] = os.path.join(into, os.path.relpath(libdir, prefix))
    return os.path.join(into, os.path.relpath(exe, prefix)), env


def _python_for_nobody(scratch: str) -> tuple[str, dict[str, str] | None] | str:
    """An interpreter uid 65534 can run, with the env to run it in; else why not."""
    import shutil
    import sys

    base = getattr(sys, "_base_executable", None) or sys.executable
    tried: list[str] = []
    for cand in (
        sys.executable,
        os.path.realpath(sys.executable),
        base,
        shutil.which("python3", path=os.defpath),
        "/usr/bin/python3",
    ):
        if cand and cand not in tried and os.path.exists(cand):
            tried.append(cand)
            if _runs_as_nobody(cand):
                return cand, None
    # none it can reach (each under a private directory): a copy of what the client needs
    copied = _stdlib_copy(os.path.realpath(base), scratch)
    if copied is not None and _runs_as_nobody(*copied):
        return copied
    return f"uid {_NOBODY} can run none of {tried}, nor a copy of {base} in {scratch}"


def _world_readable_dir() -> str:
    import tempfile

    d = tempfile.mkdtemp(prefix="as-py-", dir="/tmp" if os.path.isdir("/tmp") else None)
    os.chmod(d, 0o755)
    return d


def test_the_stdlib_msgpack_matches_msgpack() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    ns: dict[str, Any] = {}
    exec(_MSGPACK, ns)  # the very code the foreign-uid client runs
    pack, unpack = ns["pack"], ns["unpack"]
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**64 - 1)
        | st.floats(allow_nan=False)
        | st.text()
        | st.binary()
    )
    values = st.recursive(
        scalars,
        lambda kids: st.lists(kids, max_size=20) | st.dictionaries(st.text(), kids, max_size=20),
        max_leaves=60,
    )

    @settings(max_examples=300, deadline=None)
    @given(values)
    def roundtrip(v: Any) -> None:
        assert unpack(msgpack.packb(v, use_bin_type=True)) == v
        if not (isinstance(v, int) and not isinstance(v, bool) and v >= 2**63):
            assert msgpack.unpackb(pack(v), raw=False, strict_map_key=False) == v

    roundtrip()
    for bad in (b"\x92\x01", b"\xa3ab", b"\x01\x02", b"\xc1"):
        with pytest.raises((ValueError, struct.error)):
            unpack(bad)
    big = {"k" * 300: ["x" * 70_000] * 17}  # str8/16/32, map16-free, array16 headers
    assert unpack(msgpack.packb(big)) == big and msgpack.unpackb(pack(big)) == big


@pytest.mark.skipif(os.getuid() != 0, reason="switching to another uid needs root (setpriv)")
def test_a_copy_of_the_interpreter_runs_as_another_uid() -> None:
    """The fallback for an interpreter under a private directory (a home at 0700)."""
    import shutil
    import sys

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    scratch = _world_readable_dir()
    try:
        base = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
        copied = _stdlib_copy(base, scratch)
        if copied is None:
            pytest.skip(f"{base}'s standard library is not all under its prefix")
        python, env = copied
        assert python.startswith(scratch) and _runs_as_nobody(python, env)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.mark.skipif(os.getuid() != 0, reason="switching to another uid needs root (setpriv)")
async def test_other_uid_refused(served: Served) -> None:
    import shutil

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    scratch = _world_readable_dir()
    try:
        found = await asyncio.to_thread(_python_for_nobody, scratch)
        if isinstance(found, str):
            pytest.skip(found)
        python, env = found
        token = await served.coordinator.add_agent("a", ["read", "run"])
        served.tokens["a"] = token
        args = [*_SWITCH, python, *_PY_FLAGS, "-c", _CLIENT, str(served.socket), "a", token]

        async def run_client() -> str:
            p = await asyncio.create_subprocess_exec(
                *args, stdout=asyncio.subprocess.PIPE, cwd="/", env=env
            )
            out, _ = await asyncio.wait_for(p.communicate(), 30)
            return out.decode().strip()

        # 1. as deployed, the 0700 directory keeps other users out entirely
        out = await run_client()
        assert out.startswith("connect-refused"), out
        # 2. even if the modes were loosened, the peer-uid check refuses the connection
        os.chmod(served.root, 0o711)
        os.chmod(served.socket.parent, 0o711)
        os.chmod(served.socket, 0o666)
        try:
            out = await run_client()
        finally:
            os.chmod(served.socket.parent, 0o700)
            os.chmod(served.socket, 0o600)
        assert out == "frame peer_uid", out
        await still_served(served)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_python_can_see_sockets() -> None:
    assert hasattr(socket, "SO_PEERCRED")
