"""The tail of the session's event log, filterable by agent and event type."""

from __future__ import annotations

import time
from collections import deque

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, RichLog

from agentshell.core.events import Event

NOISY = frozenset({"terminal_output", "terminal_input", "doc_op"})


def summarize(e: Event) -> str:
    p = e.payload
    for key in ("command", "file_path", "description", "status", "decision", "pattern"):
        if p.get(key):
            extra = ""
            if e.event_type == "approval_decided" and p.get("reason"):
                extra = f" ({p['reason']})"
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

    @staticmethod
    def _line(e: Event) -> Text:
        t = Text()
        t.append(time.strftime("%H:%M:%S ", time.localtime(e.timestamp)), style="dim")
        t.append(f"#{e.seq:<5} ", style="dim")
        t.append(f"{e.event_type:<20} ", style="bold")
        t.append(f"{e.agent_id:<10} ", style="cyan")
        t.append(summarize(e))
        return t

    def add_events(self, events: list[Event]) -> None:
        log = self.query_one("#log-lines", RichLog)
        for e in events:
            self._events.append(e)
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
