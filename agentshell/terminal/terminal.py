"""One shell in a PTY, emulated, with command boundaries from shell integration.

Reading never blocks the loop (``loop.add_reader``) and never parses: bytes go to
a backlog. A tick (about 30 Hz, at once when the terminal was idle or a prompt mark
arrived) feeds the backlog to the emulator in time slices (``slice_budget`` seconds,
then it yields to the loop). Above ``high_water`` bytes of backlog the PTY is not
read any more, so the child blocks on write; reading resumes below ``low_water``.

The sink receives batches ``(kind, data)`` once per tick, in order:

* ``"output"``: bytes the program wrote (everything, byte for byte; replay feeds
  these to an emulator);
* ``"input"``: bytes written to the program (typed, sent by ``run``, or answers to
  device queries);
* ``"opened"``, ``"resized"``, ``"closed"``: JSON objects shaped like the
  ``TerminalOpened``/``TerminalResized``/``TerminalClosed`` events' payloads;
* ``"cwd"``: the new working directory (UTF-8) reported by the shell.

A sink may return an awaitable (``SessionManager.append_async``); it is scheduled
as a task at once, so the call order is the log order.
"""

from __future__ import annotations

import asyncio
import errno
import inspect
import json
import os
import re
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptyprocess import PtyProcess

from agentshell.terminal.emulator import Emulator
from agentshell.terminal.errors import (
    CommandTimeout,
    ShellIntegrationError,
    TerminalBusyError,
    TerminalClosedError,
    TerminalError,
)
from agentshell.terminal.frames import Frame
from agentshell.terminal.marks import Mark, MarkScanner
from agentshell.terminal.shell_integration import SH_C_PREFIX, default_shell, prepare

#: Output that pauses this long (seconds) is shown at once, not at the next tick.
QUIET = 0.002

Sink = Callable[[str, bytes], Awaitable[Any] | None]
Listener = Callable[[set[int]], None]

_OVERWRITTEN = re.compile(r"[^\n]*\r(?=[^\r\n])")
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[ -/]*[0-~]"
)


def clean_output(raw: bytes) -> str:
    """Command output as text: UTF-8 (invalid bytes replaced), escape sequences
    removed, CR LF -> LF, and of a line rewritten with CR only the last version kept."""
    text = _ESCAPES.sub("", raw.decode("utf-8", "replace")).replace("\r\n", "\n")
    if "\r" in text:
        text = _OVERWRITTEN.sub("", text).replace("\r", "")
    return text


@dataclass(frozen=True, slots=True)
class CommandResult:
    """``output``: see :func:`clean_output`; ``raw_output``: the bytes between the
    command's C and D marks, as the program wrote them (the last ``output_limit``
    bytes, default 1 MiB; ``truncated`` counts what was dropped before them)."""

    command: str
    exit_code: int | None
    output: str
    started_at: float
    duration: float
    raw_output: bytes = b""
    #: Bytes of output dropped from the front (only the last ``output_limit`` are kept).
    truncated: int = 0


class _Pending:
    __slots__ = (
        "command",
        "done_at",
        "dropped",
        "exit_code",
        "future",
        "output",
        "started",
        "started_at",
    )

    def __init__(self, command: str, future: asyncio.Future[None]) -> None:
        self.command = command
        self.future = future
        self.started = False
        self.output = bytearray()
        self.dropped = 0
        self.exit_code: int | None = None
        self.done_at: int | None = None
        self.started_at = time.time()


class Terminal:
    def __init__(
        self,
        shell: str | None = None,
        cwd: str | os.PathLike[str] | None = None,
        columns: int = 200,
        lines: int = 50,
        env: dict[str, str] | None = None,
        name: str = "main",
        sink: Sink | None = None,
        scrollback: int = 10000,
        *,
        on_exit: Callable[[Terminal, int | None], None] | None = None,
        user_rc: bool = True,
        high_water: int = 4 << 20,
        low_water: int = 1 << 20,
        tick_interval: float = 1 / 30,
        slice_budget: float = 0.005,
        output_limit: int = 1 << 20,
    ) -> None:
        self.shell = shell or default_shell()
        self.start_cwd = str(cwd) if cwd is not None else os.getcwd()
        self.name = name
        self.env = dict(env) if env is not None else None
        self.sink = sink
        self.on_exit = on_exit
        self.user_rc = user_rc
        self.high_water = high_water
        self.low_water = min(low_water, high_water)
        self.tick_interval = tick_interval
        self.slice_budget = slice_budget
        self.output_limit = max(1, output_limit)
        self.emulator = Emulator(columns, lines, scrollback, self._reply)
        self._proc: Any = None
        self._fd = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rcdir: tempfile.TemporaryDirectory[str] | None = None
        self._native_c = True
        self._kind = "bash"
        self._closed = True
        self._started = False
        self.exit_status: int | None = None
        self.close_reason = ""
        self._reset_session_state()
        self._listeners: list[Listener] = []
        self._paused = False
        self._sink_tasks: set[asyncio.Task[Any]] = set()

    def _reset_session_state(self) -> None:
        self._backlog: list[bytes] = []
        self._backlog_size = 0
        self._bytes_read = 0
        self._bytes_fed = 0
        self._reading = False
        self._tick_handle: asyncio.Handle | None = None
        self._quiet_handle: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._tick_urgent = False
        self._last_tick = 0.0
        # start small: the first slice runs before any rate is measured (256 KB took
        # tens of ms, one long loop callback); the measured rate grows it at once
        self._slice_bytes = 32 * 1024
        self._feed_rate = 0.0  # bytes/s of the last slice
        self._batches: list[tuple[str, bytearray]] = []
        self._scanner = MarkScanner()
        self._pending: _Pending | None = None
        self._at_prompt = False
        self._prompt = asyncio.Event()
        self._seen_prompt = False
        self._cwd = self.start_cwd
        self._stale: set[int] = set()
        self._cursor_seen = (-1, -1)
        self._wbuf = bytearray()
        self._writing = False
        self._run_lock = asyncio.Lock()
        self._closing: asyncio.Future[None] | None = None
        self._hangup = False  # the PTY reported EOF/EIO, or close() began
        self._eof_task: asyncio.Future[None] | None = None

    # ------------------------------------------------------------ properties

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def busy(self) -> bool:
        """True while a command runs: the shell has shown a prompt before and is not
        at one now (whoever typed the command: the human, an agent, :meth:`run`)."""
        return self._seen_prompt and not self._at_prompt and not self._closed

    @property
    def at_prompt(self) -> bool:
        """True between the shell's prompt (B mark) and the start of a command."""
        return self._at_prompt and not self._closed

    @property
    def cwd(self) -> str:
        """The shell's working directory as it last reported it (OSC 7)."""
        return self._cwd

    @property
    def backlog_size(self) -> int:
        """Bytes read from the PTY and not yet emulated."""
        return self._backlog_size

    @property
    def reading(self) -> bool:
        """False while backpressure holds the PTY unread."""
        return self._reading

    @property
    def columns(self) -> int:
        return int(self.emulator.columns)

    @property
    def lines(self) -> int:
        return int(self.emulator.lines)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the shell. Returns at once; ``run`` waits for the first prompt."""
        if not self._closed:
            return
        if not os.path.isdir(self.start_cwd):
            raise TerminalError(
                f"terminal {self.name!r}: cannot start a shell in {self.start_cwd!r}: "
                "no such directory"
            )
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._reset_session_state()
        self._rcdir = tempfile.TemporaryDirectory(prefix="agentshell-rc-")
        launch = prepare(self.shell, Path(self._rcdir.name), user_rc=self.user_rc)
        self._native_c = launch.native_c_mark
        self._kind = launch.kind
        env = dict(os.environ if self.env is None else self.env)
        env.update(launch.env)
        if self.env is None or "TERM" not in self.env:
            env["TERM"] = "xterm-256color"
        env["AGENTSHELL_TERMINAL"] = self.name
        env.pop("COLUMNS", None)
        env.pop("LINES", None)
        start_cwd = self.start_cwd

        def enter_cwd() -> None:  # in the child: an error here is reported, not run on
            os.chdir(start_cwd)

        # ptyprocess's own cwd= runs chdir in the forked child unguarded: a directory
        # gone since the check would leave a copy of this process running on there
        self._proc = PtyProcess.spawn(
            launch.argv,
            env=env,
            dimensions=(self.emulator.lines, self.emulator.columns),
            preexec_fn=enter_cwd,
        )
        self._fd = self._proc.fd
        os.set_blocking(self._fd, False)
        self._closed = False
        self._started = True
        self.exit_status = None
        self.close_reason = ""
        loop.add_reader(self._fd, self._on_readable)
        self._reading = True
        self._emit_json(
            "opened",
            {
                "terminal": self.name,
                "cwd": self.start_cwd,
                "columns": self.columns,
                "lines": self.lines,
                "shell": self.shell,
            },
        )

    async def close(self, timeout: float = 2.0) -> None:
        """Hang up the shell (SIGHUP, SIGKILL after ``timeout``), reap it, close the PTY."""
        if self._closed:
            await self._drain_sink()
            return
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_future()
            self._stop_reading()
            pid = self._proc.pid
            self._signal(signal.SIGHUP)
            self._signal(signal.SIGCONT)
            status = await self._reap(pid, timeout)
            if status is None:
                self._signal(signal.SIGKILL)
                status = await self._reap(pid, 5.0)
            self._finish(status, "closed")
        else:
            await asyncio.shield(self._closing)
        await self._drain_sink()

    async def restart(self) -> None:
        """Close (if needed) and start a new shell; the screen and scrollback are reset."""
        await self.close()
        self.emulator.reset()
        self.emulator.history.clear()
        await self.start()

    def _signal(self, sig: int) -> None:
        try:
            os.kill(self._proc.pid, sig)
        except ProcessLookupError:
            pass

    async def _reap(self, pid: int, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            try:
                got, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return self.exit_status
            if got == pid:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _finish(self, status: int | None, reason: str) -> None:
        """The shell is gone: flush, close the fd, report, fail waiters."""
        if self._closed:
            return
        self._hangup = True
        self._drain_backlog()
        held = self._scanner.flush()
        if held:
            self._consume_plain(held)
        self._stop_reading()
        self._closed = True
        self.exit_status = status
        self.close_reason = reason
        if self._tick_handle is not None:
            self._tick_handle.cancel()
            self._tick_handle = None
        if self._quiet_handle is not None:
            self._quiet_handle.cancel()
            self._quiet_handle = None
        if self._loop is not None and self._writing:
            self._loop.remove_writer(self._fd)
            self._writing = False
        try:
            self._proc.fileobj.close()
        except OSError:
            pass
        self._proc.closed = True
        self._fd = -1
        if self._rcdir is not None:
            self._rcdir.cleanup()
            self._rcdir = None
        self._emit_json("closed", {"terminal": self.name, "reason": reason, "exit_status": status})
        self._flush_sink()
        pending = self._pending
        self._pending = None
        if pending is not None and not pending.future.done():
            pending.future.set_exception(TerminalClosedError(self.name, status, reason))
        self._prompt.set()  # wake waiters; they see closed
        if self._closing is not None and not self._closing.done():
            self._closing.set_result(None)
        self._notify(set(range(self.lines)))
        if self.on_exit is not None:
            self.on_exit(self, status)

    def _check_open(self) -> None:
        if self._closed:
            if not self._started:
                raise TerminalClosedError(self.name, None, "not started")
            raise TerminalClosedError(self.name, self.exit_status, self.close_reason)

    # ------------------------------------------------------------ reading

    def _stop_reading(self) -> None:
        if self._reading and self._loop is not None and self._fd >= 0:
            self._loop.remove_reader(self._fd)
        self._reading = False

    def _on_readable(self) -> None:
        got = 0
        eof = False
        urgent = False
        # bounded in bytes and in time: reading and scanning 1 MB in one callback held
        # the loop for tens of ms; the reader is called again at once while data waits
        deadline = time.perf_counter() + self.slice_budget / 2
        while (
            got < (1 << 20)
            and self._backlog_size < self.high_water
            and (not got or time.perf_counter() < deadline)
        ):
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno != errno.EIO:
                    raise
                eof = True
                break
            if not data:
                eof = True
                break
            got += len(data)
            self._backlog.append(data)
            self._backlog_size += len(data)
            self._bytes_read += len(data)
            self._batch("output", data)
            urgent |= self._scan(data)
        if eof:
            self._hangup = True
            self._stop_reading()
            self._eof_task = asyncio.ensure_future(self._on_eof())
            return
        if self._backlog_size >= self.high_water:
            self._stop_reading()
        if self._loop is not None:
            self._last_read = self._loop.time()
        self._schedule_tick(urgent)

    async def _on_eof(self) -> None:
        pid = self._proc.pid
        status = await self._reap(pid, 2.0)
        if status is None:  # the PTY hung up but the process lingers: finish it
            self._signal(signal.SIGKILL)
            status = await self._reap(pid, 5.0)
        if status is not None and status < 0:
            reason = f"killed by {signal.Signals(-status).name}"
        else:
            reason = "shell exited"
        self._finish(status, reason)

    def _consume_plain(self, data: bytes) -> None:
        p = self._pending
        if p is not None and p.started and p.done_at is None:
            p.output += data
            if len(p.output) > 2 * self.output_limit:
                p.dropped += len(p.output) - self.output_limit
                del p.output[: -self.output_limit]

    def _scan(self, data: bytes) -> bool:
        urgent = False
        for item in self._scanner.feed(data):
            if isinstance(item, bytes):
                self._consume_plain(item)
                continue
            self._on_mark(item)
            urgent = True
        return urgent

    def _on_mark(self, mark: Mark) -> None:
        p = self._pending
        if mark.kind == "B":
            self._at_prompt = True
            self._seen_prompt = True
            self._prompt.set()
        elif mark.kind == "A":
            self._seen_prompt = True
        elif mark.kind == "C":
            self._at_prompt = False
            self._prompt.clear()
            if p is not None and not p.started:
                p.started = True
        elif mark.kind == "D":
            if p is not None and p.started and p.done_at is None:
                p.exit_code = mark.exit_code
                p.done_at = self._bytes_read
        elif mark.kind == "cwd" and mark.path and mark.path != self._cwd:
            self._cwd = mark.path
            self._batch("cwd", mark.path.encode())

    # ------------------------------------------------------------ ticking

    def pause(self) -> None:
        """Stop emulating (reading goes on until the backlog reaches ``high_water``)."""
        self._paused = True
        if self._tick_handle is not None:
            self._tick_handle.cancel()
            self._tick_handle = None

    def resume(self) -> None:
        self._paused = False
        self._schedule_tick(True)

    def _schedule_tick(self, urgent: bool = False) -> None:
        loop = self._loop
        if loop is None or self._closed or self._paused:
            return
        now = loop.time()
        if self._tick_handle is not None:
            if not urgent or self._tick_urgent:
                return
            self._tick_handle.cancel()
        delay = 0.0 if urgent else max(0.0, self._last_tick + self.tick_interval - now)
        self._tick_urgent = urgent or delay == 0.0
        if delay == 0.0:
            self._tick_handle = loop.call_soon(self._tick)
        else:
            self._tick_handle = loop.call_later(delay, self._tick)
            if delay > QUIET and self._quiet_handle is None:
                self._quiet_handle = loop.call_later(QUIET, self._quiet_check)

    def _quiet_check(self) -> None:
        """The program went quiet (no output for QUIET s): show what it wrote now
        instead of at the next 30 Hz tick."""
        self._quiet_handle = None
        loop = self._loop
        if loop is None or self._tick_handle is None or self._tick_urgent or self._paused:
            return
        idle = loop.time() - self._last_read
        if idle >= QUIET * 0.9:
            self._schedule_tick(True)
        else:
            self._quiet_handle = loop.call_later(QUIET - idle, self._quiet_check)

    def _tick(self) -> None:
        self._tick_handle = None
        if self._loop is None or self._paused:
            return
        self._last_tick = self._loop.time()
        self._flush_sink()
        deadline = time.perf_counter() + self.slice_budget
        emu = self.emulator
        while self._backlog or emu.held:
            if emu.held:  # the last slice stopped at its deadline: go on with it first
                emu.feed(b"", deadline)
            else:
                t0 = time.perf_counter()
                limit = self._slice_bytes
                if self._feed_rate > 0:  # the last slice ends by the deadline, not after it
                    limit = max(4 << 10, min(limit, int(self._feed_rate * (deadline - t0))))
                fed = self._feed_slice(limit, deadline)
                dt = time.perf_counter() - t0
                if fed >= 4 << 10 and dt > 0 and not emu.held:  # aim at half the budget
                    self._feed_rate = rate = fed / dt
                    self._slice_bytes = int(
                        min(8 << 20, max(16 << 10, rate * self.slice_budget / 2))
                    )
            if time.perf_counter() >= deadline:
                break
        self._after_feed()
        if self._backlog or emu.held:
            self._tick_handle = self._loop.call_soon(self._tick)
            self._tick_urgent = True

    def _feed_slice(self, limit: int, deadline: float | None = None) -> int:
        parts: list[bytes] = []
        size = 0
        backlog = self._backlog
        while backlog and size < limit:
            chunk = backlog[0]
            room = limit - size
            if len(chunk) > room:
                parts.append(chunk[:room])
                backlog[0] = chunk[room:]
                size += room
                break
            parts.append(backlog.pop(0))
            size += len(chunk)
        if size:
            self.emulator.feed(b"".join(parts), deadline)
            self._backlog_size -= size
            self._bytes_fed += size
        return size

    def _drain_backlog(self) -> None:
        if self.emulator.held:
            self.emulator.feed(b"")
        while self._backlog:
            self._feed_slice(8 << 20)
        self._after_feed()

    def _after_feed(self) -> None:
        if (
            not self._reading
            and not self._closed
            and not self._hangup
            and self._closing is None
            and self._backlog_size <= self.low_water
            and self._loop is not None
        ):
            self._loop.add_reader(self._fd, self._on_readable)
            self._reading = True
        emu = self.emulator
        dirty = emu.dirty
        cursor = emu.cursor_position_xy
        if cursor != self._cursor_seen:
            if 0 <= self._cursor_seen[1] < emu.lines:
                dirty.add(self._cursor_seen[1])
            dirty.add(cursor[1])
            self._cursor_seen = cursor
        if dirty:
            emu.dirty = set()
            self._stale |= dirty
            self._notify(dirty)
        p = self._pending
        if (
            p is not None
            and p.done_at is not None
            and self._bytes_fed >= p.done_at
            and not self.emulator.held
            and not p.future.done()
        ):
            p.future.set_result(None)

    def _notify(self, rows: set[int]) -> None:
        for listener in list(self._listeners):
            listener(rows)

    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(dirty_rows)`` (in the loop) after each tick that changed the
        screen or moved the cursor. Returns a function that removes the listener."""
        self._listeners.append(callback)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    def frame(self) -> Frame:
        """The current screen as an immutable frame (unchanged rows shared with the
        previous frame)."""
        stale, self._stale = self._stale, set()
        stale |= self.emulator.dirty
        self.emulator.dirty = set()
        return self.emulator.frame(stale)

    async def flush(self) -> None:
        """Emulate everything read so far (tests, screenshots)."""
        self._drain_backlog()
        self._flush_sink()
        await asyncio.sleep(0)

    # ------------------------------------------------------------ sink

    def _batch(self, kind: str, data: bytes) -> None:
        if self.sink is None:
            return
        if self._batches and self._batches[-1][0] == kind and kind in ("output", "input"):
            self._batches[-1][1].extend(data)
        else:
            self._batches.append((kind, bytearray(data)))

    def _emit_json(self, kind: str, payload: dict[str, Any]) -> None:
        self._batch(kind, json.dumps(payload).encode())
        self._flush_sink()

    def _flush_sink(self) -> None:
        if self.sink is None or not self._batches:
            return
        batches, self._batches = self._batches, []
        for kind, data in batches:
            result = self.sink(kind, bytes(data))
            if result is not None and inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._sink_tasks.add(task)
                task.add_done_callback(self._sink_done)

    def _sink_done(self, task: asyncio.Future[Any]) -> None:
        self._sink_tasks.discard(task)
        if not task.cancelled():
            # retrieved here: a sink that failed (a stopped log) is reported by the
            # log's owner, not once per output batch as "exception never retrieved"
            task.exception()

    async def _drain_sink(self) -> None:
        self._flush_sink()
        if self._sink_tasks:
            await asyncio.gather(*list(self._sink_tasks), return_exceptions=True)

    # ------------------------------------------------------------ writing

    def _reply(self, data: bytes) -> None:
        if not self._closed:
            self._write(data)

    def send(self, data: bytes, *, record: bool = True) -> None:
        """Write raw input to the shell (what the human types).

        ``record=False``: the bytes are not handed to the sink as an ``input`` batch,
        for a caller that records them itself (with who typed them)."""
        self._check_open()
        self._write(data, record)
        self._schedule_tick()

    def _write(self, data: bytes, record: bool = True) -> None:
        if record:
            self._batch("input", data)
        self._wbuf += data
        self._flush_writes()

    def _flush_writes(self) -> None:
        while self._wbuf and self._fd >= 0:
            try:
                n = os.write(self._fd, self._wbuf[: 1 << 16])
            except BlockingIOError:
                break
            except OSError:
                self._wbuf.clear()
                break
            del self._wbuf[:n]
        loop = self._loop
        if loop is None or self._fd < 0:
            return
        if self._wbuf and not self._writing:
            loop.add_writer(self._fd, self._flush_writes)
            self._writing = True
        elif not self._wbuf and self._writing:
            loop.remove_writer(self._fd)
            self._writing = False

    def resize(self, columns: int, lines: int) -> None:
        """Resize the screen and the PTY (TIOCSWINSZ; the shell gets SIGWINCH)."""
        self._check_open()
        self._drain_backlog()
        self.emulator.resize(columns, lines)
        self._proc.setwinsize(self.emulator.lines, self.emulator.columns)
        self._stale |= set(range(self.lines))
        self._emit_json(
            "resized", {"terminal": self.name, "columns": self.columns, "lines": self.lines}
        )
        self._notify(set(range(self.lines)))

    # ------------------------------------------------------------ commands

    async def wait_for_prompt(self, timeout: float | None = 10.0) -> None:
        """Wait until the shell shows its prompt (raises ShellIntegrationError on timeout)."""
        self._check_open()
        try:
            await asyncio.wait_for(self._prompt.wait(), timeout)
        except TimeoutError:
            if not self._seen_prompt:
                raise ShellIntegrationError(
                    f"terminal {self.name!r}: the shell ({self.shell}) reported no prompt "
                    f"mark within {timeout:g} s; shell integration is not working"
                ) from None
            raise TerminalBusyError(
                f"terminal {self.name!r}: a program is still running (no prompt within "
                f"{timeout:g} s)"
            ) from None
        self._check_open()

    async def run(
        self, command: str, timeout: float | None = None, *, prompt_timeout: float = 10.0
    ) -> CommandResult:
        """Type ``command`` into the shell, wait for the shell to report it finished.

        Raises :class:`CommandTimeout` after ``timeout`` seconds (Ctrl-C is sent and
        the prompt awaited first), :class:`TerminalClosedError` when the shell is gone.
        """
        self._check_open()
        async with self._run_lock:
            await self.wait_for_prompt(prompt_timeout)
            loop = asyncio.get_running_loop()
            pending = _Pending(command, loop.create_future())
            self._pending = pending
            text = command.rstrip("\n")
            if not self._native_c:
                text = SH_C_PREFIX + text
            data = text.encode()
            if self.emulator.bracketed_paste:
                # pasted, the text is inserted as it is: no completion on TAB, no
                # early accept on a newline of a multi-line command
                data = b"\x1b[200~" + data + b"\x1b[201~"
            clear_line = b"\x05\x15" if self._kind in ("bash", "zsh") else b""
            started = time.perf_counter()
            self._write(clear_line + data + b"\r")
            try:
                await asyncio.wait_for(asyncio.shield(pending.future), timeout)
            except TimeoutError:
                recovered = await self._interrupt(pending)
                raise CommandTimeout(
                    command, timeout or 0.0, clean_output(bytes(pending.output)), recovered
                ) from None
            finally:
                if self._pending is pending:
                    self._pending = None
            raw = bytes(pending.output[-self.output_limit :])
            dropped = pending.dropped + len(pending.output) - len(raw)
            return CommandResult(
                truncated=dropped,
                command=command,
                exit_code=pending.exit_code,
                output=clean_output(raw),
                started_at=pending.started_at,
                duration=time.perf_counter() - started,
                raw_output=raw,
            )

    async def _interrupt(self, pending: _Pending, grace: float = 5.0) -> bool:
        """Send Ctrl-C until the shell reports the command finished (or give up)."""
        if self._closed:
            return False
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not self._closed:
            self._write(b"\x03")
            try:
                await asyncio.wait_for(asyncio.shield(pending.future), 1.0)
            except TimeoutError:
                continue
            except TerminalClosedError:
                return False
            try:
                await self.wait_for_prompt(1.0)
            except (TerminalBusyError, TerminalClosedError, ShellIntegrationError):
                return False
            return True
        return False
