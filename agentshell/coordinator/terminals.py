"""Terminals: named shells, their screens, input, resizes and output events."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from typing import TYPE_CHECKING, Any

from agentshell.core import events as ev
from agentshell.core.errors import LogClosedError
from agentshell.core.names import check_terminal_name
from agentshell.core.state import (
    TerminalInfo,
)

from .agents import TYPE
from .executor import ExecutorMixin, _Slot
from .results import (
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
)

if TYPE_CHECKING:
    from agentshell.terminal import Terminal


class TerminalsMixin(ExecutorMixin):
    """Opening terminals and talking to them."""

    def terminals(self) -> list[TerminalInfo]:
        return list(self.session.state["terminals"].values())

    def _slot(self, name: str) -> _Slot:
        slot = self._slots.get(name)
        if slot is None:
            raise NotFoundError(f"no open terminal {name!r}")
        return slot

    def terminal(self, name: str = "main") -> Terminal:
        """The live Terminal object (for the TUI: listeners, resize)."""
        return self._slot(name).term

    async def open_terminal(
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
        if name in self._slots:
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
        slot = _Slot(name=name, term=term, queue=asyncio.Queue())
        self._slots[name] = slot
        await self._emit(
            ev.TerminalOpened(
                terminal=name,
                cwd=str(term.cwd or cwd),
                columns=columns,
                lines=lines,
                shell=self.shell or os.environ.get("SHELL", ""),
            )
        )
        slot.worker = asyncio.ensure_future(self._executor(slot))
        result: TerminalInfo = self.session.state["terminals"][name]
        return result

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
                self._spawn(self._emit(e))
            else:
                loop.call_soon_threadsafe(lambda: self._spawn(self._emit(e)))

        return sink

    def screen(self, terminal: str = "main") -> Any:
        """The terminal's current immutable Frame."""
        return self._slot(terminal).term.frame()

    async def send_input(self, terminal: str, data: bytes, by: str = ev.HUMAN) -> None:
        """Type ``data`` into ``terminal`` (the human's keys; logged as terminal_input).

        Once the session's log has stopped (a full disk) nothing can be recorded: an
        agent's keys are refused, the human's still reach the shell (to free the
        space, say); the operator's UI says the recording stopped."""
        slot = self._slot(terminal)
        if by != ev.HUMAN:
            self.require(by, TYPE)
        if slot.term.closed:  # its shell exited (`exit` typed in it, a crash)
            if by != ev.HUMAN:
                raise InvalidStateError(
                    f"terminal {terminal!r}: its shell exited; the operator's next key"
                    " in it starts a new one"
                )
            await self._restart_shell(slot)  # the human's key starts a new shell, and is spent
            return
        event = ev.TerminalInput(terminal=terminal, data=bytes(data), by=by, agent_id=by)
        try:
            await self._emit(event)
        except LogClosedError:
            if by != ev.HUMAN or self.session.failure is None:
                raise
        slot.term.send(bytes(data), record=False)  # logged just above, with who typed

    async def resize(self, terminal: str, columns: int, lines: int) -> None:
        """Resize ``terminal`` (logged as terminal_resized)."""
        slot = self._slot(terminal)
        if columns < 2 or lines < 2:
            raise InvalidRequestError("a terminal needs at least 2 columns and 2 lines")
        if (slot.term.columns, slot.term.lines) == (columns, lines):
            return  # no SIGWINCH, no event: a layout pass that changed nothing
        slot.term.resize(columns, lines)
        await self._emit(ev.TerminalResized(terminal=terminal, columns=columns, lines=lines))
