"""The tail of the session's event log, filterable by agent and event type."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, RichLog

from agentshell.core import ot
from agentshell.core.events import HUMAN, SYSTEM, Event, approval_of_doc
from agentshell.tui.text import printable

NOISY = frozenset({"terminal_output", "terminal_input", "doc_op"})

#: How a conflict resolution reads in the log.
RESOLUTION_WORDS = {
    "keep_first": "kept the first edit",
    "keep_second": "kept the second edit",
    "keep_both": "kept both edits",
    "manual": "merged by hand",
}


@dataclass
class LogContext:
    """What earlier events said, for lines whose event does not repeat it: the command
    of each approval (``approval_queued``), who amended its shared text and what that
    text became (``doc_op`` on ``approval:ID``), and the file and agents of each
    conflict."""

    commands: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    editors: dict[str, list[str]] = field(default_factory=dict)
    conflicts: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def learn(self, e: Event) -> None:
        p = e.payload
        if e.event_type == "approval_queued":
            self.commands[str(p.get("approval_id", ""))] = str(p.get("command", ""))
        elif e.event_type == "doc_op":
            aid = approval_of_doc(str(p.get("doc", "")))
            if aid is not None:
                self._learn_edit(e.agent_id, aid, p.get("op"))
        elif e.event_type == "conflict_detected":
            agents = tuple(str(a) for a in p.get("agents") or ())
            self.conflicts[str(p.get("conflict_id", ""))] = (str(p.get("file_path", "")), agents)

    def _learn_edit(self, agent_id: str, approval_id: str, op: Any) -> None:
        try:
            self.texts[approval_id] = ot.apply(self.texts.get(approval_id, ""), ot.from_wire(op))
        except Exception:  # an op this view cannot follow: it just knows less
            self.texts.pop(approval_id, None)
        if agent_id != SYSTEM:  # the system seeds the text with the proposal
            who = self.editors.setdefault(approval_id, [])
            if agent_id not in who:
                who.append(agent_id)

    def edited_by(self, approval_id: str, command: str, decider: str) -> list[str]:
        """Who changed the proposal into ``command``: the shared text's editors, and
        the decider too when ``command`` is not that text (an edit made on approving)."""
        who = list(self.editors.get(approval_id, ()))
        if self.texts.get(approval_id) != command and decider not in who:
            who.append(decider)
        return who


def decided_by(p: dict[str, Any]) -> str:
    """Who decided: ``human``, ``rule r-3`` (a rule decided for the system) or ``system``."""
    if p.get("rule_id"):
        return f"rule {p['rule_id']}"
    return str(p.get("by") or HUMAN)


def _decision(p: dict[str, Any], ctx: LogContext) -> str:
    aid = str(p.get("approval_id", ""))
    edited = p.get("command") is not None
    command = p["command"] if edited else ctx.commands.get(aid)
    decider = decided_by(p)
    text = f"{p.get('decision', '?')} by {decider}"
    if edited:
        who = ctx.edited_by(aid, str(command), decider)
        text += " (edited)" if who == [decider] else f" (edited by {', '.join(who)})"
    text += f": $ {command}" if command is not None else f": {aid}"
    if p.get("reason"):
        text += f" · reason: {p['reason']}"
    return text


def _resolution(p: dict[str, Any], ctx: LogContext) -> str:
    cid = str(p.get("conflict_id", ""))
    file_path, agents = ctx.conflicts.get(cid, (cid, ()))
    choice = str(p.get("resolution", "?"))
    words = RESOLUTION_WORDS.get(choice, choice)
    whose = {"keep_first": agents[:1], "keep_second": agents[1:2]}.get(choice, ())
    if whose:
        words += f" ({whose[0]}'s)"
    text = f"{file_path}: {words} by {decided_by(p)}"
    if p.get("note"):
        text += f" · note: {p['note']}"
    return text


def summarize(e: Event, ctx: LogContext | None = None) -> str:
    """The line's text after the event type and agent (raw: :func:`printable` it)."""
    p = e.payload
    ctx = ctx or LogContext()
    if e.event_type == "approval_decided":
        return _decision(p, ctx)
    if e.event_type == "conflict_resolved":
        return _resolution(p, ctx)
    for key in ("command", "file_path", "description", "status", "decision", "pattern"):
        if p.get(key):
            extra = ""
            if e.event_type == "command_executed":
                extra = f" → exit {p.get('exit_code')}"
            return f"{p[key]}{extra}"
    if "terminal" in p:
        return str(p["terminal"])
    return ""


class EventLogView(Vertical):
    """Filter with ``agent=NAME`` / ``type=WORD`` (substring match) in the two inputs."""

    MAX = 2000

    def __init__(self, *, id: str | None = None, show_noisy: bool = False) -> None:
        super().__init__(id=id)
        self._events: deque[Event] = deque(maxlen=self.MAX)
        self._show_noisy = show_noisy
        self._log_context = LogContext()

    def compose(self) -> ComposeResult:
        with Horizontal(id="log-filters"):
            yield Input(placeholder="filter by agent", id="log-agent")
            yield Input(placeholder="filter by type (e.g. approval)", id="log-type")
        yield RichLog(id="log-lines", wrap=False, highlight=False, max_lines=self.MAX)

    def _matches(self, e: Event) -> bool:
        if e.event_type in NOISY and not self._show_noisy:
            return False
        agent = self.query_one("#log-agent", Input).value.strip()
        kind = self.query_one("#log-type", Input).value.strip()
        if agent and agent not in e.agent_id:
            return False
        return not (kind and kind not in e.event_type)

    def _line(self, e: Event) -> Text:
        t = Text()
        t.append(time.strftime("%H:%M:%S ", time.localtime(e.timestamp)), style="dim")
        t.append(f"#{e.seq:<5} ", style="dim")
        t.append(f"{e.event_type:<20} ", style="bold")
        t.append(f"{printable(e.agent_id):<10} ", style="cyan")
        t.append(printable(summarize(e, self._log_context)))
        return t

    def add_events(self, events: list[Event]) -> None:
        log = self.query_one("#log-lines", RichLog)
        for e in events:
            self._events.append(e)
            self._log_context.learn(e)
            if self._matches(e):
                log.write(self._line(e))

    @property
    def shown_events(self) -> list[Event]:
        return [e for e in self._events if self._matches(e)]

    @on(Input.Changed)
    def _refilter(self) -> None:
        log = self.query_one("#log-lines", RichLog)
        log.clear()
        for e in self.shown_events:
            log.write(self._line(e))
