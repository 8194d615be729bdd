"""The coordinator facade: what the socket server and the TUI call.

Construct and run::

    session = SessionManager("default", data_dir)
    co = Coordinator(session, project_dir=".", shell=None)
    await co.start()        # recovers; opens terminal "main" (or the recorded ones)
    ...
    await co.stop()         # the session stays open: close it yourself

The class composes one collaborator per concern, each in its own module (the table
and the flow of a proposal are in ``coordinator.py``): ``writer`` (durable append,
in-order delivery), ``subscriptions`` (the broadcast), ``outcomes``, ``agents``,
``clocks``, ``rules``, ``terminals``, ``executor``, ``approvals`` (the gate), ``docs``
(OT), ``edits`` (conflicts), ``tasks``; import ``Coordinator`` from here or from
``agentshell.coordinator.coordinator``.

Everything below runs on the coordinator's event loop. Every change is an event:
appended durably, folded into ``co.state`` (the live, read-only ``SessionState``),
then broadcast to subscribers in submission order.

Subscribing::

    sub = co.subscribe()                                 # every event from now on
    sub = co.subscribe(["approval_queued", "approval_decided"])
    sub = co.subscribe(predicate=lambda e: ...)
    async for event in sub: ...                          # or: await sub.get(); sub.close()

A subscriber more than ``maxsize`` (10 000) events behind is dropped
(``sub.overflowed``); read ``co.state`` again and resubscribe.

Agents (``agent_id`` strings; ``"human"`` is the operator)::

    token = await co.add_agent(agent_id, ["read", "run", "python"])  # only a hash is logged
    await co.register_agent(agent_id, caps, name="", metadata=None, token_hash="")
    await co.remove_agent(agent_id, reason="")   # its waiting commands end: "agent removed"
    co.authenticate(agent_id, token) -> AgentInfo | None
    co.permissions(agent_id) -> frozenset[str]     # run / type / edit / read
    co.require(agent_id, "run")                    # raises PermissionDeniedError
    co.agents() -> list[AgentInfo]

Commands and approvals::

    approval_id = await co.propose(agent_id, command, terminal="main", timeout=None)
        # rules first: deny -> rejected now; allow -> approved (rule_id); else queued.
        # timeout: seconds until a queued command expires.
    await co.approve(approval_id, by="human", command=None, revision=None)
        # command: the edited text to run; revision: the approval document's
        # revision the human approved (what runs is exactly that text)
    await co.reject(approval_id, reason="", by="human")
    co.suggest_rule(approval_id) -> (kind, pattern)
    rule_id = await co.approve_similar(approval_id, kind=None, pattern=None,
                                       scope="session", scope_value="", by="human")
    result = await co.wait_result(approval_id)     # RunResult, or raises
        # CommandRejected(.reason) / CommandExpired / CommandFailed / CommandInterrupted
    result = await co.run(agent_id, command, terminal, timeout)   # propose + wait_result
    co.approvals() -> list[ApprovalInfo]           # queued / approved / executing / interrupted

Approved commands run one at a time per terminal, in approval order, only at the
prompt. After a crash, approved or executing ones come back ``interrupted`` (a new
decision is needed: approve or reject); queued ones stay queued.

Rules::

    rule_id = await co.add_rule(action, kind, pattern, scope="session", scope_value="", by="human")
    await co.revoke_rule(rule_id)
    co.rules() -> list[RuleInfo]

Terminals::

    await co.open_terminal(name, cwd=None)         # -> TerminalInfo
    co.terminal(name) -> Terminal                  # the live object (listeners, emulator)
    co.screen(name) -> Frame                       # immutable
    await co.send_input(name, data, by="human")
    await co.resize(name, columns, lines)

Shared documents (OT; ``draft:<terminal>`` and ``approval:<approval_id>``)::

    text, revision = await co.doc_open(doc)
    op, revision = await co.doc_op(agent_id, doc, base_revision, op, client_seq, clock=None)
    approval_id = await co.submit_draft(agent_id, terminal, timeout=None)
        # after a restart a document's history and (agent, seq) dedup table are
        # rebuilt from the log's doc_op events: old base revisions still transform

File edits and conflicts::

    edit, conflicts = await co.report_edit(agent_id, path, old, new, clock=None)
    co.check_edit(agent_id, path, [(start, end), ...], clock=None) -> list[EditInfo]
    await co.resolve_conflict(conflict_id, "keep_first|keep_second|keep_both|manual", note="")

Tasks::

    task_id = await co.create_task(description, created_by="human")   # suggests agents
    await co.claim_task(task_id, agent_id)
    await co.update_task(task_id, status, assignee=None, note="", by="human")
    co.tasks() -> list[TaskInfo]
"""

from agentshell.coordinator.coordinator import Coordinator, Subscription
from agentshell.coordinator.results import (
    CommandError,
    CommandExpired,
    CommandFailed,
    CommandInterrupted,
    CommandRejected,
    CoordinatorError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    RunResult,
)

__all__ = [
    "CommandError",
    "CommandExpired",
    "CommandFailed",
    "CommandInterrupted",
    "CommandRejected",
    "Coordinator",
    "CoordinatorError",
    "InvalidRequestError",
    "InvalidStateError",
    "NotFoundError",
    "RunResult",
    "Subscription",
]
