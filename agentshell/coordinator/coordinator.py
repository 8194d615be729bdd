"""The coordinator: the single writer of a session (its whole API: :mod:`.api`).

It is built from named collaborators, made here and handed to each other, none
inheriting from another, each in its own module and testable alone:

==============  =========================================================================
``writer``      :class:`EventWriter`: the one way anything changes: durable append, then
                in-order delivery to the listeners and the ``broadcast``
``broadcast``   :class:`Broadcast`: the subscribers (the socket server, the TUI)
``outcomes``    :class:`Outcomes`: how each approval ended, and who waits to hear it
``directory``   :class:`AgentDirectory`: agents, tokens, permissions
``clocks``      :class:`Clocks`: what each agent has seen (vector clocks)
``rule_book``   :class:`RuleBook`: the human's allow / ask / deny rules
``shells``      :class:`TerminalSet`: the live terminals, their input and output
``executor``    :class:`Executor`: approved commands, one at a time per terminal
``gate``        :class:`ApprovalGate`: the approval queue and its state machine
``docs``        :class:`SharedDocs`: OT documents (drafts, an approval's editor)
``edit_log``    :class:`EditLog`: reported edits and the conflicts between them
``task_board``  :class:`TaskBoard`: tasks, claimed and routed by capability
``waiters``     :class:`Waiters`: who waits for each approval; nobody for a grace period
                -> withdrawn (no rule runs it, the human is told nobody gets the output)
``history``     :class:`History`: how approvals ended before this run, read from the log
==============  =========================================================================

How one proposal flows (:meth:`Coordinator.propose`, then :meth:`approve`):

1. **received**: from the socket server's ``propose``/``run`` op, a bridge, or the TUI;
2. **checked**: the agent holds ``run``, the command is one line, the terminal is open;
3. **queued**: ``approval_queued`` is recorded (durable, then broadcast: it shows in
   every operator's queue);
4. **decided**: by a rule at once (deny beats ask beats allow), else by the human
   (``approve`` with an edited text or the approval document's revision, ``reject``
   with a reason), or it expires; each decision is ``approval_decided``;
5. **executed**: the executor runs an approved command in its terminal at the prompt;
6. **recorded**: ``approval_executed`` (executing, executed / failed) and
   ``command_executed`` with exit code and output;
7. **broadcast**: each of those events reaches subscribers once durable, in order, and
   the outcome reaches the agent waiting in :meth:`wait_result`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from agentshell.core import events as ev
from agentshell.core.errors import PermissionDeniedError
from agentshell.core.rules import suggest_rule
from agentshell.core.state import (
    AgentInfo,
    ApprovalInfo,
    EditInfo,
    RuleInfo,
    TaskInfo,
    TerminalInfo,
)

from .agents import EDIT, READ, RUN, TYPE, AgentDirectory
from .approvals import ApprovalGate, check_command
from .background import Background
from .clocks import Clocks
from .docs import SharedDocs
from .edits import EditLog
from .executor import Executor
from .history import History
from .outcomes import Outcomes
from .results import InvalidRequestError, InvalidStateError, NotFoundError, RunResult
from .rules import RULE_ACTIONS, RULE_KINDS, RULE_SCOPES, RuleBook
from .subscriptions import Broadcast, Subscription
from .tasks import TASK_STATUSES, TaskBoard
from .terminals import TerminalSet
from .waiters import Waiters
from .writer import EventWriter

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager
    from agentshell.terminal import Terminal

__all__ = [
    "EDIT",
    "READ",
    "RULE_ACTIONS",
    "RULE_KINDS",
    "RULE_SCOPES",
    "RUN",
    "TASK_STATUSES",
    "TYPE",
    "Coordinator",
    "Subscription",
]


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
        user_rc: bool = True,
    ) -> None:
        self.session = session
        self.project_dir = str(project_dir) if project_dir is not None else os.getcwd()
        self.shell = shell
        self._started = False
        self.background = Background()
        self.broadcast = Broadcast()
        self.writer = EventWriter(session, self.broadcast, self.background)
        self.outcomes = Outcomes()
        self.directory = AgentDirectory(session, self.writer)
        self.clocks = Clocks(session)
        self.rule_book = RuleBook(session, self.writer)
        #: ``user_rc``: source the user's shell rc file (``~/.bashrc``) in terminals;
        #: tests turn it off so that a slow rc (``pyenv init`` waiting on its rehash
        #: lock) cannot stall their shells.
        self.shells = TerminalSet(
            session,
            self.writer,
            self.directory,
            self.background,
            project_dir=self.project_dir,
            shell=shell,
            columns=columns,
            lines=lines,
            user_rc=user_rc,
        )
        self.executor = Executor(
            session, self.writer, self.shells, self.outcomes, run_timeout=run_timeout
        )
        self.gate = ApprovalGate(
            session,
            self.writer,
            self.outcomes,
            self.background,
            project_dir=self.project_dir,
            on_approved=self.executor.enqueue,
        )
        self.docs = SharedDocs(
            session, self.writer, self.directory, self.clocks, self.shells, self.gate.approval
        )
        self.edit_log = EditLog(session, self.writer, self.directory, self.clocks)
        self.task_board = TaskBoard(session, self.writer)
        self.history = History(session)
        self.waiters = Waiters(session, self.background, on_gone=self._gone)
        self.writer.listen(durable=self.waiters.ended)
        # once durable, an event settles its approval's waiters, then ends its shared text
        self.writer.listen(submitted=self.outcomes.submitted, durable=self.outcomes.durable)
        self.writer.listen(durable=self.docs.durable)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Recover what the log says and open the terminals. Nothing is executed again."""
        if self._started:
            return
        self.background.loop = asyncio.get_running_loop()
        self._started = True
        state = self.session.state
        await self.gate.recover()  # approved / executing before a crash -> interrupted
        # a log written before removal ended an agent's commands may still hold some
        known = state["agents"]
        gone = {a.agent_id for a in self.approvals()} - set(known) - {ev.HUMAN, ev.SYSTEM}
        for agent_id in sorted(gone):
            await self.gate.end_approvals_of(agent_id)
        await self.directory.disconnect_all()
        # nobody waits for anything yet: each agent's approval gets the grace period
        # to be claimed again by its reconnecting agent, else it is withdrawn
        for info in self.approvals():
            self.waiters.orphan(info.approval_id)
        # every terminal comes back, a shell that exited included (its pane offered a
        # new shell on the next key; after a restart it simply has one)
        terminals = list(state["terminals"].values())
        if not terminals:
            await self.open_terminal("main", self.project_dir)
        else:
            for t in terminals:
                await self.open_terminal(
                    t.name, t.cwd or self.project_dir, columns=t.columns, lines=t.lines
                )

    async def stop(self) -> None:
        """Stop executors and terminals, close subscriptions. The session stays open."""
        self.shells.stopping()
        self.writer.stop_holding()  # a held event will not be recorded now
        self.gate.stop()
        self.waiters.stop()
        await self.executor.stop()
        await self.shells.close_all()
        await self.writer.snapshot_done()
        await self.background.cancel_all()
        self.broadcast.close_all()
        self.outcomes.interrupt_all("the coordinator stopped")
        await self.writer.final_snapshot()

    # ------------------------------------------------------------------ the flow of a command

    async def propose(
        self,
        agent_id: str,
        command: str,
        terminal: str = "main",
        timeout: float | None = None,
        *,
        external: bool = False,
        editable: bool = True,
        approval_id: str | None = None,
        resent: bool = False,
    ) -> str:
        """Queue ``command`` from ``agent_id`` for ``terminal``; returns the approval id.

        Rules decide first: deny -> rejected at once, allow -> approved (the decision
        names the rule), ask / no rule -> waits for the human. ``timeout`` (seconds)
        is how long the agent will wait for a decision; then it expires.
        ``external``: the agent runs it itself once approved (a vendor CLI's own
        tool call, a wrapped CLI's prompt); here it is only decided, never run.
        ``editable`` False: the human may approve or reject it, not change it.
        ``approval_id``: the id the agent chose (it can then ask ``result`` even if
        this call's reply is lost); ``resent``: this is that same proposal sent again
        after a lost connection: when it is already known (pending, or ended, in
        this run or in the log) it is not queued a second time.
        """
        # checked: may this agent run commands, is it one line, is the terminal open
        self.directory.require(agent_id, RUN)
        check_command(command)
        cwd = self.shells.cwd(terminal)
        if approval_id is not None and resent:
            known = self.state["pending_approvals"].get(approval_id)
            owner = known.agent_id if known is not None else None
            if owner is None and self.outcomes.finished(approval_id) is None:
                owner = await self.history.queued_by(approval_id)
            elif owner is None:
                owner = agent_id
            if owner is not None:
                if owner != agent_id:
                    raise InvalidStateError(f"approval id {approval_id!r} is taken")
                # queued before the connection went: not again. A crash between its
                # queueing and the rules' decision left it undecided: decide it now,
                # as its first sending would have
                if known is not None and known.status == "queued" and not known.withdrawn:
                    await self._rules_decide(approval_id, known.command, agent_id, terminal)
                return approval_id
        # queued: durable, then broadcast (every operator's queue shows it); a rule's
        # decision shares its fsync round (the state holds the item from the submit)
        approval_id, submitted = self.gate.submit_queued(
            agent_id,
            command,
            terminal,
            cwd,
            timeout,
            external=external,
            editable=editable,
            approval_id=approval_id,
        )
        queued = asyncio.ensure_future(submitted)
        try:
            if self.writer.holding:  # held events are not folded: decide once recorded
                await queued
            # an agent's proposal nobody claims within the grace period is withdrawn (a
            # socket connection holds it at once; an in-process caller by wait_result)
            self.waiters.orphan(approval_id)
            await self._rules_decide(approval_id, command, agent_id, terminal)
        finally:
            await queued  # the agent hears of its proposal once it is durable
        return approval_id

    async def _rules_decide(
        self, approval_id: str, command: str, agent_id: str, terminal: str
    ) -> None:
        # decided: by the human's rules now, else by the human (or it expires)
        action, rule_id = self.rule_book.decide(command, agent_id, terminal)
        if action == "deny":
            reason = f"denied by rule {rule_id}"
            await self.gate.decide(
                approval_id, "rejected", by=ev.SYSTEM, rule_id=rule_id or "", reason=reason
            )
        elif action == "allow":  # approved: the gate hands it to the executor
            await self.gate.decide(approval_id, "approved", by=ev.SYSTEM, rule_id=rule_id or "")
        else:
            self.gate.arm_expiry(approval_id)

    async def approve(
        self,
        approval_id: str,
        by: str = ev.HUMAN,
        command: str | None = None,
        revision: int | None = None,
    ) -> None:
        """Approve a queued (or interrupted) command; ``command`` replaces its text.

        ``revision``: the approval document's revision the human approved (what runs
        is exactly that text); with neither, text edited in the document runs."""
        if command is not None and (not isinstance(command, str) or not command.strip()):
            raise InvalidRequestError("an edited command must be a non-empty string")
        info = self.gate.approval(approval_id)
        command, revision = self.docs.approved_text(approval_id, command, revision)
        if not info.editable and command is not None and command != info.command:
            raise InvalidStateError(
                f"approval {approval_id} cannot be edited (its agent can only be told yes"
                " or no): approve it as it is, or reject it"
            )
        # executed -> recorded -> broadcast: the executor takes it from here
        await self.gate.approve(approval_id, by=by, command=command, revision=revision)

    async def reject(self, approval_id: str, reason: str = "", by: str = ev.HUMAN) -> None:
        """Reject a pending command; ``reason`` is sent back to the agent."""
        await self.gate.reject(approval_id, reason, by=by)

    async def wait_result(self, approval_id: str) -> RunResult:
        """Wait until the approval ends: its RunResult, or raise CommandRejected /
        CommandExpired / CommandFailed / CommandInterrupted (coordinator stopped).

        An approval that ended before this coordinator started (a restart between
        the end and the agent hearing of it) is answered from the log."""
        with self.waiters.holding(approval_id):
            try:
                return await self.outcomes.wait(approval_id, self.gate.approval)
            except NotFoundError:
                ended = await self.history.ended(approval_id)
                if ended is None:
                    raise
        if isinstance(ended, RunResult):
            return ended
        raise ended

    def watch(self, approval_id: str, holder: object) -> None:
        """``holder`` (a connection) waits to hear how ``approval_id`` ends."""
        self.waiters.hold(approval_id, holder)

    def unwatch(self, approval_id: str, holder: object) -> None:
        """``holder`` no longer waits (it closed); with nobody left the grace starts."""
        self.waiters.release(approval_id, holder)

    def waited_for(self, approval_id: str) -> bool:
        """Whether an agent waits for ``approval_id``'s outcome now (False also once
        it is withdrawn: nobody will receive the output)."""
        info = self.state["pending_approvals"].get(approval_id)
        if info is not None and info.withdrawn:
            return False
        if info is not None and info.agent_id in (ev.HUMAN, ev.SYSTEM):
            return True  # the operator's own: the TUI shows its output
        return self.waiters.waiting(approval_id)

    async def withdraw(self, agent_id: str, approval_id: str, reason: str = "") -> bool:
        """``agent_id`` no longer waits for its ``approval_id`` (it gave up): logged
        (``approval_withdrawn``); it stays queued, marked, for the human to reject
        (or approve, told that nobody gets the output). False when it was already
        decided (or marked)."""
        info = self.gate.approval(approval_id)
        if agent_id != ev.HUMAN and info.agent_id != agent_id:
            raise PermissionDeniedError(f"approval {approval_id} is not {agent_id}'s")
        why = reason or "withdrawn by its agent (it stopped waiting)"
        return await self.gate.withdraw(approval_id, why, by=agent_id)

    async def _gone(self, approval_id: str, reason: str) -> None:
        if approval_id in self.state["pending_approvals"]:
            await self.gate.withdraw(approval_id, reason, by=ev.SYSTEM)

    async def run(
        self, agent_id: str, command: str, terminal: str = "main", timeout: float | None = None
    ) -> RunResult:
        """propose + wait_result."""
        return await self.wait_result(await self.propose(agent_id, command, terminal, timeout))

    def approvals(self) -> list[ApprovalInfo]:
        """Pending approvals (queued, approved, executing, interrupted) in queue order."""
        return self.gate.approvals()

    def approval(self, approval_id: str) -> ApprovalInfo:
        return self.gate.approval(approval_id)

    def suggest_rule(self, approval_id: str) -> tuple[str, str]:
        """The (kind, pattern) "approve similar" would propose for this approval."""
        kind, pattern = suggest_rule(self.gate.approval(approval_id).command)
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
        info = self.gate.approval(approval_id)
        if kind is None or pattern is None:
            skind, spattern = suggest_rule(info.command)
            kind = kind or skind
            pattern = pattern if pattern is not None else spattern
        rule_id = await self.rule_book.add(
            "allow", kind, pattern, scope=scope, scope_value=scope_value, by=by
        )
        if self.gate.approval(approval_id).status in ("queued", "interrupted"):
            await self.approve(approval_id, by=by)
        return rule_id

    # ------------------------------------------------------------------ events

    @property
    def state(self) -> Any:
        """The live session state (read-only: never mutate it)."""
        return self.session.state

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
        return self.broadcast.subscribe(types, predicate=predicate, maxsize=maxsize)

    async def _emit(self, event: ev.Event) -> ev.Event:
        """Record ``event`` as it is (for tests that write a log's past by hand)."""
        return await self.writer.record(event)

    @property
    def snapshot_every(self) -> int:
        """A snapshot is written every this many events (and when the coordinator stops)."""
        return self.writer.snapshot_every

    @snapshot_every.setter
    def snapshot_every(self, n: int) -> None:
        self.writer.snapshot_every = n

    @property
    def run_timeout(self) -> float | None:
        return self.executor.run_timeout

    # ------------------------------------------------------------------ agents

    def agent(self, agent_id: str) -> AgentInfo:
        return self.directory.agent(agent_id)

    def agents(self) -> list[AgentInfo]:
        return self.directory.agents()

    def permissions(self, agent_id: str) -> frozenset[str]:
        """The permission words of ``agent_id`` (the human has every permission)."""
        return self.directory.permissions(agent_id)

    def require(self, agent_id: str, permission: str) -> None:
        """Raise PermissionDeniedError unless ``agent_id`` holds ``permission``."""
        self.directory.require(agent_id, permission)

    def authenticate(self, agent_id: str, token: str) -> AgentInfo | None:
        """The agent when ``token`` is its token, else None."""
        return self.directory.authenticate(agent_id, token)

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
        return await self.directory.register(
            agent_id, capabilities, name=name, metadata=metadata, token_hash=token_hash
        )

    async def add_agent(self, agent_id: str, capabilities: Iterable[str], *, name: str = "") -> str:
        """Register an agent with a fresh token; returns the token (only its hash is kept)."""
        return await self.directory.add(agent_id, capabilities, name=name)

    async def remove_agent(self, agent_id: str, reason: str = "") -> None:
        """Remove the agent, then end every command of its still waiting to run.

        Queued (or interrupted) ones are rejected and approved ones that have not
        started fail, both with the reason "agent removed"; a command already
        executing runs to its end. A removed agent can propose nothing more.
        """
        await self.directory.remove(agent_id, reason)
        await self.gate.end_approvals_of(agent_id)

    async def set_agent_status(self, agent_id: str, status: str) -> None:
        await self.directory.set_status(agent_id, status)

    def clock_of(self, agent_id: str) -> dict[str, int]:
        """What ``agent_id`` has seen (as far as the coordinator told it), plus its own count."""
        return self.clocks.clock_of(agent_id)

    def saw(self, agent_id: str, event: ev.Event) -> None:
        """Record that ``event`` was delivered to ``agent_id`` (for edit causality)."""
        self.clocks.saw(agent_id, event)

    # ------------------------------------------------------------------ rules

    def rules(self) -> list[RuleInfo]:
        return self.rule_book.rules()

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
        return await self.rule_book.add(
            action, kind, pattern, scope=scope, scope_value=scope_value, by=by
        )

    async def revoke_rule(self, rule_id: str, by: str = ev.HUMAN) -> None:
        await self.rule_book.revoke(rule_id, by)

    # ------------------------------------------------------------------ terminals

    def terminals(self) -> list[TerminalInfo]:
        return self.shells.terminals()

    def terminal(self, name: str = "main") -> Terminal:
        """The live Terminal object (for the TUI: listeners, resize)."""
        return self.shells.get(name)

    async def open_terminal(
        self,
        name: str,
        cwd: str | None = None,
        *,
        columns: int | None = None,
        lines: int | None = None,
    ) -> TerminalInfo:
        """Start a new shell named ``name`` in ``cwd`` (logged as terminal_opened); its
        executor worker starts with it."""
        info = await self.shells.open(name, cwd, columns=columns, lines=lines)
        self.executor.attach(name)
        return info

    def screen(self, terminal: str = "main") -> Any:
        """The terminal's current immutable Frame."""
        return self.shells.screen(terminal)

    async def send_input(self, terminal: str, data: bytes, by: str = ev.HUMAN) -> None:
        """Type ``data`` into ``terminal`` (logged as terminal_input with who typed)."""
        await self.shells.send_input(terminal, data, by)

    async def resize(self, terminal: str, columns: int, lines: int) -> None:
        """Resize ``terminal`` (logged as terminal_resized)."""
        await self.shells.resize(terminal, columns, lines)

    # ------------------------------------------------------------------ shared documents

    async def doc_open(self, doc: str) -> tuple[str, int]:
        """``(text, revision)`` of a shared document, creating it when new."""
        return await self.docs.open(doc)

    def doc_state(self, doc: str) -> tuple[str, int]:
        """``(text, revision)`` of a document as it is now (no event)."""
        return self.docs.state(doc)

    async def doc_op(
        self,
        agent_id: str,
        doc: str,
        base_revision: int,
        op: Any,
        client_seq: int,
        clock: dict[str, int] | None = None,
    ) -> tuple[list[Any], int]:
        """Apply ``agent_id``'s op made at ``base_revision`` (transformed, logged,
        broadcast). Returns ``(op', revision)``."""
        return await self.docs.apply(agent_id, doc, base_revision, op, client_seq, clock)

    async def submit_draft(
        self, agent_id: str, terminal: str = "main", timeout: float | None = None
    ) -> str:
        """Queue the text of ``draft:<terminal>`` as ``agent_id``'s command, then clear the draft."""
        command = self.docs.draft_text(terminal).strip()
        approval_id = await self.propose(agent_id, command, terminal, timeout)
        await self.docs.clear_draft(terminal)
        return approval_id

    # ------------------------------------------------------------------ edits and conflicts

    async def report_edit(
        self,
        agent_id: str,
        path: str,
        old: str,
        new: str,
        clock: dict[str, int] | None = None,
    ) -> tuple[ev.FileEdited, list[ev.ConflictDetected]]:
        """Log ``agent_id``'s edit of ``path`` and the conflicts it makes (pushed to both)."""
        return await self.edit_log.report(agent_id, path, old, new, clock)

    def check_edit(
        self,
        agent_id: str,
        path: str,
        ranges: Iterable[tuple[int, int]],
        clock: dict[str, int] | None = None,
    ) -> list[EditInfo]:
        """The logged edits of ``path`` that an edit of ``ranges`` would conflict with."""
        return self.edit_log.check(agent_id, path, ranges, clock)

    def conflict_sides(
        self, conflict_id: str
    ) -> tuple[str, tuple[str, ...], str, tuple[str, ...], int, int] | None:
        """Each side of an active conflict as its agent wrote it (for a side-by-side)."""
        return self.edit_log.sides(conflict_id)

    async def resolve_conflict(
        self, conflict_id: str, resolution: str, *, by: str = ev.HUMAN, note: str = ""
    ) -> None:
        """Resolve a conflict: keep_first, keep_second, keep_both or manual."""
        await self.edit_log.resolve(conflict_id, resolution, by=by, note=note)

    # ------------------------------------------------------------------ tasks

    def tasks(self) -> list[TaskInfo]:
        return self.task_board.tasks()

    def task(self, task_id: str) -> TaskInfo:
        return self.task_board.task(task_id)

    def suggest_agents(self, description: str, limit: int = 3) -> list[tuple[str, float]]:
        """Agents whose skills fit ``description`` best (CapabilityRegistry), best first."""
        return self.task_board.suggest_agents(description, limit)

    async def create_task(self, description: str, created_by: str = ev.HUMAN) -> str:
        return await self.task_board.create(description, created_by)

    async def claim_task(self, task_id: str, agent_id: str) -> None:
        """``agent_id`` takes an open task (assigned to it)."""
        await self.task_board.claim(task_id, agent_id)

    async def update_task(
        self,
        task_id: str,
        status: str,
        *,
        assignee: str | None = None,
        note: str = "",
        by: str = ev.HUMAN,
    ) -> None:
        """Change a task's status (the human anything; an agent only its own task)."""
        await self.task_board.update(task_id, status, assignee=assignee, note=note, by=by)
