"""Adapters from the real coordinator to the app's :class:`~agentshell.tui.backend.Backend`."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import time
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from agentshell.core import events as ev
from agentshell.core import ot
from agentshell.core.state import SessionState
from agentshell.store.tail import read_recent_events
from agentshell.tui.backend import ConflictSides, RuleDraft, SharedText, TerminalLike
from agentshell.tui.widgets.log.event_log import NOISY
from agentshell.tui.widgets.sidebar.approvals import order_running

#: Event types the log view and the widgets care about (terminal bytes are excluded).
_QUIET = frozenset({"terminal_output"})


class CoordinatorBackend:
    """The app's view of an in-process ``Coordinator`` (and its ``SessionManager``)."""

    def __init__(self, coordinator: Any, *, socket_path: str = "") -> None:
        self.coordinator = coordinator
        self._socket_path = socket_path
        self._recent: deque[ev.Event] = deque(maxlen=1000)

    @property
    def state(self) -> SessionState:
        st: SessionState = self.coordinator.state
        return st

    @property
    def socket_path(self) -> str:
        return self._socket_path

    def terminals(self) -> dict[str, TerminalLike]:
        out: dict[str, TerminalLike] = {}
        for info in self.coordinator.terminals():
            if not info.open:
                continue
            with contextlib.suppress(Exception):
                out[info.name] = self.coordinator.terminal(info.name)
        return out

    def subscribe(self) -> AsyncIterator[ev.Event]:
        types = [t for t in ev.EVENT_TYPES if t not in _QUIET]
        return self._follow(self.coordinator.subscribe(types))  # registered now

    async def _follow(self, sub: Any) -> AsyncIterator[ev.Event]:
        try:
            async for event in sub:
                self._recent.append(event)
                yield event
        finally:
            sub.close()

    def recent_events(self, limit: int) -> list[ev.Event]:
        """The last ``limit`` events the log view shows, with the edits of approval
        texts among them (the view reads who amended a command from those); read
        from the end of the log, however long it is."""
        session = self.coordinator.session

        def shown(rec: dict[str, Any]) -> bool:
            return rec["t"] not in NOISY  # what the log view does not show

        def edit(rec: dict[str, Any]) -> bool:
            return (
                rec["t"] == "doc_op"
                and ev.approval_of_doc(str(rec["p"].get("doc", ""))) is not None
            )

        try:
            return read_recent_events(
                session.log_path, limit, shown, also=edit, anchor=session.last_frame_at
            )
        except Exception:
            return list(self._recent)[-limit:]

    async def approve(
        self, approval_id: str, command: str | None = None, revision: int | None = None
    ) -> None:
        await self.coordinator.approve(approval_id, command=command, revision=revision)

    async def reject(self, approval_id: str, reason: str) -> None:
        await self.coordinator.reject(approval_id, reason)

    async def approve_similar(self, approval_id: str, rule: RuleDraft) -> None:
        await self.coordinator.approve_similar(
            approval_id, rule.kind, rule.pattern, scope=rule.scope, scope_value=rule.scope_value
        )

    async def resolve_conflict(self, conflict_id: str, resolution: str, note: str = "") -> None:
        fn = getattr(self.coordinator, "resolve_conflict", None)
        if fn is None:
            raise RuntimeError("this coordinator cannot resolve conflicts yet")
        params = inspect.signature(fn).parameters
        if "note" in params:
            await fn(conflict_id, resolution, note=note)
        else:
            await fn(conflict_id, resolution)

    async def send_input(self, terminal: str, data: bytes) -> None:
        await self.coordinator.send_input(terminal, data)

    async def resize(self, terminal: str, columns: int, lines: int) -> None:
        await self.coordinator.resize(terminal, columns, lines)  # logged as terminal_resized

    def suggest_rule(self, command: str) -> tuple[str, str]:
        for info in self.state["pending_approvals"].values():
            if info.command == command:
                kind, pattern = self.coordinator.suggest_rule(info.approval_id)
                return str(kind), str(pattern)
        return "exact", command

    def risk_hints(self, command: str, cwd: str) -> tuple[str, ...]:
        try:
            mod = importlib.import_module("agentshell.core.risk")
        except ImportError:
            return ()
        project = getattr(self.coordinator, "project_dir", cwd)
        return tuple(mod.risk_hints(command, project))

    def conflict_sides(self, conflict_id: str) -> ConflictSides | None:
        fn = getattr(self.coordinator, "conflict_sides", None)
        if fn is not None:
            got = fn(conflict_id)
            if got is not None:
                return ConflictSides(*got) if isinstance(got, tuple) else got  # type: ignore[no-any-return]
        conflict = self.state["active_conflicts"].get(conflict_id)
        if conflict is None:
            return None
        path = Path(conflict.file_path)
        if not path.is_absolute():
            path = Path(getattr(self.coordinator, "project_dir", ".")) / path
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            return None
        (a0, a1) = conflict.ranges[0] if conflict.ranges else (0, 0)
        (b0, b1) = conflict.ranges[1] if len(conflict.ranges) > 1 else (a0, a1)
        # not either agent's text: the file as it is now, at the base ranges
        first = (conflict.agents[0] if conflict.agents else "first") + " (file now)"
        second = (conflict.agents[1] if len(conflict.agents) > 1 else "second") + " (file now)"
        return ConflictSides(
            first,
            tuple(lines[a0 : max(a1, a0 + 1)]),
            second,
            tuple(lines[b0 : max(b1, b0 + 1)]),
            a0,
            b0,
        )

    def approval_doc(self, approval_id: str) -> SharedText | None:
        if not hasattr(self.coordinator, "doc_open"):
            return None
        return HumanDoc(self.coordinator, ev.approval_doc(approval_id))

    def busy_terminals(self) -> list[str]:
        by_approval = {a.terminal for a in order_running(self.state["pending_approvals"])}
        out = []
        for info in self.state["terminals"].values():
            if not info.open or info.name in by_approval:
                continue
            with contextlib.suppress(Exception):  # a terminal closing meanwhile
                if self.coordinator.terminal(info.name).busy:
                    out.append(info.name)
        return out

    def running_commands(self) -> int:
        return len(order_running(self.state["pending_approvals"]))

    def recording_error(self) -> str | None:
        # held: every command waits until the log records again (it goes on by itself)
        held: str | None = self.coordinator.writer.held
        if held is not None:
            return held
        note: str | None = self.coordinator.session.failure_note()
        return note


class HumanDoc:
    """The operator's side of a shared OT document (Jupiter client, in-process).

    Local edits apply at once and go to the coordinator one op in flight at a time;
    ops broadcast by the coordinator acknowledge ours or are transformed against
    ours and applied, so the editor and the agent converge on the same text.
    """

    def __init__(self, coordinator: Any, doc: str) -> None:
        self.coordinator = coordinator
        self.doc = doc
        self.client: ot.OTClientDoc | None = None
        self._task: asyncio.Task[None] | None = None
        self.error = ""
        self._sends: set[asyncio.Task[None]] = set()
        self._acked = asyncio.Event()

    async def open(self) -> None:
        text, rev = await self.coordinator.doc_open(self.doc)
        self.client = ot.OTClientDoc(text, rev, next_seq=time.time_ns() // 1000)
        sub = self.coordinator.subscribe(["doc_op"])
        self._task = asyncio.ensure_future(self._follow(sub))

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    @property
    def text(self) -> str:
        return self.client.text if self.client is not None else ""

    @property
    def revision(self) -> int:
        return self.client.revision if self.client is not None else 0

    async def settle(self, timeout: float = 5.0) -> int:
        """Wait until the coordinator acknowledged every local edit; the revision then."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while self.client is not None and self.client.inflight is not None:
            if self.error:
                raise RuntimeError(self.error)
            self._acked.clear()
            left = end - loop.time()
            if left <= 0:
                raise TimeoutError("the shared text was not acknowledged in time")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._acked.wait(), left)
        return self.revision

    async def _follow(self, sub: Any) -> None:
        try:
            async for e in sub:
                c = self.client
                if c is None or e.doc != self.doc:
                    continue
                if (
                    e.agent_id == ev.HUMAN
                    and c.inflight is not None
                    and e.client_seq == c.inflight_seq
                ):
                    nxt = c.ack(e.revision)
                    if nxt is not None:
                        self._send(nxt)
                    self._acked.set()
                elif e.revision == c.revision + 1:
                    c.remote(ot.from_wire(e.op), e.revision)
        finally:
            sub.close()

    def _send(self, op: Any) -> None:
        c = self.client
        assert c is not None
        coro = self.coordinator.doc_op(
            ev.HUMAN, self.doc, c.revision, ot.to_wire(op), c.inflight_seq
        )

        async def send() -> None:
            try:
                await coro
            except Exception as exc:  # e.g. the approval was decided meanwhile
                self.error = str(exc)
                self._acked.set()

        task = asyncio.ensure_future(send())
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    def insert(self, pos: int, text: str) -> None:
        if self.client is not None:
            op = self.client.insert(pos, text)
            if op is not None:
                self._send(op)

    def delete(self, pos: int, length: int) -> None:
        if self.client is not None:
            op = self.client.delete(pos, length)
            if op is not None:
                self._send(op)
