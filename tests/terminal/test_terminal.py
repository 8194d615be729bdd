"""A real shell in a real PTY."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from agentshell.core.events import TerminalClosed, TerminalInput, TerminalOutput
from agentshell.terminal import (
    CommandTimeout,
    Emulator,
    Terminal,
    TerminalBusyError,
    TerminalClosedError,
    session_sink,
)
from tests.terminal.conftest import until


async def test_run_reports_exit_code_and_output_without_prompt_or_echo(term: Terminal) -> None:
    r = await term.run("echo hi; (exit 3)")
    assert r.exit_code == 3
    assert r.output == "hi\n"
    assert r.raw_output == b"hi\r\n"
    assert r.command == "echo hi; (exit 3)" and r.duration >= 0 and r.started_at > 0
    r = await term.run("true")
    assert (r.exit_code, r.output) == (0, "")
    r = await term.run("printf 'a\\nb'; false")
    assert (r.exit_code, r.output) == (1, "a\nb")
    # run() returns at the "finished" mark; the next prompt's mark may come in a later read
    await until(lambda: term.at_prompt, what="the prompt after the command")
    # the screen shows it (run returns after the output was emulated)
    assert "hi" in term.frame().display[-24:][1] or any(
        line.rstrip() == "hi" for line in term.frame().display
    )


async def test_cwd_follows_the_shell(term: Terminal, tmp_path: Path) -> None:
    (tmp_path / "sub dir").mkdir()
    await term.run("cd 'sub dir'")
    assert term.cwd == str(tmp_path / "sub dir")


async def test_multiline_command(term: Terminal) -> None:
    r = await term.run("for i in 1 2 3; do\n  echo n$i\ndone")
    assert r.output == "n1\nn2\nn3\n" and r.exit_code == 0


async def test_timeout_sends_ctrl_c_and_terminal_stays_usable(term: Terminal) -> None:
    with pytest.raises(CommandTimeout) as info:
        await term.run("echo started; sleep 30", timeout=0.5)
    assert info.value.recovered
    assert "started" in info.value.output
    assert "did not finish within 0.5 s" in str(info.value)
    r = await term.run("echo still here")
    assert (r.exit_code, r.output) == (0, "still here\n")


async def test_killed_shell_is_reported_and_can_restart(
    tmp_path: Path, shell_env: dict[str, str]
) -> None:
    events: list[tuple[str, bytes]] = []
    exits: list[int | None] = []
    t = Terminal(
        shell="/bin/bash",
        cwd=tmp_path,
        env=shell_env,
        user_rc=False,
        sink=lambda k, d: events.append((k, d)),
        on_exit=lambda _t, status: exits.append(status),
    )
    await t.start()
    try:
        await t.run("true")
        pid = t.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await until(lambda: t.closed, what="terminal closed")
        assert exits == [-signal.SIGKILL]
        closed = [json.loads(d) for k, d in events if k == "closed"]
        assert closed == [{"terminal": "main", "reason": "killed by SIGKILL", "exit_status": -9}]
        with pytest.raises(TerminalClosedError, match="restart"):
            await t.run("echo hi")
        with pytest.raises(TerminalClosedError):
            t.send(b"x")
        await t.restart()
        assert t.pid != pid and not t.closed
        r = await t.run("echo back")
        assert r.output == "back\n"
    finally:
        await t.close()


async def test_shell_exit_status_is_reported(term: Terminal) -> None:
    term.send(b"exit 5\r")
    await until(lambda: term.closed, what="shell exit")
    assert term.exit_status == 5
    with pytest.raises(TerminalClosedError, match="exit status 5"):
        await term.run("true")


async def test_resize_reaches_the_program(term: Terminal) -> None:
    term.resize(100, 30)
    r = await term.run("stty size")
    assert r.output == "30 100\n"
    f = term.frame()
    assert (f.columns, f.rows) == (100, 30)


async def test_device_status_reply_goes_back_to_the_program(term: Terminal) -> None:
    r = await term.run("IFS= read -rs -d R -p $'\\e[6n' pos; echo \"got ${pos#*[}\"")
    row, col = r.output.split()[1].split(";")
    assert int(row) >= 1 and col == "1"


async def test_close_leaves_no_zombie_and_no_fd(tmp_path: Path, shell_env: dict[str, str]) -> None:
    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    await asyncio.sleep(0)
    before = fds()
    t = Terminal(shell="/bin/bash", cwd=tmp_path, env=shell_env, user_rc=False)
    await t.start()
    await t.run("sleep 0 &")
    pid = t.pid
    assert pid is not None
    await t.close()
    assert t.closed
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped by close()
    assert not Path(f"/proc/{pid}").exists()
    assert fds() == before
    await t.close()  # idempotent


async def test_backpressure_bounds_the_backlog_and_blocks_the_child(
    tmp_path: Path, shell_env: dict[str, str]
) -> None:
    out = bytearray()
    t = Terminal(
        shell="/bin/bash",
        cwd=tmp_path,
        env=shell_env,
        user_rc=False,
        high_water=256 << 10,
        low_water=64 << 10,
        sink=lambda k, d: out.extend(d) if k == "output" else None,
    )
    await t.start()
    try:
        await t.wait_for_prompt()
        t.pause()  # nobody emulates: only reading goes on
        total = 20_000_000
        task = asyncio.create_task(t.run(f"head -c {total} /dev/zero | tr '\\0' '\\132'"))
        await until(lambda: not t.reading, what="reading to stop at the high-water mark")
        assert t.backlog_size <= (256 << 10) + (64 << 10)
        # the writer is blocked in the kernel, waiting for room in the PTY
        writer = _child_named(t.pid, "tr")
        await until(lambda: _blocked_writing(writer), what="tr blocked on write")
        read_then = t._bytes_read
        assert read_then < total // 4
        assert not task.done()
        t.resume()
        r = await asyncio.wait_for(task, 60)
        assert r.exit_code == 0
        await t.flush()
        assert bytes(out).count(b"Z") == total
        assert t.backlog_size == 0 and t.reading
    finally:
        await t.close()


def _child_named(shell_pid: int | None, name: str) -> int:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if comm == name and ppid == shell_pid:
            return int(entry)
    raise AssertionError(f"no child {name!r} of {shell_pid}")


def _blocked_writing(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat").read_text()
    state = stat[stat.rindex(")") + 2]
    wchan = Path(f"/proc/{pid}/wchan").read_text()
    return state == "S" and ("tty" in wchan or "wait_woken" in wchan or wchan == "0")


async def test_sink_gets_every_byte_and_replays_the_screen(
    tmp_path: Path, shell_env: dict[str, str]
) -> None:
    batches: list[tuple[str, bytes]] = []
    t = Terminal(
        shell="/bin/bash",
        cwd=tmp_path,
        env=shell_env,
        user_rc=False,
        columns=80,
        lines=24,
        sink=lambda k, d: batches.append((k, d)),
    )
    await t.start()
    try:
        r = await t.run("seq 1 30000; printf '\\033[31mred\\033[0m\\n'")
        expected = "".join(f"{i}\r\n" for i in range(1, 30001)).encode()
        assert r.raw_output == expected + b"\x1b[31mred\x1b[0m\r\n"
        await t.flush()
        output = b"".join(d for k, d in batches if k == "output")
        assert expected + b"\x1b[31mred\x1b[0m\r\n" in output
        # batched per tick, not per read
        assert len([k for k, _ in batches if k == "output"]) < len(output) // 4096 + 50
        inputs = b"".join(d for k, d in batches if k == "input")
        assert b"seq 1 30000" in inputs
        replay = Emulator(80, 24)
        replay.feed(output)
        assert replay.display == t.frame().display
    finally:
        await t.close()


async def test_listener_gets_dirty_rows(term: Terminal) -> None:
    seen: list[set[int]] = []
    remove = term.add_listener(seen.append)
    await term.run("echo listener")
    assert seen and all(isinstance(rows, set) and rows for rows in seen)
    remove()
    n = len(seen)
    await term.run("echo again")
    assert len(seen) == n


async def test_frames_share_unchanged_lines_on_a_live_terminal(term: Terminal) -> None:
    await term.run("clear; echo one")
    await term.wait_for_prompt()  # the prompt follows the command's D mark
    await term.flush()
    f1 = term.frame()
    term.send(b"x")
    await until(lambda: "x" in "".join(term.emulator.display), what="echo of x")
    await term.flush()
    f2 = term.frame()
    changed = [i for i in range(f1.rows) if f2.lines[i] is not f1.lines[i]]
    assert changed == [f2.cursor[1]]


async def test_session_log_sink(tmp_path: Path, shell_env: dict[str, str]) -> None:
    from agentshell.store.session import SessionManager

    with SessionManager(session_name="s", persist_dir=tmp_path / "sessions") as session:
        t = Terminal(
            shell="/bin/bash",
            cwd=tmp_path,
            env=shell_env,
            user_rc=False,
            name="t1",
            sink=session_sink(session, "t1"),
        )
        await t.start()
        await t.run("echo logged-output")
        await t.close()
        events = list(session.iter_events())
    out = b"".join(e.data for e in events if isinstance(e, TerminalOutput))
    assert b"logged-output\r\n" in out
    assert any(isinstance(e, TerminalInput) and b"echo logged" in e.data for e in events)
    closed = [e for e in events if isinstance(e, TerminalClosed)]
    assert len(closed) == 1 and closed[0].terminal == "t1"
    assert events[0].event_type == "terminal_opened"


@pytest.mark.skipif(shutil.which("dash") is None, reason="dash not installed")
async def test_posix_sh_integration(tmp_path: Path, shell_env: dict[str, str]) -> None:
    t = Terminal(shell="/bin/dash", cwd=tmp_path, env=shell_env, user_rc=False)
    await t.start()
    try:
        r = await t.run("echo hi; (exit 4)")
        assert (r.exit_code, r.output) == (4, "hi\n")
        await t.run("cd /")
        assert t.cwd == "/"
    finally:
        await t.close()


async def test_run_while_a_program_runs_is_a_clear_error(term: Terminal) -> None:
    await term.wait_for_prompt()
    term.send(b"sleep 30\r")
    await until(lambda: not term.at_prompt, what="the command to start")
    with pytest.raises(TerminalBusyError, match="still running"):
        await term.run("echo hi", prompt_timeout=0.2)
    term.send(b"\x03")
    await term.wait_for_prompt()
    assert (await term.run("echo ok")).output == "ok\n"


async def test_tab_and_special_characters_are_typed_literally(term: Terminal) -> None:
    r = await term.run("echo 'a\tb' \"$((6*7))\" ~nonexistent-user-x")
    assert r.output == "a\tb 42 ~nonexistent-user-x\n"


async def test_slices_cut_at_deadlines_give_the_screen_of_one_feed(
    tmp_path: Path, shell_env: dict[str, str]
) -> None:
    """A slice budget so small that every feed stops at its deadline and holds the
    rest: ``run`` still resolves only once everything read is emulated, and the screen
    and scrollback are those of one emulator fed all the output at once."""
    from benchmarks.terminal_corpus import corpus

    log = tmp_path / "mix.out"
    log.write_bytes(corpus("mix", 300_000))
    batches: list[tuple[str, bytes]] = []
    t = Terminal(
        shell="/bin/bash",
        cwd=tmp_path,
        env=shell_env,
        user_rc=False,
        columns=120,
        lines=30,
        slice_budget=0.0002,
        sink=lambda k, d: batches.append((k, d)),
    )
    await t.start()
    held = 0
    feed = t.emulator.feed

    def counting_feed(data: bytes, deadline: float | None = None) -> None:
        nonlocal held
        feed(data, deadline)
        held += t.emulator.held

    t.emulator.feed = counting_feed  # type: ignore[method-assign]
    try:
        r = await t.run(f"cat {log}", timeout=120)
        assert r.exit_code == 0
        assert held > 0, "no feed stopped at its deadline"
        await t.flush()
        screen = t.frame().display
        output = b"".join(d for k, d in batches if k == "output")
        replay = Emulator(120, 30)
        replay.feed(output)
        assert replay.display == screen
        assert [line.text for line in replay.history] == [line.text for line in t.emulator.history]
    finally:
        await t.close()
