"""One writer per session across processes (the session lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agentshell.core import events as ev
from agentshell.core.errors import SessionLockedError
from agentshell.store.session import SessionManager

HOLDER = """
import sys
from agentshell.store.session import SessionManager
sm = SessionManager("s", sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
sm.close()
print("closed", flush=True)
"""


def _holder(persist: Path) -> subprocess.Popen[str]:
    p = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(persist)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    return p


def test_a_second_process_cannot_open_a_session_that_is_open(tmp_path: Path) -> None:
    SessionManager("s", tmp_path).close()
    log = tmp_path / "s" / "events.log"
    before = log.read_bytes()
    holder = _holder(tmp_path)
    try:
        with pytest.raises(SessionLockedError) as err:
            SessionManager("s", tmp_path)
        assert err.value.pid == holder.pid
        assert f"process {holder.pid}" in str(err.value) and "--socket" in str(err.value)
        assert log.read_bytes() == before  # the refused opener wrote nothing
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "closed"
    finally:
        holder.kill()
        holder.wait(10)
    with SessionManager("s", tmp_path) as sm:  # free again once the holder closed it
        sm.append(ev.DirectoryChanged(path="/x"))


def test_a_killed_holder_never_leaves_the_session_locked(tmp_path: Path) -> None:
    holder = _holder(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(10)
    with SessionManager("s", tmp_path) as sm:
        assert sm.last_seq == 0


def test_the_same_process_cannot_open_it_twice_either(tmp_path: Path) -> None:
    with SessionManager("s", tmp_path):
        with pytest.raises(SessionLockedError):
            SessionManager("s", tmp_path)
        with SessionManager("other", tmp_path):  # other sessions are independent
            pass
    SessionManager("s", tmp_path).close()
