"""An in-memory backend and recorded-bytes terminals for the TUI tests.

State changes go through the real pure reducer (``apply_event``), so the app sees
exactly the shapes the coordinator produces. Terminals are emulators fed with fixed
bytes: no shells, so snapshots are deterministic.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from agentshell.core import events as ev
from agentshell.core.state import SessionState, apply_event, new_state
from agentshell.terminal.emulator import Emulator
from agentshell.tui.backend import ConflictSides, RuleDraft

T0 = 1_700_000_000.0


class RecordedTerminal:
    """A terminal whose output is fixed bytes; input is recorded, never executed."""

    def __init__(self, name: str, data: bytes = b"", columns: int = 80, lines: int = 20) -> None:
        self.name = name
        self.emulator = Emulator(columns, lines)
        self.sent: list[bytes] = []
        self.sizes: list[tuple[int, int]] = []
        self._listeners: list[Callable[..., Any]] = []
        self.resizable = True
        if data:
            self.feed(data)

    def feed(self, data: bytes) -> None:
        self.emulator.feed(data)
        for cb in self._listeners:
            cb()

    def frame(self) -> Any:
        return self.emulator.frame()

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def resize(self, columns: int, lines: int) -> None:
        self.sizes.append((columns, lines))
        if self.resizable:
            self.emulator.resize(columns, lines)
        for cb in self._listeners:
            cb()

    def add_listener(self, callback: Callable[..., Any]) -> None:
        self._listeners.append(callback)


class FakeDoc:
    """A shared approval text: every op (the operator's or the agent's) is one revision.

    The operator's edits are acknowledged at once; ``agent_insert`` is an op arriving
    from the agent while the editor is open.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self.revision = 0
        self.ops: list[tuple[str, int, str | int]] = []

    @property
    def text(self) -> str:
        return self._text

    def insert(self, pos: int, text: str, by: str = "human") -> None:
        self._text = self._text[:pos] + text + self._text[pos:]
        self.revision += 1
        self.ops.append((by, pos, text))

    def delete(self, pos: int, length: int) -> None:
        self._text = self._text[:pos] + self._text[pos + length :]
        self.revision += 1
        self.ops.append(("human", pos, length))

    def agent_insert(self, pos: int, text: str) -> None:
        self.insert(pos, text, by="agent")

    async def settle(self, timeout: float = 5.0) -> int:
        return self.revision


class FakeBackend:
    def __init__(self, terminals: dict[str, RecordedTerminal] | None = None) -> None:
        self._state: SessionState = new_state("test", T0)
        self._terms = terminals or {}
        self._events: list[ev.Event] = []
        self._queues: list[asyncio.Queue[ev.Event]] = []
        self.calls: list[tuple[Any, ...]] = []
        self.sides: dict[str, ConflictSides] = {}
        #: Shared approval texts, for live co-editing (none unless a test adds one).
        self.docs: dict[str, FakeDoc] = {}
        #: Terminals running a command typed in the pane (the quit dialog asks).
        self.busy: list[str] = []
        #: What recording_error says (a test sets it: the log stopped).
        self.recording_failure: str | None = None
        #: What send_input raises (a test sets it: the keys are refused).
        self.input_error: Exception | None = None
        self.seq = 0

    # -- feeding
    def emit(self, event: ev.Event) -> ev.Event:
        self.seq += 1
        e = event.with_seq(self.seq)
        apply_event(self._state, e)
        self._events.append(e)
        for q in self._queues:
            q.put_nowait(e)
        return e

    def agent(self, agent_id: str, caps: list[str], t: float = T0) -> None:
        self.emit(ev.AgentRegistered(agent_id=agent_id, capabilities=caps, timestamp=t))
        self.emit(ev.AgentStatusChanged(agent_id=agent_id, status="connected", timestamp=t))

    def propose(
        self, approval_id: str, agent: str, command: str, t: float, risk: list[str] | None = None
    ) -> None:
        self.emit(
            ev.ApprovalQueued(
                agent_id=agent,
                approval_id=approval_id,
                command=command,
                terminal="main",
                cwd="/work/demo",
                risk=risk or [],
                timestamp=t,
            )
        )

    # -- Backend protocol
    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def socket_path(self) -> str:
        return "/tmp/agentshell-test/test.sock"

    def terminals(self) -> dict[str, Any]:
        return dict(self._terms)

    def subscribe(self) -> AsyncIterator[ev.Event]:
        q: asyncio.Queue[ev.Event] = asyncio.Queue()
        self._queues.append(q)  # registered now, like the coordinator's subscribe()
        return self._follow(q)

    async def _follow(self, q: asyncio.Queue[ev.Event]) -> AsyncIterator[ev.Event]:
        while True:
            yield await q.get()

    def recent_events(self, limit: int) -> list[ev.Event]:
        return self._events[-limit:]

    async def approve(
        self, approval_id: str, command: str | None = None, revision: int | None = None
    ) -> None:
        if revision is None:
            self.calls.append(("approve", approval_id, command))
        else:  # like the coordinator: exactly that revision of the shared text, or refuse
            doc = self.docs[approval_id]
            if doc.revision != revision:
                raise ValueError(f"revision {revision} is not the current text")
            command = doc.text
            self.calls.append(("approve", approval_id, command, revision))
        self.emit(
            ev.ApprovalDecided(
                approval_id=approval_id, decision="approved", command=command, timestamp=T0 + 100
            )
        )

    async def reject(self, approval_id: str, reason: str) -> None:
        self.calls.append(("reject", approval_id, reason))
        self.emit(
            ev.ApprovalDecided(
                approval_id=approval_id, decision="rejected", reason=reason, timestamp=T0 + 100
            )
        )

    async def approve_similar(self, approval_id: str, rule: RuleDraft) -> None:
        self.calls.append(("similar", approval_id, rule))
        self.emit(
            ev.RuleAdded(
                rule_id="r1",
                action="allow",
                kind=rule.kind,
                pattern=rule.pattern,
                scope=rule.scope,
                scope_value=rule.scope_value,
                timestamp=T0 + 100,
            )
        )
        await self.approve(approval_id)

    async def resolve_conflict(self, conflict_id: str, resolution: str, note: str = "") -> None:
        self.calls.append(("resolve", conflict_id, resolution, note))
        self.emit(
            ev.ConflictResolved(
                conflict_id=conflict_id, resolution=resolution, note=note, timestamp=T0 + 100
            )
        )

    async def send_input(self, terminal: str, data: bytes) -> None:
        if self.input_error is not None:
            raise self.input_error
        self.calls.append(("input", terminal, data))
        self._terms[terminal].send(data)

    async def resize(self, terminal: str, columns: int, lines: int) -> None:
        self._terms[terminal].resize(columns, lines)

    def suggest_rule(self, command: str) -> tuple[str, str]:
        words = command.split()
        return ("prefix", " ".join(words[:2])) if len(words) > 1 else ("exact", command)

    def risk_hints(self, command: str, cwd: str) -> tuple[str, ...]:
        return ("rm -rf",) if "rm -rf" in command else ()

    def conflict_sides(self, conflict_id: str) -> ConflictSides | None:
        return self.sides.get(conflict_id)

    def approval_doc(self, approval_id: str) -> Any:
        return self.docs.get(approval_id)

    def busy_terminals(self) -> list[str]:
        return list(self.busy)

    def recording_error(self) -> str | None:
        return self.recording_failure

    def running_commands(self) -> int:
        return sum(
            1
            for a in self._state["pending_approvals"].values()
            if a.status in ("approved", "executing")
        )
