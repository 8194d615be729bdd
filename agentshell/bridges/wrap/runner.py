"""Run a prompt-driven CLI in a PTY and route its confirmation prompts to the queue.

The CLI runs under pexpect in a PTY of its own; its output is copied to our stdout
byte for byte and the keys typed on our stdin go to it, so wherever ``agentshell
wrap`` runs (a TUI pane, any terminal) the CLI looks and behaves as it does alone.
When its output goes quiet on a line the profile knows as a confirmation prompt,
the prompt becomes an approval item (the command or file it names) from this
agent, and the operator's decision is typed as the answer: approved -> the
profile's ``yes``, rejected or expired -> ``no``. While the item waits, keys typed
into the CLI are held back (Ctrl-C still reaches it), so the answer can only come
from the queue. The item is proposed with ``external`` (the CLI runs it itself;
the coordinator only decides) and ``editable`` from the profile (a y/n prompt cannot
take an edited command, so the operator gets approve / reject only).

Fails closed: if the coordinator cannot be reached, or the operator edited the
command of a CLI that cannot take an edit, the answer is ``no`` and a line on our
output says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import sys
import termios
import tty
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pexpect

from agentshell.client.client import AgentClient, ConnectionLost, ServerError, ServerUnreachable
from agentshell.core.errors import AgentShellError

from .profiles import Profile
from .prompts import PromptMatch, PromptWatcher

#: Seconds of silence after which the CLI is taken to wait on its last line.
QUIET = 0.15
CTRL_C = b"\x03"


@dataclass(frozen=True, slots=True)
class Decision:
    approved: bool
    reason: str = ""
    approval_id: str = ""


def _winsize(fd: int) -> tuple[int, int] | None:
    try:
        packed = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    except OSError:
        return None
    rows, cols = struct.unpack("HHHH", packed)[:2]
    return (rows, cols) if rows and cols else None


class Wrapper:
    def __init__(
        self,
        argv: Sequence[str],
        profile: Profile,
        *,
        socket_path: Path,
        agent: str,
        token: str,
        terminal: str = "main",
        timeout: float | None = None,
        stdin_fd: int = 0,
        stdout_fd: int = 1,
        session: str = "default",
    ) -> None:
        self.argv = list(argv)
        self.profile = profile
        self.socket_path = socket_path
        self.agent = agent
        self.token = token
        self.terminal = terminal
        self.timeout = timeout
        self.stdin_fd = stdin_fd
        self.stdout_fd = stdout_fd
        self.session = session
        self.watcher = PromptWatcher(profile)
        self.client: AgentClient | None = None
        self._decided: dict[str, Any] = {}
        self._decision_seen = asyncio.Event()
        self._events: asyncio.Task[None] | None = None
        self._child: Any = None
        self._pending: asyncio.Task[None] | None = None
        self._quiet: asyncio.TimerHandle | None = None
        self._done: asyncio.Future[None] | None = None
        #: The approval a prompt waits on (withdrawn if the CLI ends first).
        self._asking: str | None = None

    # ------------------------------------------------------------ coordinator

    async def connect(self) -> None:
        """Connect as the agent and watch decisions (raises what connecting raised)."""
        c = await AgentClient.connect(self.socket_path, self.agent, self.token, retry_for=3.0)
        self.client = c
        events = await c.subscribe(["approval_decided"])

        async def pump() -> None:
            async for e in events:
                self._decided[getattr(e, "approval_id", "")] = e
                if len(self._decided) > 1000:
                    self._decided.pop(next(iter(self._decided)))
                self._decision_seen.set()

        self._events = asyncio.ensure_future(pump())

    async def ask(self, match: PromptMatch) -> Decision:
        """Queue ``match`` as an approval item and wait for its decision."""
        if self.client is None:
            return Decision(False, "not connected to AgentShell")
        reply = await self.client.request(
            "propose",
            command=match.item,
            terminal=self.terminal,
            timeout=self.timeout,
            external=True,
            editable=self.profile.editable,
        )
        aid = str(reply["approval_id"])
        self._asking = aid
        if reply.get("external") is not True:
            # an older server would run an approved item itself: never answer yes then
            return Decision(
                False, "this AgentShell server cannot take a CLI's prompts; answered no"
            )
        self.status(f"waiting for the operator's decision (approval {aid}): {match.item}")
        while aid not in self._decided:
            if self._events is None or self._events.done():
                raise ConnectionLost("the connection to AgentShell closed")
            self._decision_seen.clear()
            await self._decision_seen.wait()
        e = self._decided.pop(aid)
        self._asking = None
        decision = getattr(e, "decision", "")
        if decision == "approved":
            edited = getattr(e, "command", None)
            if edited is not None and edited != match.item and not self.profile.editable:
                return Decision(
                    False,
                    f"the operator edited it to {edited!r}, which {self.argv[0]} cannot take;"
                    " answered no",
                    aid,
                )
            return Decision(True, "", aid)
        reason = getattr(e, "reason", "") or decision
        return Decision(False, f"{decision}: {reason}" if reason != decision else decision, aid)

    # -------------------------------------------------------------- terminal

    def status(self, text: str) -> None:
        """One line of our own on the CLI's output, marked as ours."""
        with contextlib.suppress(OSError):
            os.write(self.stdout_fd, f"\r\n[agentshell] {text}\r\n".encode())

    def _write_child(self, data: bytes) -> None:
        child = self._child
        if child is None:
            return
        with contextlib.suppress(OSError):
            os.write(child.child_fd, data)

    def _on_child_output(self) -> None:
        child = self._child
        try:
            data = os.read(child.child_fd, 65536)
        except OSError:
            data = b""
        if not data:
            self._finish()
            return
        with contextlib.suppress(OSError):
            os.write(self.stdout_fd, data)
        self.watcher.feed(data)
        loop = asyncio.get_running_loop()
        if self._quiet is not None:
            self._quiet.cancel()
        self._quiet = loop.call_later(QUIET, self._check_prompt)

    def _on_stdin(self) -> None:
        try:
            data = os.read(self.stdin_fd, 65536)
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.stdin_fd)
            return
        if self._pending is not None:
            # the answer comes from the queue; only an interrupt gets through
            if CTRL_C in data:
                self._write_child(CTRL_C)
            return
        self._write_child(data)

    def _check_prompt(self) -> None:
        self._quiet = None
        if self._pending is not None:
            return
        match = self.watcher.check()
        if match is None or not match.rule.gate:
            return
        self._pending = asyncio.ensure_future(self._answer(match))

    async def _answer(self, match: PromptMatch) -> None:
        try:
            try:
                decision = await self.ask(match)
            except (OSError, AgentShellError) as exc:
                decision = Decision(False, f"AgentShell did not decide ({exc}); answered no")
            if decision.approved:
                self.status(f"approved (approval {decision.approval_id})")
                answer = self.profile.yes
            else:
                self.status(decision.reason or "rejected")
                answer = self.profile.no
            self.watcher.consumed()
            self._write_child(answer.encode())
        finally:
            self._pending = None

    def _resize(self) -> None:
        size = _winsize(self.stdout_fd)
        if size is not None and self._child is not None:
            with contextlib.suppress(Exception):
                self._child.setwinsize(*size)

    def _finish(self) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    async def run(self) -> int:
        """Run the CLI to its end; its exit status (128+N when killed by signal N)."""
        loop = asyncio.get_running_loop()
        size = _winsize(self.stdout_fd) or _winsize(self.stdin_fd) or (24, 80)
        self._child = pexpect.spawn(
            self.argv[0], self.argv[1:], dimensions=size, env=dict(os.environ)
        )
        self._done = loop.create_future()
        saved = None
        if os.isatty(self.stdin_fd):
            saved = termios.tcgetattr(self.stdin_fd)
            tty.setraw(self.stdin_fd)
        loop.add_reader(self._child.child_fd, self._on_child_output)
        loop.add_reader(self.stdin_fd, self._on_stdin)
        with contextlib.suppress(ValueError, RuntimeError):
            loop.add_signal_handler(signal.SIGWINCH, self._resize)
        try:
            await self._done
        finally:
            loop.remove_reader(self._child.child_fd)
            loop.remove_reader(self.stdin_fd)
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signal.SIGWINCH)
            if saved is not None:
                termios.tcsetattr(self.stdin_fd, termios.TCSADRAIN, saved)
            if self._pending is not None:
                self._pending.cancel()
            await self._withdraw("the wrapped CLI ended before the decision")
            self._child.close(force=True)
        status = self._child.exitstatus
        if status is None and self._child.signalstatus is not None:
            return 128 + int(self._child.signalstatus)
        return int(status) if status is not None else 1

    async def _withdraw(self, reason: str) -> None:
        """Nobody will answer the prompt any more: say so on the approval item."""
        aid, self._asking = self._asking, None
        if aid is not None and self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.withdraw(aid, reason)

    async def close(self) -> None:
        if self._events is not None:
            self._events.cancel()
        if self.client is not None:
            await self.client.close()


async def wrap(wrapper: Wrapper) -> int:
    """Connect, run the CLI, close; the CLI's exit status (2: no coordinator)."""
    try:
        await wrapper.connect()
    except (OSError, ServerError, AgentShellError) as exc:
        where = wrapper.socket_path
        cause = exc.cause if isinstance(exc, ServerUnreachable) else exc
        if isinstance(cause, FileNotFoundError | ConnectionRefusedError):
            msg = (
                f"no AgentShell server is running (nothing at {where}); start one with"
                " `agentshell tui` or `agentshell serve`"
            )
        else:
            msg = f"cannot reach AgentShell at {where}: {exc}"
        sys.stderr.write(f"agentshell wrap: {msg}\n")
        return 2
    try:
        return await wrapper.run()
    finally:
        await wrapper.close()
