"""The terminal set: named shells, their screens, input, resizes and output events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from typing import TYPE_CHECKING, Any

from agentshell.core import events as ev
from agentshell.core.errors import LogClosedError
from agentshell.core.names import check_terminal_name
from agentshell.core.state import TerminalInfo

from .agents import TYPE
from .results import InvalidRequestError, InvalidStateError, NotFoundError

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager
    from agentshell.terminal import Terminal

    from .agents import AgentDirectory
    from .background import Background
    from .writer import EventWriter


class TerminalSet:
    """The session's open terminals (one live :class:`Terminal` per name)."""

    def __init__(
        self,
        session: SessionManager,
        writer: EventWriter,
        directory: AgentDirectory,
        background: Background,
        *,
        project_dir: str,
        shell: str | None,
        columns: int,
        lines: int,
        user_rc: bool,
    ) -> None:
        self.session = session
        self._writer = writer
        self._directory = directory
        self._background = background
        self.project_dir = project_dir
        self.shell = shell
        self.columns = columns
        self.lines = lines
        self.user_rc = user_rc
        self._open: dict[str, Terminal] = {}
        self._stopping = False

    def terminals(self) -> list[TerminalInfo]:
        return list(self.session.state["terminals"].values())

    def names(self) -> list[str]:
        """The names of the terminals open now."""
        return list(self._open)

    def get(self, name: str) -> Terminal:
        """The live Terminal object named ``name`` (NotFoundError when not open)."""
        term = self._open.get(name)
        if term is None:
            raise NotFoundError(f"no open terminal {name!r}")
        return term

    def cwd(self, name: str) -> str:
        """Where a command in ``name`` would run now (NotFoundError when not open)."""
        return self.get(name).cwd or ""

    async def open(
        self,
        name: str,
        cwd: str | None = None,
        *,
        columns: int | None = None,
        lines: int | None = None,
    ) -> TerminalInfo:
        """Start a new shell named ``name`` in ``cwd`` (logged as terminal_opened).

        A new terminal needs a plain name (:func:`agentshell.core.names.check_terminal_name`,
        InvalidNameError otherwise: ``bad_request`` on the wire); one the log already
        holds is reopened under its recorded name, whatever it is.
        """
        from agentshell.terminal import Terminal

        if name not in self.session.state["terminals"]:
            check_terminal_name(name)
        if name in self._open:
            raise InvalidStateError(f"terminal {name!r} is already open")
        cwd = cwd or self.project_dir
        if not os.path.isdir(cwd):
            cwd = self.project_dir
        columns = columns or self.columns
        lines = lines or self.lines
        term = Terminal(
            shell=self.shell,
            cwd=cwd,
            columns=columns,
            lines=lines,
            name=name,
            sink=self._make_sink(name),
            user_rc=self.user_rc,
        )
        await term.start()
        self._open[name] = term
        await self._writer.record(
            ev.TerminalOpened(
                terminal=name,
                cwd=str(term.cwd or cwd),
                columns=columns,
                lines=lines,
                shell=self.shell or os.environ.get("SHELL", ""),
            )
        )
        result: TerminalInfo = self.session.state["terminals"][name]
        return result

    async def restart_shell(self, name: str) -> None:
        """Start a new shell in a terminal whose shell exited, logged as
        terminal_opened (where a replay resets the screen, as the live one was)."""
        term = self.get(name)
        await term.restart()
        await self._writer.record(
            ev.TerminalOpened(
                terminal=name,
                cwd=str(term.cwd or ""),
                columns=term.columns,
                lines=term.lines,
                shell=self.shell or os.environ.get("SHELL", ""),
            )
        )

    def _make_sink(self, name: str) -> Any:
        loop = asyncio.get_running_loop()
        owner = threading.get_ident()

        def sink(*args: Any) -> None:
            kind, data = args if len(args) == 2 else args[0]
            if kind == "output":
                e: ev.Event = ev.TerminalOutput(terminal=name, data=bytes(data))
            elif kind == "input":
                e = ev.TerminalInput(terminal=name, data=bytes(data), by=ev.SYSTEM)
            elif kind == "closed" and not self._stopping:  # its shell exited by itself
                info = json.loads(data)
                e = ev.TerminalClosed(
                    terminal=name,
                    reason=str(info.get("reason") or ""),
                    exit_status=info.get("exit_status"),
                )
            else:
                return
            if threading.get_ident() == owner:
                self._background.spawn(self._writer.record(e))
            else:
                loop.call_soon_threadsafe(lambda: self._background.spawn(self._writer.record(e)))

        return sink

    def screen(self, name: str = "main") -> Any:
        """The terminal's current immutable Frame."""
        return self.get(name).frame()

    async def send_input(self, name: str, data: bytes, by: str = ev.HUMAN) -> None:
        """Type ``data`` into ``name`` (the human's keys; logged as terminal_input).

        Once the session's log has stopped (a full disk) nothing can be recorded: an
        agent's keys are refused, the human's still reach the shell (to free the
        space, say); the operator's UI says the recording stopped."""
        term = self.get(name)
        if by != ev.HUMAN:
            self._directory.require(by, TYPE)
        if term.closed:  # its shell exited (`exit` typed in it, a crash)
            if by != ev.HUMAN:
                raise InvalidStateError(
                    f"terminal {name!r}: its shell exited; the operator's next key"
                    " in it starts a new one"
                )
            await self.restart_shell(name)  # the human's key starts a new shell, and is spent
            return
        event = ev.TerminalInput(terminal=name, data=bytes(data), by=by, agent_id=by)
        try:
            await self._writer.record(event)
        except LogClosedError:
            if by != ev.HUMAN or not self._writer.holding:
                raise
        term.send(bytes(data), record=False)  # logged just above, with who typed

    async def resize(self, name: str, columns: int, lines: int) -> None:
        """Resize ``name`` (logged as terminal_resized)."""
        term = self.get(name)
        if columns < 2 or lines < 2:
            raise InvalidRequestError("a terminal needs at least 2 columns and 2 lines")
        if (term.columns, term.lines) == (columns, lines):
            return  # no SIGWINCH, no event: a layout pass that changed nothing
        term.resize(columns, lines)
        await self._writer.record(ev.TerminalResized(terminal=name, columns=columns, lines=lines))

    def stopping(self) -> None:
        """From now on a shell that exits is the coordinator stopping it, not news."""
        self._stopping = True

    async def close_all(self) -> None:
        self._stopping = True
        for term in list(self._open.values()):
            with contextlib.suppress(Exception):
                await term.close()
