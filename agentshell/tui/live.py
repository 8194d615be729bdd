"""Adapters from the real coordinator to the app's :class:`~agentshell.tui.backend.Backend`."""

from __future__ import annotations

import contextlib
import importlib
import inspect
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from agentshell.core import events as ev
from agentshell.core.state import SessionState
from agentshell.tui.backend import ConflictSides, RuleDraft, SharedText, TerminalLike

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

    async def subscribe(self) -> AsyncIterator[ev.Event]:  # type: ignore[override]
        types = [t for t in ev.EVENT_TYPES if t not in _QUIET]
        sub = self.coordinator.subscribe(types)
        try:
            async for event in sub:
                self._recent.append(event)
                yield event
        finally:
            sub.close()

    def recent_events(self, limit: int) -> list[ev.Event]:
        session = self.coordinator.session
        tail: deque[ev.Event] = deque(maxlen=limit)
        try:
            for e in session.iter_events():
                if e.event_type not in ("terminal_output", "terminal_input", "doc_op"):
                    tail.append(e)
        except Exception:
            return list(self._recent)[-limit:]
        return list(tail)

    async def approve(self, approval_id: str, command: str | None = None) -> None:
        await self.coordinator.approve(approval_id, command=command)

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
        fn = getattr(self.coordinator, "resize_terminal", None)
        if fn is not None:  # logged as terminal_resized
            await fn(terminal, columns, lines)
            return
        result = self.coordinator.terminal(terminal).resize(columns, lines)
        if inspect.isawaitable(result):
            await result

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
        first = conflict.agents[0] if conflict.agents else "first"
        second = conflict.agents[1] if len(conflict.agents) > 1 else "second"
        return ConflictSides(
            first,
            tuple(lines[a0 : max(a1, a0 + 1)]),
            second,
            tuple(lines[b0 : max(b1, b0 + 1)]),
            a0,
            b0,
        )

    def approval_doc(self, approval_id: str) -> SharedText | None:
        fn = getattr(self.coordinator, "approval_doc", None)
        if fn is None:
            return None
        with contextlib.suppress(Exception):
            doc: SharedText | None = fn(approval_id)
            return doc
        return None

    def running_commands(self) -> int:
        return sum(
            1
            for a in self.state["pending_approvals"].values()
            if a.status in ("approved", "executing")
        )
