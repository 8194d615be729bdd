"""The hook's own JSON and msgpack (agentshell/bridges/hooks/lean.py) against the
json and msgpack libraries, and the hook's fast path free of the slow imports."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import msgpack  # type: ignore[import-untyped]
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentshell.bridges.hooks import lean

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(1 << 63), max_value=(1 << 64) - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars | st.binary(),
    lambda inner: st.lists(inner, max_size=20) | st.dictionaries(st.text(), inner, max_size=20),
    max_leaves=60,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=20) | st.dictionaries(st.text(), inner, max_size=20),
    max_leaves=60,
)


@given(values)
def test_pack_is_read_by_msgpack_and_unpack_reads_msgpack(v: object) -> None:
    assert msgpack.unpackb(lean.pack(v), raw=False, strict_map_key=False) == v
    assert lean.unpack(msgpack.packb(v, use_bin_type=True)) == v


@given(json_values)
def test_json_round_trips_through_the_json_library(v: object) -> None:
    assert json.loads(lean.dumps(v)) == v
    assert lean.loads(json.dumps(v)) == v
    assert lean.loads(f"  \n{json.dumps(v, indent=2)}\n ") == v


@pytest.mark.parametrize("bad", ["", "  ", "{", "[1,]", "{} {}", "nul", '{"a": 1,}'])
def test_bad_json_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError):
        lean.loads(bad)


def test_bad_msgpack_is_an_unpack_error() -> None:
    for bad in (b"", b"\x92\x01", b"\xc1", b"\xa5ab", b"\x81\x90\x01"):
        with pytest.raises(lean.UnpackError):
            lean.unpack(bad)
    with pytest.raises(ValueError):
        lean.dumps(math.inf)


def test_the_hook_path_imports_none_of_the_slow_modules() -> None:
    code = (
        "import sys, io; sys.stdin = io.StringIO(sys.argv[1]);"
        "from agentshell.bridges.hooks.entry import main;"
        "main(['--vendor', 'claude', '--socket', '/nonexistent/s']);"
        "print('LOADED:' + ' '.join(sorted(m for m in sys.modules"
        " if m in ('json', 're', 'socket', 'msgpack', 'typing', 'dataclasses', 'pathlib',"
        " 'asyncio', 'click', 'runpy', 'datetime', 'enum'))))"
    )
    payload = json.dumps(
        {
            "session_id": "s1",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "echo hi"},
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", code, payload], capture_output=True, text=True, timeout=60
    )
    assert '"deny"' in done.stdout  # it ran: no session, so it failed closed
    loaded = done.stdout.split("LOADED:")[1].strip()
    assert loaded == "", loaded
