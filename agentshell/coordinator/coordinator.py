"""The coordinator: the single writer of a session (see :mod:`agentshell.coordinator.api`).

Everything that changes the session goes through :meth:`Coordinator._emit`: the event
is appended to the log (``SessionManager.append_async``: sequence number and fold at
call time, returns once durable), then broadcast to subscribers in the order the
events were submitted. Checks and the append happen in one step of the event loop (no
``await`` in between), so two racing decisions cannot both pass a check.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any

from agentshell.core import events as ev
from agentshell.core import ot
from agentshell.core.approvals import after_crash, transition
from agentshell.core.capabilities import CapabilityRegistry, permissions_of
from agentshell.core.clock import merge
from agentshell.core.errors import AgentShellError, PermissionDeniedError
from agentshell.core.ranges import changed_line_ranges, find_conflicts
from agentshell.core.risk import risk_hints
from agentshell.core.rules import decide, suggest_rule
from agentshell.core.state import (
    AgentInfo,
    ApprovalInfo,
    EditInfo,
    RuleInfo,
    TaskInfo,
    TerminalInfo,
)

from .results import (
    CommandExpired,
    CommandFailed,
    CommandInterrupted,
    CommandRejected,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    RunResult,
)
from .tokens import hash_token, new_token, verify_token

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager
    from agentshell.terminal import Terminal

#: Permission words (the rest of an agent's capabilities are skills).
RUN, TYPE, EDIT, READ = "run", "type", "edit", "read"
RULE_ACTIONS = ("allow", "ask", "deny")
RULE_KINDS = ("exact", "prefix", "glob")
RULE_SCOPES = ("session", "agent", "terminal")
_FINISHED_KEEP = 4096
TASK_STATUSES = ("open", "assigned", "in_progress", "blocked", "done")


class Subscription:
    """A subscriber's ordered stream of events (``async for event in sub``).

    ``types`` restricts it to those event types (None: everything). A subscriber that
    falls more than ``maxsize`` events behind is dropped: ``overflowed`` is set and
    iteration ends.
    """

    def __init__(
        self,
        owner: Coordinator,
        types: Iterable[str] | None,
        maxsize: int,
        predicate: Callable[[ev.Event], bool] | None = None,
    ) -> None:
        self._owner = owner
        self.types = frozenset(types) if types is not None else None
        self.predicate = predicate
        self._queue: asyncio.Queue[ev.Event | None] = asyncio.Queue()
        self._maxsize = maxsize
        self.closed = False
        self.overflowed = False

    def _offer(self, event: ev.Event) -> None:
        if self.closed:
            return
        if self.predicate is not None:
            if not self.predicate(event):
                return
        elif self.types is not None and event.event_type not in self.types:
            return
        if self._queue.qsize() >= self._maxsize:
            self.overflowed = True
            self.close()
            return
        self._queue.put_nowait(event)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)
            self._owner._subscribers.discard(self)

    async def get(self) -> ev.Event | None:
        """The next event, or None once the subscription is closed."""
        if self.closed and self._queue.empty():
            return None
        return await self._queue.get()

    def get_nowait(self) -> ev.Event | None:
        """The next queued event if there is one (None when empty or closed)."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def __aiter__(self) -> AsyncIterator[ev.Event]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[ev.Event]:
        while True:
            e = await self.get()
            if e is None:
                return
            yield e


@dataclasses.dataclass
class _Slot:
    name: str
    term: Terminal
    queue: asyncio.Queue[str]
    worker: asyncio.Task[None] | None = None


class Coordinator:
    """Owns one session: its log, terminals, approval queue, rules, agents and tasks."""

    def __init__(
        self,
        session: SessionManager,
        *,
        project_dir: str | os.PathLike[str] | None = None,
        shell: str | None = None,
        columns: int = 200,
        lines: int = 50,
        run_timeout: float | None = None,
    ) -> None:
        self.session = session
        self.project_dir = str(project_dir) if project_dir is not None else os.getcwd()
        self.shell = shell
        self.columns = columns
        self.lines = lines
        self.run_timeout = run_timeout
        self._subscribers: set[Subscription] = set()
        self._slots: dict[str, _Slot] = {}
        self._waiters: dict[str, list[asyncio.Future[RunResult]]] = {}
        self._finished: OrderedDict[str, RunResult | AgentShellError] = OrderedDict()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._submitted = 0
        self._next_broadcast = 0
        self._ready: dict[int, ev.Event | None] = {}
        self._started = False
        self._stopping = False
        self._docs: dict[str, ot.OTServerDoc] = {}
        self._closing: set[str] = set()
        self._seen: dict[str, dict[str, int]] = {}
        self._system_seq = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Recover what the log says and open the terminals. Nothing is executed again."""
        if self._started:
            return
        self._loop = asyncio.get_running_loop()
        self._started = True
        state = self.session.state
        # approvals cut short by a crash come back as "interrupted": a new decision is needed
        for info in list(state["pending_approvals"].values()):
            if after_crash(info.status) == "interrupted" and info.status != "interrupted":
                await self._emit(
                    ev.ApprovalDecided(
                        approval_id=info.approval_id,
                        decision="interrupted",
                        by=ev.SYSTEM,
                        reason=f"the coordinator restarted while the command was {info.status}",
                    )
                )
            elif info.status == "queued":
                self._arm_expiry(info)
        for agent in list(state["agents"].values()):
            if agent.status in ("connected", "working", "waiting"):
                await self._emit(
                    ev.AgentStatusChanged(agent_id=agent.agent_id, status="disconnected")
                )
        terminals = [t for t in state["terminals"].values() if t.open]
        if not terminals:
            await self.open_terminal("main", self.project_dir)
        else:
            for t in terminals:
                await self.open_terminal(
                    t.name, t.cwd or self.project_dir, columns=t.columns, lines=t.lines
                )

    async def stop(self) -> None:
        """Stop executors and terminals, close subscriptions. The session stays open."""
        self._stopping = True
        for h in self._timers.values():
            h.cancel()
        self._timers.clear()
        for slot in self._slots.values():
            if slot.worker is not None:
                slot.worker.cancel()
        for slot in list(self._slots.values()):
            if slot.worker is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await slot.worker
            with contextlib.suppress(Exception):
                await slot.term.close()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for sub in list(self._subscribers):
            sub.close()
        for futs in self._waiters.values():
            for f in futs:
                if not f.done():
                    f.set_exception(CommandInterrupted("", "the coordinator stopped"))
        self._waiters.clear()

    # -------------------------------------------------------------------- events

    async def _emit(self, event: ev.Event) -> ev.Event:
        """Append ``event`` durably, then broadcast it (in submission order)."""
        ticket = self._submitted
        self._submitted += 1
        if (
            isinstance(event, ev.ApprovalDecided) and event.decision in ("rejected", "expired")
        ) or (isinstance(event, ev.ApprovalExecuted) and event.status in ("executed", "failed")):
            # folded now, settled once durable: wait_result must still find it meanwhile
            self._closing.add(event.approval_id)
        try:
            stored: ev.Event = await self.session.append_async(event)
        except BaseException:
            self._ready[ticket] = None
            self._flush_broadcast()
            raise
        self._ready[ticket] = stored
        self._flush_broadcast()
        return stored

    def _flush_broadcast(self) -> None:
        while self._next_broadcast in self._ready:
            e = self._ready.pop(self._next_broadcast)
            self._next_broadcast += 1
            if e is not None:
                self._after(e)
                for sub in list(self._subscribers):
                    sub._offer(e)

    def _after(self, e: ev.Event) -> None:
        """Settle waiters once an event that finishes an approval is durable."""
        if isinstance(e, ev.ApprovalDecided):
            if e.decision == "rejected":
                self._settle(e.approval_id, CommandRejected(e.approval_id, e.reason, e.by))
            elif e.decision == "expired":
                self._settle(e.approval_id, CommandExpired(e.approval_id))
        elif isinstance(e, ev.ApprovalExecuted) and e.status == "failed":
            self._settle(e.approval_id, CommandFailed(e.approval_id, e.error or "failed"))

    def _settle(self, approval_id: str, outcome: RunResult | AgentShellError) -> None:
        self._closing.discard(approval_id)
        self._finished[approval_id] = outcome
        while len(self._finished) > _FINISHED_KEEP:
            self._finished.popitem(last=False)
        for f in self._waiters.pop(approval_id, []):
            if f.done():
                continue
            if isinstance(outcome, RunResult):
                f.set_result(outcome)
            else:
                f.set_exception(outcome)

    def subscribe(
        self,
        types: Iterable[str] | None = None,
        *,
        predicate: Callable[[ev.Event], bool] | None = None,
        maxsize: int = 10_000,
    ) -> Subscription:
        """A new :class:`Subscription` receiving every event appended from now on.

        ``types`` keeps only those event types; ``predicate`` (instead) decides per event.
        """
        sub = Subscription(self, types, maxsize, predicate)
        self._subscribers.add(sub)
        return sub

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -------------------------------------------------------------------- agents

    @property
    def state(self) -> Any:
        """The live session state (read-only: never mutate it)."""
        return self.session.state

    def agent(self, agent_id: str) -> AgentInfo:
        a: AgentInfo | None = self.session.state["agents"].get(agent_id)
        if a is None:
            raise NotFoundError(f"no agent {agent_id!r}")
        return a

    def agents(self) -> list[AgentInfo]:
        return list(self.session.state["agents"].values())

    def permissions(self, agent_id: str) -> frozenset[str]:
        """The permission words of ``agent_id`` (the human has every permission)."""
        if agent_id == ev.HUMAN:
            return frozenset((RUN, TYPE, EDIT, READ))
        return frozenset(permissions_of(self.agent(agent_id).capabilities))

    def require(self, agent_id: str, permission: str) -> None:
        """Raise PermissionDeniedError unless ``agent_id`` holds ``permission``."""
        if permission not in self.permissions(agent_id):
            raise PermissionDeniedError(f"agent {agent_id!r} lacks the {permission!r} capability")

    def authenticate(self, agent_id: str, token: str) -> AgentInfo | None:
        """The agent when ``token`` is its token, else None."""
        a: AgentInfo | None = self.session.state["agents"].get(agent_id)
        if a is None or not verify_token(token, a.token_hash):
            return None
        return a

    async def register_agent(
        self,
        agent_id: str,
        capabilities: Iterable[str],
        *,
        name: str = "",
        metadata: dict[str, Any] | None = None,
        token_hash: str = "",
    ) -> AgentInfo:
        """Register (or update) an agent. Prefer :meth:`add_agent`, which makes a token."""
        if not isinstance(agent_id, str) or not agent_id or agent_id in (ev.HUMAN, ev.SYSTEM):
            raise InvalidRequestError(f"bad agent id {agent_id!r}")
        await self._emit(
            ev.AgentRegistered(
                agent_id=agent_id,
                capabilities=[str(c) for c in capabilities],
                name=name or agent_id,
                metadata=dict(metadata or {}),
                token_hash=token_hash,
            )
        )
        return self.agent(agent_id)

    async def add_agent(self, agent_id: str, capabilities: Iterable[str], *, name: str = "") -> str:
        """Register an agent with a fresh token; returns the token (only its hash is kept)."""
        token = new_token()
        await self.register_agent(agent_id, capabilities, name=name, token_hash=hash_token(token))
        return token

    async def remove_agent(self, agent_id: str, reason: str = "") -> None:
        self.agent(agent_id)
        await self._emit(ev.AgentRemoved(agent_id=agent_id, reason=reason))

    async def set_agent_status(self, agent_id: str, status: str) -> None:
        a = self.session.state["agents"].get(agent_id)
        if a is not None and a.status != status:
            await self._emit(ev.AgentStatusChanged(agent_id=agent_id, status=status))

    # ----------------------------------------------------------------- approvals

    def approvals(self) -> list[ApprovalInfo]:
        """Pending approvals (queued, approved, executing, interrupted) in queue order."""
        return sorted(self.session.state["pending_approvals"].values(), key=lambda a: a.seq)

    def approval(self, approval_id: str) -> ApprovalInfo:
        a: ApprovalInfo | None = self.session.state["pending_approvals"].get(approval_id)
        if a is None:
            raise NotFoundError(f"no pending approval {approval_id!r}")
        return a

    async def propose(
        self,
        agent_id: str,
        command: str,
        terminal: str = "main",
        timeout: float | None = None,
    ) -> str:
        """Queue ``command`` from ``agent_id`` for ``terminal``; returns the approval id.

        Rules decide first: deny -> rejected at once, allow -> approved (the decision
        names the rule), ask / no rule -> waits for the human. ``timeout`` (seconds)
        is how long the agent will wait for a decision; then it expires.
        """
        self.require(agent_id, RUN)
        if not isinstance(command, str) or not command.strip():
            raise InvalidRequestError("command must be a non-empty string")
        if "\n" in command.strip() or "\r" in command:
            raise InvalidRequestError("command must be a single line")
        slot = self._slot(terminal)
        if timeout is not None and (timeout <= 0 or timeout != timeout):
            raise InvalidRequestError("timeout must be a positive number of seconds")
        approval_id = uuid.uuid4().hex[:12]
        expires_at = time.time() + timeout if timeout is not None else None
        await self._emit(
            ev.ApprovalQueued(
                agent_id=agent_id,
                approval_id=approval_id,
                command=command,
                terminal=terminal,
                cwd=slot.term.cwd or "",
                expires_at=expires_at,
                risk=list(risk_hints(command, self.project_dir)),
            )
        )
        rules = list(self.session.state["rules"].values())
        action, rule_id = decide(rules, command, agent_id, terminal)
        if action == "deny":
            await self._decide(
                approval_id,
                "rejected",
                by=ev.SYSTEM,
                rule_id=rule_id or "",
                reason=f"denied by rule {rule_id}",
            )
        elif action == "allow":
            await self._decide(approval_id, "approved", by=ev.SYSTEM, rule_id=rule_id or "")
        else:
            self._arm_expiry(self.approval(approval_id))
        return approval_id

    def _arm_expiry(self, info: ApprovalInfo) -> None:
        if info.expires_at is None or self._loop is None:
            return
        delay = max(0.0, info.expires_at - time.time())
        aid = info.approval_id
        self._timers[aid] = self._loop.call_later(delay, lambda: self._spawn(self._expire(aid)))

    async def _expire(self, approval_id: str) -> None:
        self._timers.pop(approval_id, None)
        info = self.session.state["pending_approvals"].get(approval_id)
        if info is not None and info.status == "queued":
            await self._decide(
                approval_id, "expired", by=ev.SYSTEM, reason="no decision before the timeout"
            )

    async def _decide(
        self,
        approval_id: str,
        decision: str,
        *,
        by: str,
        reason: str = "",
        command: str | None = None,
        revision: int | None = None,
        rule_id: str = "",
    ) -> None:
        info = self.approval(approval_id)
        action = {
            "approved": "approve",
            "rejected": "reject",
            "expired": "expire",
            "interrupted": "interrupt",
        }[decision]
        try:
            transition(info.status, action)
        except AgentShellError as exc:
            raise InvalidStateError(f"approval {approval_id} is {info.status}: {exc}") from None
        timer = self._timers.pop(approval_id, None)
        if timer is not None:
            timer.cancel()
        await self._emit(
            ev.ApprovalDecided(
                agent_id=ev.SYSTEM if by == ev.SYSTEM else ev.HUMAN,
                approval_id=approval_id,
                decision=decision,
                by=by,
                reason=reason,
                command=command,
                revision=revision,
                rule_id=rule_id,
            )
        )
        if decision == "approved":
            self._slot(info.terminal).queue.put_nowait(approval_id)

    async def approve(
        self,
        approval_id: str,
        by: str = ev.HUMAN,
        command: str | None = None,
        revision: int | None = None,
    ) -> None:
        """Approve a queued (or interrupted) command; ``command`` replaces its text."""
        if command is not None and (not isinstance(command, str) or not command.strip()):
            raise InvalidRequestError("an edited command must be a non-empty string")
        info = self.approval(approval_id)
        sd = self._docs.get(f"approval:{approval_id}")
        if revision is not None:
            if sd is None or sd.revision != revision:
                current = sd.revision if sd is not None else 0
                raise InvalidStateError(
                    f"approval {approval_id}: revision {revision} is not the current text "
                    f"(revision {current}); review it again"
                )
            command = sd.text
        elif command is None and sd is not None and sd.text != info.command:
            command, revision = sd.text, sd.revision
        if command is not None and not command.strip():
            raise InvalidRequestError("the approved command is empty")
        await self._decide(approval_id, "approved", by=by, command=command, revision=revision)

    async def reject(self, approval_id: str, reason: str = "", by: str = ev.HUMAN) -> None:
        """Reject a pending command; ``reason`` is sent back to the agent."""
        await self._decide(approval_id, "rejected", by=by, reason=reason)

    def suggest_rule(self, approval_id: str) -> tuple[str, str]:
        """The (kind, pattern) "approve similar" would propose for this approval."""
        kind, pattern = suggest_rule(self.approval(approval_id).command)
        return kind, pattern

    async def approve_similar(
        self,
        approval_id: str,
        kind: str | None = None,
        pattern: str | None = None,
        *,
        scope: str = "session",
        scope_value: str = "",
        by: str = ev.HUMAN,
    ) -> str:
        """Add an allow rule (suggested unless given) for this command, then approve it."""
        info = self.approval(approval_id)
        if kind is None or pattern is None:
            skind, spattern = suggest_rule(info.command)
            kind = kind or skind
            pattern = pattern if pattern is not None else spattern
        rule_id = await self.add_rule(
            "allow", kind, pattern, scope=scope, scope_value=scope_value, by=by
        )
        if self.approval(approval_id).status in ("queued", "interrupted"):
            await self.approve(approval_id, by=by)
        return rule_id

    async def wait_result(self, approval_id: str) -> RunResult:
        """Wait until the approval ends: its RunResult, or raise CommandRejected /
        CommandExpired / CommandFailed / CommandInterrupted (coordinator stopped)."""
        done = self._finished.get(approval_id)
        if done is not None:
            if isinstance(done, RunResult):
                return done
            raise done
        if approval_id not in self._closing:
            self.approval(approval_id)  # NotFoundError when unknown
        fut: asyncio.Future[RunResult] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(approval_id, []).append(fut)
        return await fut

    async def run(
        self, agent_id: str, command: str, terminal: str = "main", timeout: float | None = None
    ) -> RunResult:
        """propose + wait_result."""
        return await self.wait_result(await self.propose(agent_id, command, terminal, timeout))

    # --------------------------------------------------------------------- rules

    def rules(self) -> list[RuleInfo]:
        return sorted(self.session.state["rules"].values(), key=lambda r: r.seq)

    async def add_rule(
        self,
        action: str,
        kind: str,
        pattern: str,
        *,
        scope: str = "session",
        scope_value: str = "",
        by: str = ev.HUMAN,
    ) -> str:
        """Add a rule (allow/ask/deny; exact/prefix/glob; session/agent/terminal scope)."""
        if action not in RULE_ACTIONS:
            raise InvalidRequestError(f"rule action must be one of {', '.join(RULE_ACTIONS)}")
        if kind not in RULE_KINDS:
            raise InvalidRequestError(f"rule kind must be one of {', '.join(RULE_KINDS)}")
        if scope not in RULE_SCOPES:
            raise InvalidRequestError(f"rule scope must be one of {', '.join(RULE_SCOPES)}")
        if not isinstance(pattern, str) or not pattern:
            raise InvalidRequestError("rule pattern must be a non-empty string")
        if scope != "session" and not scope_value:
            raise InvalidRequestError(f"a {scope}-scoped rule needs scope_value")
        rule_id = "r-" + uuid.uuid4().hex[:8]
        await self._emit(
            ev.RuleAdded(
                agent_id=ev.HUMAN if by == ev.HUMAN else ev.SYSTEM,
                rule_id=rule_id,
                action=action,
                kind=kind,
                pattern=pattern,
                scope=scope,
                scope_value=scope_value if scope != "session" else "",
                by=by,
            )
        )
        return rule_id

    async def revoke_rule(self, rule_id: str, by: str = ev.HUMAN) -> None:
        if rule_id not in self.session.state["rules"]:
            raise NotFoundError(f"no rule {rule_id!r}")
        await self._emit(ev.RuleRevoked(agent_id=ev.HUMAN, rule_id=rule_id, by=by))

    # ----------------------------------------------------------------- terminals

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
        """Start a new shell named ``name`` in ``cwd`` (logged as terminal_opened)."""
        from agentshell.terminal import Terminal

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
        """Type ``data`` into ``terminal`` (the human's keys; logged as terminal_input)."""
        slot = self._slot(terminal)
        if by != ev.HUMAN:
            self.require(by, TYPE)
        await self._emit(ev.TerminalInput(terminal=terminal, data=bytes(data), by=by))
        slot.term.send(bytes(data))

    async def resize(self, terminal: str, columns: int, lines: int) -> None:
        """Resize ``terminal`` (logged as terminal_resized)."""
        slot = self._slot(terminal)
        if columns < 2 or lines < 2:
            raise InvalidRequestError("a terminal needs at least 2 columns and 2 lines")
        slot.term.resize(columns, lines)
        await self._emit(ev.TerminalResized(terminal=terminal, columns=columns, lines=lines))

    # ------------------------------------------------------------------ executor

    async def _executor(self, slot: _Slot) -> None:
        while True:
            approval_id = await slot.queue.get()
            try:
                await self._execute(slot, approval_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let one command stop the terminal's queue
                info = self.session.state["pending_approvals"].get(approval_id)
                if info is not None and info.status == "executing":
                    with contextlib.suppress(Exception):
                        await self._emit(
                            ev.ApprovalExecuted(
                                approval_id=approval_id,
                                status="failed",
                                error=f"internal error: {exc}",
                            )
                        )

    async def _wait_prompt(self, term: Terminal) -> None:
        delay = 0.005
        while not term.at_prompt:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def _execute(self, slot: _Slot, approval_id: str) -> None:
        from agentshell.terminal import CommandTimeout, TerminalClosedError

        info = self.session.state["pending_approvals"].get(approval_id)
        if info is None or info.status != "approved":
            return  # decided otherwise (interrupted, rejected) while it waited
        await self._wait_prompt(slot.term)
        info = self.session.state["pending_approvals"].get(approval_id)
        if info is None or info.status != "approved":
            return
        command = info.approved_command if info.approved_command is not None else info.command
        cwd = str(slot.term.cwd or "")
        await self._emit(
            ev.ApprovalExecuted(agent_id=ev.SYSTEM, approval_id=approval_id, status="executing")
        )
        try:
            res = await slot.term.run(command, timeout=self.run_timeout)
        except (CommandTimeout, TerminalClosedError) as exc:
            await self._emit(
                ev.ApprovalExecuted(
                    approval_id=approval_id, status="failed", error=str(exc) or type(exc).__name__
                )
            )
            if isinstance(exc, TerminalClosedError) and not self._stopping:
                with contextlib.suppress(Exception):
                    await slot.term.restart()
            return
        duration = float(res.duration)
        await self._emit(
            ev.CommandExecuted(
                agent_id=info.agent_id,
                command=command,
                exit_code=res.exit_code,
                output=res.output,
                terminal=slot.name,
                cwd=cwd,
                duration=duration,
                approval_id=approval_id,
            )
        )
        new_cwd = str(slot.term.cwd or "")
        tinfo = self.session.state["terminals"].get(slot.name)
        if new_cwd and tinfo is not None and new_cwd != tinfo.cwd:
            await self._emit(ev.DirectoryChanged(path=new_cwd, terminal=slot.name))
        result = RunResult(
            approval_id=approval_id,
            command=command,
            exit_code=res.exit_code,
            output=res.output,
            duration=duration,
            terminal=slot.name,
        )
        await self._emit(
            ev.ApprovalExecuted(approval_id=approval_id, status="executed", exit_code=res.exit_code)
        )
        self._settle(approval_id, result)

    # ------------------------------------------------------- shared docs (OT)

    def _doc(self, doc: str) -> ot.OTServerDoc:
        sd = self._docs.get(doc)
        if sd is None:
            if doc.startswith("draft:"):
                self._slot(doc[len("draft:") :])
            elif doc.startswith("approval:"):
                self.approval(doc[len("approval:") :])
            else:
                raise InvalidRequestError(
                    f"unknown document {doc!r}: use draft:<terminal> or approval:<id>"
                )
            info = self.session.state["docs"].get(doc)
            sd = ot.OTServerDoc(info.text, info.revision) if info is not None else ot.OTServerDoc()
            self._docs[doc] = sd
        return sd

    async def doc_open(self, doc: str) -> tuple[str, int]:
        """``(text, revision)`` of a shared document, creating it when new.

        ``draft:<terminal>`` starts empty; ``approval:<id>`` starts as the pending
        command's text (one system op, so the log replays to the same text).
        """
        sd = self._doc(doc)
        if doc.startswith("approval:") and sd.revision == 0:
            text = self.approval(doc[len("approval:") :]).command
            op, rev = sd.receive(0, ot.insert_op(0, 0, text), ev.SYSTEM, self._next_system_seq())
            await self._emit(
                ev.DocOp(agent_id=ev.SYSTEM, doc=doc, revision=rev, op=ot.to_wire(op), client_seq=0)
            )
        return sd.text, sd.revision

    def doc_state(self, doc: str) -> tuple[str, int]:
        """``(text, revision)`` of a document as it is now (no event)."""
        sd = self._doc(doc)
        return sd.text, sd.revision

    async def doc_op(
        self,
        agent_id: str,
        doc: str,
        base_revision: int,
        op: Any,
        client_seq: int,
        clock: dict[str, int] | None = None,
    ) -> tuple[list[Any], int]:
        """Apply ``agent_id``'s op made at ``base_revision``: transform it against the
        ops since, log it (``doc_op``), broadcast it. Returns ``(op', revision)``.
        A resend of an applied ``(agent, client_seq)`` returns the first result."""
        if agent_id != ev.HUMAN:
            self.require(agent_id, TYPE)
        if doc.startswith("approval:") and doc not in self._docs:
            await self.doc_open(doc)
        sd = self._doc(doc)
        try:
            parsed = ot.from_wire(op)
            if sd.is_duplicate(agent_id, client_seq):
                done, rev = sd.receive(base_revision, parsed, agent_id, client_seq)
                return ot.to_wire(done), rev
            if doc.startswith("approval:"):
                info = self.approval(doc[len("approval:") :])
                if info.status != "queued":
                    raise InvalidStateError(f"approval {info.approval_id} is {info.status}")
            applied, rev = sd.receive(base_revision, parsed, agent_id, client_seq)
        except ot.OTError as exc:
            raise InvalidRequestError(f"{doc}: {exc}") from None
        await self._emit(
            ev.DocOp(
                agent_id=agent_id,
                doc=doc,
                revision=rev,
                op=ot.to_wire(applied),
                client_seq=client_seq,
                clock=self._clock_for(agent_id, clock),
            )
        )
        return ot.to_wire(applied), rev

    async def submit_draft(
        self, agent_id: str, terminal: str = "main", timeout: float | None = None
    ) -> str:
        """Queue the text of ``draft:<terminal>`` as ``agent_id``'s command, then clear the draft."""
        doc = f"draft:{terminal}"
        sd = self._doc(doc)
        command = sd.text.strip()
        approval_id = await self.propose(agent_id, command, terminal, timeout)
        if sd.text:
            op, rev = sd.receive(
                sd.revision,
                ot.delete_op(len(sd.text), 0, len(sd.text)),
                ev.SYSTEM,
                self._next_system_seq(),
            )
            await self._emit(
                ev.DocOp(agent_id=ev.SYSTEM, doc=doc, revision=rev, op=ot.to_wire(op), client_seq=0)
            )
        return approval_id

    def _next_system_seq(self) -> int:
        self._system_seq -= 1  # negative: never collides with a client's own counter
        return self._system_seq

    # -------------------------------------------------------- vector clocks

    def clock_of(self, agent_id: str) -> dict[str, int]:
        """What ``agent_id`` has seen (as far as the coordinator told it), plus its own count."""
        c = dict(self._seen.get(agent_id, {}))
        own = self.session.state["clock"].get(agent_id, 0)
        if own > c.get(agent_id, 0):
            c[agent_id] = own
        return c

    def saw(self, agent_id: str, event: ev.Event) -> None:
        """Record that ``event`` was delivered to ``agent_id`` (for edit causality)."""
        if event.clock:
            self._seen[agent_id] = merge(self._seen.get(agent_id, {}), event.clock)

    def _clock_for(self, agent_id: str, given: dict[str, int] | None) -> dict[str, int]:
        c = merge(self.clock_of(agent_id), given or {})
        c[agent_id] = self.session.state["clock"].get(agent_id, 0) + 1
        return c

    # ------------------------------------------------------ file edits, conflicts

    async def report_edit(
        self,
        agent_id: str,
        path: str,
        old: str,
        new: str,
        clock: dict[str, int] | None = None,
    ) -> tuple[ev.FileEdited, list[ev.ConflictDetected]]:
        """Log ``agent_id``'s edit of ``path`` and the conflicts it makes (pushed to both)."""
        if agent_id != ev.HUMAN:
            self.require(agent_id, EDIT)
        if not path:
            raise InvalidRequestError("path must be non-empty")
        old_r, new_r = changed_line_ranges(old, new)
        e = await self._emit(
            ev.FileEdited(
                agent_id=agent_id,
                file_path=path,
                old_hash=hashlib.sha256(old.encode()).hexdigest(),
                new_hash=hashlib.sha256(new.encode()).hexdigest(),
                ranges=old_r,
                new_ranges=new_r,
                lines_added=sum(b - a for a, b in new_r),
                lines_removed=sum(b - a for a, b in old_r),
                clock=self._clock_for(agent_id, clock),
            )
        )
        assert isinstance(e, ev.FileEdited)
        self.saw(agent_id, e)
        edits = self.session.state["file_edits"].get(path, [])
        mine = next((x for x in reversed(edits) if x.edit_id == e.event_id), None)
        conflicts: list[ev.ConflictDetected] = []
        if mine is None:
            return e, conflicts
        seen_pairs: set[tuple[str, tuple[int, int], tuple[int, int]]] = set()
        for other, my_range, their_range, overlap in find_conflicts(mine, edits):
            key = (other.edit_id, my_range, their_range)
            if key in seen_pairs:
                continue
            seen_pairs.add(key)
            c = await self._emit(
                ev.ConflictDetected(
                    conflict_id="c-" + uuid.uuid4().hex[:10],
                    file_path=path,
                    agents=[other.agent_id, agent_id],
                    ranges=[list(their_range), list(my_range)],
                    overlap=list(overlap),
                    edit_ids=[other.edit_id, mine.edit_id],
                )
            )
            assert isinstance(c, ev.ConflictDetected)
            conflicts.append(c)
        return e, conflicts

    def check_edit(
        self,
        agent_id: str,
        path: str,
        ranges: Iterable[tuple[int, int]],
        clock: dict[str, int] | None = None,
    ) -> list[EditInfo]:
        """The logged edits of ``path`` that an edit of ``ranges`` by ``agent_id`` would
        conflict with. The agent is then counted as having seen every edit of ``path``."""
        edits = self.session.state["file_edits"].get(path, [])
        probe = EditInfo(
            edit_id="",
            agent_id=agent_id,
            file_path=path,
            ranges=tuple((int(a), int(b)) for a, b in ranges),
            clock=self._clock_for(agent_id, clock),
            old_hash="",
            new_hash="",
            seq=0,
            timestamp=time.time(),
        )
        out: dict[str, EditInfo] = {}
        for other, *_ in find_conflicts(probe, edits):
            out.setdefault(other.edit_id, other)
        for x in edits:
            self._seen[agent_id] = merge(self._seen.get(agent_id, {}), x.clock)
        return list(out.values())

    async def resolve_conflict(
        self, conflict_id: str, resolution: str, *, by: str = ev.HUMAN, note: str = ""
    ) -> None:
        """Resolve a conflict: keep_first, keep_second, keep_both or manual."""
        if conflict_id not in self.session.state["active_conflicts"]:
            raise NotFoundError(f"no active conflict {conflict_id!r}")
        if resolution not in ("keep_first", "keep_second", "keep_both", "manual"):
            raise InvalidRequestError("resolution: keep_first, keep_second, keep_both or manual")
        await self._emit(
            ev.ConflictResolved(
                agent_id=ev.HUMAN, conflict_id=conflict_id, resolution=resolution, by=by, note=note
            )
        )

    # --------------------------------------------------------------------- tasks

    def tasks(self) -> list[TaskInfo]:
        return sorted(self.session.state["tasks"].values(), key=lambda t: t.created_at)

    def task(self, task_id: str) -> TaskInfo:
        t: TaskInfo | None = self.session.state["tasks"].get(task_id)
        if t is None:
            raise NotFoundError(f"no task {task_id!r}")
        return t

    def suggest_agents(self, description: str, limit: int = 3) -> list[tuple[str, float]]:
        """Agents whose skills fit ``description`` best (CapabilityRegistry), best first."""
        reg = CapabilityRegistry()
        for a in self.session.state["agents"].values():
            reg.register_agent(a.agent_id, a.name, list(a.capabilities))
        return [(str(a), float(s)) for a, s in reg.find_agents_for_task(description, limit)]

    async def create_task(self, description: str, created_by: str = ev.HUMAN) -> str:
        if not isinstance(description, str) or not description.strip():
            raise InvalidRequestError("a task needs a description")
        task_id = "t-" + uuid.uuid4().hex[:8]
        await self._emit(
            ev.TaskCreated(
                agent_id=created_by if created_by in self.session.state["agents"] else ev.HUMAN,
                task_id=task_id,
                description=description,
                created_by=created_by,
                suggested_agents=[[a, s] for a, s in self.suggest_agents(description)],
            )
        )
        return task_id

    async def claim_task(self, task_id: str, agent_id: str) -> None:
        """``agent_id`` takes an open task (assigned to it)."""
        t = self.task(task_id)
        if t.status not in ("open",) and t.assignee != agent_id:
            raise InvalidStateError(f"task {task_id} is {t.status} (assignee {t.assignee or '-'})")
        await self._emit(
            ev.TaskStatusChanged(
                agent_id=agent_id, task_id=task_id, status="assigned", assignee=agent_id
            )
        )

    async def update_task(
        self,
        task_id: str,
        status: str,
        *,
        assignee: str | None = None,
        note: str = "",
        by: str = ev.HUMAN,
    ) -> None:
        """Change a task's status (open, assigned, in_progress, blocked, done).

        The human may do anything; an agent only on a task assigned to it."""
        t = self.task(task_id)
        if status not in TASK_STATUSES:
            raise InvalidRequestError(f"task status must be one of {', '.join(TASK_STATUSES)}")
        if by != ev.HUMAN:
            if t.assignee != by:
                raise PermissionDeniedError(f"task {task_id} is not assigned to {by!r}")
            if assignee not in (None, by):
                raise PermissionDeniedError("only the human reassigns tasks")
        if assignee is not None and assignee and assignee not in self.session.state["agents"]:
            raise NotFoundError(f"no agent {assignee!r}")
        await self._emit(
            ev.TaskStatusChanged(
                agent_id=by if by in self.session.state["agents"] else ev.HUMAN,
                task_id=task_id,
                status=status,
                assignee=assignee or "",
                note=note,
            )
        )
