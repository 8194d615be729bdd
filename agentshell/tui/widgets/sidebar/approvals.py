"""The approval queue: pending commands, oldest first, with risk badges."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from agentshell.core.state import ApprovalInfo
from agentshell.tui.text import printable

#: A card shows at most this many characters of a command (the editor shows all).
CARD_TEXT = 400


def format_age(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def moved_from(info: ApprovalInfo, runs_in: str) -> str | None:
    """The directory ``info`` was queued in when its terminal is now somewhere else.

    An approved command runs in its terminal's current directory; a ``cd`` in the
    pane or a restart (a shell reopened in the project when the old directory is
    gone) can move it away from where the agent proposed the command."""
    if info.cwd and runs_in and runs_in != info.cwd:
        return info.cwd
    return None


def _in_queue_order(infos: list[ApprovalInfo]) -> list[ApprovalInfo]:
    return sorted(infos, key=lambda a: (a.queued_at, a.seq, a.approval_id))


def order_pending(pending: dict[str, ApprovalInfo]) -> list[ApprovalInfo]:
    """Requests still waiting for a decision, oldest first."""
    return _in_queue_order([a for a in pending.values() if a.status in ("queued", "interrupted")])


def order_running(pending: dict[str, ApprovalInfo]) -> list[ApprovalInfo]:
    """Approved requests whose command runs or waits its turn, oldest first."""
    return _in_queue_order([a for a in pending.values() if a.status in ("approved", "executing")])


#: What the queue says of an item whose agent cannot take an edited command.
NOT_EDITABLE = "approve / reject only: its CLI cannot take an edited command"


class ApprovalQueue(OptionList):
    """Pending requests. ``selected()`` is the highlighted one, else the oldest."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        risk: Callable[[ApprovalInfo], tuple[str, ...]],
        text: Callable[[ApprovalInfo], str] | None = None,
        runs_in: Callable[[ApprovalInfo], str] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._text = text or (lambda info: info.command)
        self._runs_in = runs_in or (lambda info: info.cwd)
        self._clock = clock
        self._risk = risk
        self._items: list[ApprovalInfo] = []
        #: What the options show now: (info, live text, directory) per request.
        self._shown: list[tuple[ApprovalInfo, str, str]] = []

    @property
    def items(self) -> list[ApprovalInfo]:
        return list(self._items)

    def _prompt(self, n: int, info: ApprovalInfo) -> Text:
        age = format_age(self._clock() - info.queued_at)
        t = Text()
        t.append(f"{n}. ", style="bold")
        t.append(printable(info.agent_id), style="bold")
        if not info.external:  # a vendor's tool call runs in no pane of ours
            t.append(f" → {printable(info.terminal)}", style="italic")
        t.append(f"  {age}", style="dim")
        if info.status == "interrupted":
            t.append("  interrupted", style="bold yellow")
        if info.withdrawn:  # approving it runs it for nobody: say so on the card
            t.append("\n  agent gone: nobody will receive the output", style="bold magenta")
        t.append("\n$ ", style="bold green")
        text = self._text(info)  # the live text: the agent may amend it
        t.append(printable(text[:CARD_TEXT]))
        if len(text) > CARD_TEXT:  # a card of hundreds of lines would bury the queue
            t.append(f"… ({len(text) - CARD_TEXT:,} more characters: e shows them all)", "dim")
        if info.external:  # a vendor's tool call: its agent runs it, not a pane
            t.append(f"\n  {printable(info.cwd or '?')} · run by the agent itself", style="dim")
        else:
            runs_in = self._runs_in(info)
            queued_in = moved_from(info, runs_in)
            if queued_in is None:
                t.append(f"\n  {printable(runs_in or '?')}", style="dim")
            else:  # it would run somewhere else than the agent proposed it for
                t.append(f"\n  runs in {printable(runs_in)}", style="bold yellow")
                t.append(f"\n  (queued in {printable(queued_in)})", style="dim")
        if not info.editable:
            t.append(f"\n  {NOT_EDITABLE}", style="italic")
        hints = self._risk(info)
        if hints:  # a line of their own: beside the directory they wrapped into it
            t.append("\n ")
            for hint in hints:
                t.append(" ")
                t.append(f" {printable(hint)} ", style="bold white on red")
        return t

    def update_items(self, pending: dict[str, ApprovalInfo]) -> None:
        items = order_pending(pending)
        # most events change nothing here: rebuilding hundreds of options for them
        # took tens of milliseconds per refresh (ages are redrawn on their own)
        shown = [(a, self._text(a), self._runs_in(a)) for a in items]
        if shown == self._shown and self.option_count:
            return
        self._shown = shown
        keep = self.highlighted_id()
        self._items = items
        self.clear_options()
        if not items:
            self.add_option(Option(Text("No pending commands.", style="dim"), disabled=True))
            return
        self.add_options(
            [Option(self._prompt(i + 1, a), id=a.approval_id) for i, a in enumerate(items)]
        )
        ids = [a.approval_id for a in items]
        # the highlight stays on the same request, else on the oldest (what `a` acts on)
        self.highlighted = ids.index(keep) if keep in ids else 0

    def refresh_ages(self) -> None:
        for i, a in enumerate(self._items):
            self.replace_option_prompt(a.approval_id, self._prompt(i + 1, a))

    def highlighted_id(self) -> str | None:
        if self.highlighted is None or not self._items:
            return None
        try:
            return self.get_option_at_index(self.highlighted).id
        except Exception:
            return None

    def selected(self) -> ApprovalInfo | None:
        """The highlighted request, or the oldest one when nothing is highlighted."""
        hid = self.highlighted_id()
        for a in self._items:
            if a.approval_id == hid:
                return a
        return self._items[0] if self._items else None
