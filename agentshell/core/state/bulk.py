"""The replay fast path: stored records folded in bulk (:func:`fold_records`,
:func:`fold_batches`), with the same result as :func:`~.reducer.apply_record` on each.
"""

from __future__ import annotations

import itertools
import operator
from collections import _count_elements, deque  # type: ignore[attr-defined]
from dataclasses import dataclass
from typing import Any

from agentshell.core import events as ev
from agentshell.core.errors import InvalidEventError

from .approvals import FINAL_DECISIONS
from .edits import edit_info
from .model import (
    RECENT_COMMANDS,
    RECENT_EDITS_PER_FILE,
    ApprovalInfo,
    EditInfo,
    SessionState,
    replace_info,
)
from .records import record_view
from .reducer import HANDLERS
from .terminals import command_record


@dataclass
class FoldStats:
    """What :func:`fold_records` folded: count, first/last seq, largest timestamp."""

    count: int = 0
    first_seq: int = 0
    last_seq: int = 0
    max_ts: float = 0.0


#: Slow-path event types whose handlers read or replace AgentInfo / TerminalInfo:
#: the bulk fold writes its deferred agent / terminal changes back before them.
_AGENT_EVENTS = frozenset(("agent_registered", "agent_removed", "agent_status_changed"))


_APPROVAL_EVENTS = frozenset(
    ("approval_queued", "approval_decided", "approval_executed", "approval_withdrawn")
)


_TERMINAL_EVENTS = frozenset(
    ("terminal_opened", "terminal_closed", "terminal_resized", "directory_changed")
)


class _BulkFold:
    """The working representation of :func:`fold_records`.

    The hot event types (terminal output, commands, cwd changes, file edits,
    approvals) are folded into cheap mutable forms; the frozen infos are built once,
    by the same constructors :func:`apply_event` uses, when the fold ends (or, for
    agent and terminal infos, before a slow-path event that reads them):

    * ``cmds``: the last ``RECENT_COMMANDS`` command records, a bounded deque (as
      ``(seq, raw)`` when the list has a ``raw``, like the edits below);
    * ``edits``: per file, the last ``RECENT_EDITS_PER_FILE`` edits, as ``(seq,
      raw)`` when the list of records has a ``raw`` (the bytes it was decoded from,
      see ``RecordBatch`` in the store: the few edits still kept at the end are
      decoded again), else as ``(event_id, agent, ranges, clock, old_hash,
      new_hash, seq, timestamp)`` (what :class:`EditInfo` takes). Either way the
      record itself is freed right away, not thousands of records later (cold);
    * ``approvals``: approvals queued during this fold, as
      ``[fields, status, approved_command, decided_by]`` (``fields`` what
      :class:`ApprovalInfo` takes, in its order), in queue order (decided or
      finished ones change or leave in place, as in ``pending_approvals``);
    * ``last_command`` / ``waiting``: deferred ``AgentInfo`` changes;
    * ``output``: bytes of terminal output per terminal not yet added to its info.
    """

    __slots__ = (
        "approvals",
        "clock_from",
        "cmds",
        "edits",
        "last_command",
        "output",
        "state",
        "stopped_at",
        "waiting",
    )

    def __init__(self, state: SessionState) -> None:
        self.state = state
        self.cmds: deque[Any] = deque(maxlen=RECENT_COMMANDS)
        self.edits: dict[str, deque[tuple[Any, ...]]] = {}
        self.approvals: dict[str, list[Any]] = {}
        self.last_command: dict[str, str] = {}
        self.waiting: dict[str, None] = {}
        self.output: dict[str, int] = {}
        #: Progress in the list being folded (see _fold_list).
        self.clock_from = 0
        self.stopped_at = 0

    def flush_agents(self) -> None:
        agents = self.state["agents"]
        for a, cmd in self.last_command.items():
            info = agents.get(a)
            if info is not None:
                if a in self.waiting:
                    agents[a] = replace_info(info, last_command=cmd, status="waiting")
                else:
                    agents[a] = replace_info(info, last_command=cmd)
        for a in self.waiting:
            info = agents.get(a)
            if info is not None and a not in self.last_command:
                agents[a] = replace_info(info, status="waiting")
        self.last_command.clear()
        self.waiting.clear()

    def flush_terminals(self) -> None:
        terminals = self.state["terminals"]
        for name, n in self.output.items():
            t = terminals[name]
            terminals[name] = replace_info(t, output_bytes=t.output_bytes + n)
        self.output.clear()

    def flush_cmds(self) -> None:
        if self.cmds:
            out = self.state["recent_commands"]
            again: dict[int, dict[int, dict[str, Any]]] = {}
            out.extend(command_record(record_view(_again(r, again))) for r in self.cmds)
            if len(out) > RECENT_COMMANDS:
                del out[: len(out) - RECENT_COMMANDS]
            self.cmds.clear()

    def flush_edits(self) -> None:
        if not self.edits:
            return
        file_edits = self.state["file_edits"]
        again: dict[int, dict[int, dict[str, Any]]] = {}  # id(raw) -> seq -> record
        for path, items in self.edits.items():
            lst = file_edits.setdefault(path, [])
            for item in items:
                if len(item) == 2:  # (seq, raw): the record is decoded again
                    lst.append(edit_info(record_view(_again(item, again))))
                    continue
                i, a, ranges, clock, old, new, seq, ts = item
                lst.append(
                    EditInfo(
                        edit_id=i,
                        agent_id=a,
                        file_path=path,
                        ranges=tuple((int(x), int(y)) for x, y in ranges),
                        clock=dict(clock),
                        old_hash=old,
                        new_hash=new,
                        seq=seq,
                        timestamp=ts,
                    )
                )
            if len(lst) > RECENT_EDITS_PER_FILE:
                del lst[: len(lst) - RECENT_EDITS_PER_FILE]
        self.edits.clear()

    def flush_approvals(self) -> None:
        if self.approvals:
            pending = self.state["pending_approvals"]
            for aid, (f, status, command, by) in self.approvals.items():
                pending[aid] = ApprovalInfo(
                    approval_id=f[0],
                    agent_id=f[1],
                    command=f[2],
                    terminal=f[3],
                    cwd=f[4],
                    queued_at=f[5],
                    seq=f[6],
                    status=status,
                    expires_at=f[7],
                    risk=tuple(f[8]),
                    approved_command=command,
                    decided_by=by,
                    external=f[9],
                    editable=f[10],
                )
            self.approvals.clear()

    def flush(self) -> None:
        """Write everything deferred into the state (the fold can go on after)."""
        self.flush_agents()
        self.flush_terminals()
        self.flush_cmds()
        self.flush_edits()
        self.flush_approvals()


def _again(item: Any, again: dict[int, dict[int, dict[str, Any]]]) -> dict[str, Any]:
    """The record of a kept ``(seq, raw)`` (decoded again, once per raw; ``again``
    caches them by ``id(raw)``), or ``item`` itself when it is a record."""
    if type(item) is dict:
        return item
    seq, raw = item
    by_seq = again.get(id(raw))
    if by_seq is None:
        by_seq = again[id(raw)] = {r["s"]: r for r in raw.decode()}
    return by_seq[seq]


def fold_records(state: SessionState, records: Any, max_ts: float = 0.0) -> FoldStats:
    """Fold stored records in order: the replay fast path (a bulk fold).

    Same result as :func:`apply_record` on each, in the same order (takes over each
    record's payload map), but the common event types go into the mutable working
    form of :class:`_BulkFold` and their frozen infos are built once at the end, so
    a record costs a few dict operations. ``state`` is complete when this returns,
    also when it raises (then it holds every record before the bad one). Returns
    the count, the first and last seq and the largest timestamp seen (starting
    from ``max_ts``). :func:`fold_batches` is the same for records in lists.
    """
    if isinstance(records, list):
        return fold_batches(state, (records,), max_ts)
    it = iter(records)
    chunks = iter(lambda: list(itertools.islice(it, _CHUNK)), [])
    return fold_batches(state, chunks, max_ts)


#: Records per list when fold_records cuts a flat iterable up (a few cache-sized lists).
_CHUNK = 128


_get_a = operator.itemgetter("a")


_get_ts = operator.itemgetter("ts")


def fold_batches(state: SessionState, batches: Any, max_ts: float = 0.0) -> FoldStats:
    """:func:`fold_records` over an iterable of lists of records (as the log's bulk
    reader hands them out).

    Per list, the agent clock counts and the largest timestamp are taken in one
    C-level pass each; the per-record loop only dispatches on the event type. A
    list with a record missing its agent or timestamp is folded one record at a
    time (which raises what :func:`apply_record` would, at the same record).
    """
    work = _BulkFold(state)
    stats = FoldStats(max_ts=max_ts)
    agents = state["agents"]
    clock = state["clock"]
    human = ev.HUMAN
    n = 0
    first: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    try:
        for batch in batches:
            if not batch:
                continue
            try:
                counts: dict[str, int] = {}
                _count_elements(counts, map(_get_a, batch))
                top = max(map(_get_ts, batch))
            except Exception:
                # A record without agent or timestamp (or an odd timestamp): exactly
                # as the per-event fold, one by one.
                for rec in batch:
                    rec["a"]  # raise before folding, as apply_record does
                    if rec["ts"] > max_ts:
                        max_ts = rec["ts"]
                    _fold_list(work, [rec], None)  # counts the clock too
                    if first is None:
                        first = rec
                    n += 1
                    last = rec
                continue
            try:
                _fold_list(work, batch, counts)
            except BaseException:
                # Stopped at batch[k]: everything before it is folded (and counted).
                k = work.stopped_at
                _count_clock(agents, clock, human, batch[work.clock_from : k])
                if k:
                    first = first or batch[0]
                    top = max(map(_get_ts, batch[:k]))
                    max_ts = top if top > max_ts else max_ts
                    n += k
                    last = batch[k - 1]
                raise
            if first is None:
                first = batch[0]
            if top > max_ts:
                max_ts = top
            n += len(batch)
            last = batch[-1]
    finally:
        work.flush()
        if first is not None and last is not None:
            if state["event_count"] == 0 and not state["created_at"]:
                state["created_at"] = first["ts"]
            state["event_count"] += n
            state["last_seq"] = last["s"]
            state["last_updated_at"] = last["ts"]
            stats.count, stats.first_seq, stats.last_seq = n, first["s"], last["s"]
            stats.max_ts = max_ts
    return stats


def _count_clock(
    agents: dict[str, Any], clock: dict[str, int], human: str, recs: Any, counts: Any = None
) -> None:
    """Count the events of ``recs`` (or the given agent ``counts``) into the clock:
    an event counts for its agent when the agent is registered (or is the human)."""
    if counts is None:
        counts = {}
        _count_elements(counts, map(_get_a, recs))
    for a, k in counts.items():
        if a in agents or a == human:
            clock[a] = clock.get(a, 0) + k


def _fold_list(work: _BulkFold, batch: list[dict[str, Any]], counts: Any) -> None:
    """Fold the records of ``batch`` in order, timestamps aside (the caller's).

    The clock is counted from ``counts`` (the agent counts of the whole batch) or,
    when an agent registers or leaves in the batch (or ``counts`` is None),
    piecewise. On an error at ``batch[k]`` the exception carries on with
    ``work.stopped_at = k`` and ``work.clock_from`` = the first record whose clock
    is not counted yet (the caller counts up to ``k``).
    """
    state = work.state
    agents = state["agents"]
    cwds = state["current_working_dirs"]
    terminals = state["terminals"]
    pending = state["pending_approvals"]
    docs = state["docs"]
    clock = state["clock"]
    human = ev.HUMAN
    cmds_append = work.cmds.append
    edits = work.edits
    approvals = work.approvals
    last_command = work.last_command
    waiting = work.waiting
    output = work.output
    final = FINAL_DECISIONS
    handlers = HANDLERS
    agent_events = _AGENT_EVENTS
    work.clock_from = 0
    raw = getattr(batch, "raw", None)
    rec: dict[str, Any] | None = None
    it = iter(batch)
    try:
        while True:
            try:
                for rec in it:
                    t = rec["t"]
                    p = rec["p"]
                    if t == "terminal_output":
                        term = p["terminal"]
                        if term in terminals:
                            output[term] = output.get(term, 0) + len(p["data"])
                    elif t == "command_executed":
                        cmd = p["command"]
                        cmds_append(rec if raw is None else (rec["s"], raw))
                        a = rec["a"]
                        if a in agents:
                            last_command[a] = cmd
                    elif t == "directory_changed" and not p.get("terminal"):
                        cwds[rec["a"]] = p["path"]
                    elif t == "file_edited":
                        path = p["file_path"]
                        d = edits.get(path)
                        if d is None:
                            d = edits[path] = deque(maxlen=RECENT_EDITS_PER_FILE)
                        if raw is not None:  # decoded again if it is still kept at the end
                            d.append((rec["s"], raw))
                            continue
                        d.append(
                            (
                                rec["i"],
                                rec["a"],
                                p["ranges"],
                                rec["c"],
                                p["old_hash"],
                                p["new_hash"],
                                rec["s"],
                                rec["ts"],
                            )
                        )
                    elif t == "approval_queued" and p["approval_id"] not in pending:
                        a = rec["a"]
                        fields = (
                            p["approval_id"],
                            a,
                            p["command"],
                            p["terminal"],
                            p["cwd"],
                            rec["ts"],
                            rec["s"],
                            p["expires_at"],
                            p["risk"],
                            p.get("external", False),
                            p.get("editable", True),
                        )
                        approvals[p["approval_id"]] = [fields, "queued", None, ""]
                        if a in agents:
                            waiting[a] = None
                    elif t == "approval_decided" and p["approval_id"] in approvals:
                        aid = p["approval_id"]
                        decision = p["decision"]
                        if decision in final:
                            del approvals[aid]
                            docs.pop(ev.approval_doc(aid), None)  # as approvals.done
                        else:
                            entry = approvals[aid]
                            entry[1] = decision
                            command = p.get("command")
                            if command is not None:
                                entry[2] = command
                            entry[3] = p.get("by", human)
                    elif t == "approval_executed" and p["approval_id"] in approvals:
                        if p["status"] == "executing":
                            approvals[p["approval_id"]][1] = "executing"
                        else:
                            del approvals[p["approval_id"]]
                            docs.pop(ev.approval_doc(p["approval_id"]), None)
                    elif t in agent_events:
                        # Who is registered changes here: count the clock before it.
                        k = _position(batch, rec, work.clock_from)
                        _count_clock(agents, clock, human, batch[work.clock_from : k])
                        work.clock_from = k
                        counts = None
                        _slow(work, rec, t, handlers)
                        _count_clock(agents, clock, human, (rec,))
                        work.clock_from = k + 1
                    elif t != "terminal_input":
                        _slow(work, rec, t, handlers)
                break
            except KeyError:
                # A field missing from a record: the per-event handler raises what
                # apply_event would (or folds it, and the bulk fold goes on).
                assert rec is not None
                t = rec["t"]
                if t in agent_events:
                    k = _position(batch, rec, work.clock_from)
                    _count_clock(agents, clock, human, batch[work.clock_from : k])
                    work.clock_from = k
                    counts = None
                    _slow(work, rec, t, handlers)
                    _count_clock(agents, clock, human, (rec,))
                    work.clock_from = k + 1
                else:
                    _slow(work, rec, t, handlers)
    except BaseException:
        work.stopped_at = _position(batch, rec, 0) if rec is not None else 0
        raise
    if counts is not None and work.clock_from == 0:
        _count_clock(agents, clock, human, (), counts)
    else:
        _count_clock(agents, clock, human, batch[work.clock_from :])


def _position(batch: list[Any], rec: Any, start: int) -> int:
    """Index of the object ``rec`` in ``batch`` (searched from ``start``, by identity)."""
    for i in range(start, len(batch)):
        if batch[i] is rec:
            return i
    raise ValueError("record not in its batch")  # pragma: no cover


def _slow(work: _BulkFold, rec: dict[str, Any], t: str, handlers: dict[str, Any]) -> None:
    """Fold one record with the per-event handler, after writing back what it reads."""
    handler = handlers.get(t)
    if handler is None:
        raise InvalidEventError(f"unknown event type {t!r} in record")
    if t in _AGENT_EVENTS:
        work.flush_agents()
    elif t in _TERMINAL_EVENTS:
        work.flush_terminals()
    elif t in _APPROVAL_EVENTS:
        # e.g. re-queued while still pending: replaced in place, as apply_event does
        work.flush_agents()
        work.flush_approvals()
    elif t == "command_executed":
        work.flush_agents()
        work.flush_cmds()
    elif t == "file_edited":
        work.flush_edits()
    handler(work.state, record_view(rec))
