"""A full disk: a session still opens (a torn tail is cut without its copy when there
is no room for one, and it says so); a coordinator holds every command while nothing
can be recorded, says so, and goes on by itself once there is room.

The disk is a real small filesystem (a tmpfs mounted for the test, as root); where
mounting is not permitted the opening test injects ENOSPC at the os.write boundary
instead, and the coordinator test is skipped, saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentshell.store import log as store_log
from agentshell.store.session import SessionManager
from tests.polling import until


def _mount_tmpfs(size: str) -> Path | None:
    """A fresh tmpfs of ``size`` (None when mounting is not permitted here)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return None
    d = Path(tempfile.mkdtemp(prefix="as-full-"))
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(d)],
        capture_output=True,
        check=False,
    )
    if r.returncode != 0:
        d.rmdir()
        return None
    return d


@contextlib.contextmanager
def small_disk(size: str = "4m") -> Iterator[Path]:
    d = _mount_tmpfs(size)
    if d is None:
        pytest.skip("mounting a small tmpfs is not permitted here (needs root)")
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], check=False)
        with contextlib.suppress(OSError):
            d.rmdir()


def fill(disk: Path, name: str = "filler") -> Path:
    """Fill ``disk`` to the last byte with one file; its path (delete it for room)."""
    p = disk / name
    chunk = b"\0" * 65536
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while True:
            try:
                os.write(fd, chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
        for size in (4096, 512, 64, 1):  # the last partial blocks too
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return p


def _torn_session(base: Path) -> Path:
    with SessionManager("s", base) as sm:
        for i in range(50):
            sm.record_event("directory_changed", "a", {"path": f"/p/{i}"})
    log_path = base / "s" / "events.log"
    with open(log_path, "ab") as f:
        f.write(b"\x00\x00\x10\x00garbage-of-a-torn-write" * 40)  # a record cut short
    return log_path


def test_a_session_opens_on_a_full_disk_cutting_the_tail_without_its_copy() -> None:
    with small_disk("2m") as disk:
        log_path = _torn_session(disk / "data")
        size_before = log_path.stat().st_size
        fill(disk)
        with SessionManager("s", disk / "data") as sm:
            assert sm.state["event_count"] == 50
            r = sm.recovery
            assert r.cut_bytes > 0 and r.broken_path is None
            assert r.copy_error is not None and "no room" in r.copy_error
            [note] = [n for n in sm.open_notes() if "cut" in n]
            assert "not kept" in note and "disk is full" in note
        assert log_path.stat().st_size == size_before - r.cut_bytes
        assert not list(log_path.parent.glob("events.log.broken*"))


def test_no_room_for_the_copy_injected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same without a mount: ENOSPC injected where the copy is written."""
    log_path = _torn_session(tmp_path / "data")
    real_write = os.write

    def write(fd: int, data: bytes | memoryview) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".broken"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(store_log.os, "write", write)
    with SessionManager("s", tmp_path / "data") as sm:
        assert sm.state["event_count"] == 50
        assert sm.recovery.broken_path is None and sm.recovery.copy_error
    assert not list(log_path.parent.glob("events.log.broken*"))
    monkeypatch.undo()
    # with room, the copy is kept as before
    _torn_session(tmp_path / "data2")
    with SessionManager("s", tmp_path / "data2") as sm:
        assert sm.recovery.broken_path is not None and sm.recovery.copy_error is None


async def test_a_full_disk_holds_every_command_until_there_is_room(tmp_path: Path) -> None:
    from agentshell.client import AgentClient
    from agentshell.coordinator import writer as writer_mod
    from agentshell.coordinator.coordinator import Coordinator
    from agentshell.core import events as ev
    from agentshell.server.server import Server
    from tests.server.conftest import short_dir

    with small_disk("4m") as disk:
        root = short_dir()
        project = tmp_path / "proj"  # the commands' own files are on a disk with room
        project.mkdir()
        sm = SessionManager("s", disk / "data")
        co = Coordinator(sm, project_dir=project, user_rc=False)
        co.writer.room_needed = 64 << 10
        server = Server(co, root / "run" / "s.sock")
        await co.start()
        await server.start()
        try:
            token = await co.add_agent("bot", ["run", "read"])
            agent = await AgentClient.connect(server.socket_path, "bot", token)
            op = await AgentClient.connect(server.socket_path, operator=True)
            first = await agent.propose("echo first > first-marker")
            filler = fill(disk)

            async def pad() -> None:  # the log's last page had room: use it up
                while co.writer.held is None and not co.writer.recoveries:
                    await co.writer.record(ev.DirectoryChanged(path="/p" * 2000))

            padding = asyncio.ensure_future(pad())
            held = await until(lambda: co.writer.held, what="the coordinator holding")
            # nothing more can be recorded: the approval waits, nothing runs
            approving = asyncio.ensure_future(op.approve(first))
            proposing = asyncio.ensure_future(agent.run("echo second > second-marker"))
            assert "every command is held" in held
            await until(lambda: len(co.writer._held) >= 3, what="the requests held")
            reply = await op.request("approvals")
            assert "held" in reply["held"]
            assert not approving.done() and not proposing.done()
            assert not (project / "first-marker").exists()
            assert not (project / "second-marker").exists()
            # `agentshell approvals` says why
            env = dict(os.environ)
            r = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "agentshell",
                "approvals",
                "--socket",
                str(server.socket_path),
                env=env,
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await asyncio.wait_for(r.communicate(), 60)
            assert out.startswith(b"HELD: the event log cannot be written"), out
            # room again: it goes on by itself
            filler.unlink()
            await asyncio.wait_for(approving, 30)
            await asyncio.wait_for(padding, 30)
            await until(lambda: co.writer.held is None, what="the log recording again")
            assert co.writer.recoveries == 1
            [a] = await until(
                lambda: [a for a in co.approvals() if a.status == "queued"],
                what="the second proposal queued after the hold",
            )
            await op.approve(a.approval_id)
            res = await asyncio.wait_for(proposing, 30)
            assert res.exit_code == 0
            await until(lambda: (project / "first-marker").exists(), what="first ran")
            assert (project / "second-marker").read_text() == "second\n"
            await agent.close()
            await op.close()
        finally:
            await server.close()
            await co.stop()
            sm.close()
            shutil.rmtree(root, ignore_errors=True)
        # everything that ran is in the log, once
        with SessionManager("s", disk / "data") as again:
            ran = [e.command for e in again.iter_events(types={"command_executed"})]
            assert sorted(ran) == ["echo first > first-marker", "echo second > second-marker"]
            executing = [
                e for e in again.iter_events(types={"approval_executed"}) if e.status == "executing"
            ]
            assert len(executing) == 2
    assert writer_mod.NOT_HELD  # output is the one thing not held
