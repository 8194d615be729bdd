"""Typed modal dialogs: edit-then-approve, reject with a reason, approve similar, quit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from agentshell.core.state import ApprovalInfo
from agentshell.tui.backend import RuleDraft, SharedText
from agentshell.tui.text import printable, safe, shorten
from agentshell.tui.widgets.sidebar.approvals import moved_from


def _describe(info: ApprovalInfo, runs_in: str = "") -> Content:
    """Agent, terminal and the directory it runs in, as text (never parsed as markup);
    the directory it was queued in too when the terminal has moved since."""
    runs_in = runs_in or info.cwd
    text = safe(f"{info.agent_id} → {info.terminal}  in {runs_in or '?'}")
    queued_in = moved_from(info, runs_in)
    if queued_in is not None:
        text = Content.assemble(text, safe(f"  (queued in {queued_in})", "bold yellow"))
    if info.withdrawn:  # its agent is gone: approving runs it for nobody
        gone = f"\nagent gone ({info.withdrawn}): nobody will receive the output"
        text = Content.assemble(text, safe(gone, "bold magenta"))
    return text


@dataclass(frozen=True, slots=True)
class EditedCommand:
    """What the operator approved in the editor.

    ``revision`` is the shared document's revision whose text is ``text`` (None
    without live co-editing): the coordinator runs exactly that revision, or refuses
    when the agent changed the text after the operator looked.
    """

    text: str
    revision: int | None = None


class EditApprovalScreen(ModalScreen[EditedCommand | None]):
    """Edit a pending command, then approve the edited text (``None`` = cancelled).

    When the coordinator exposes the approval's shared OT document, the editor is
    co-edited live: remote changes are merged into the text area and local edits are
    sent back as insert/delete operations. Approving waits until the coordinator has
    acknowledged the local edits and names the revision shown.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "approve", "Approve edited"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self, info: ApprovalInfo, doc: SharedText | None = None, *, runs_in: str = ""
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.info = info
        self.runs_in = runs_in
        self.doc = doc
        self._last_text = doc.text if doc is not None else info.command

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-dialog", classes="dialog"):
            yield Label(
                Content.assemble("Edit, then approve  ", safe(self.info.approval_id, "dim")),
                classes="title",
            )
            yield Static(_describe(self.info, self.runs_in), classes="subtitle")
            live = " · co-edited live with the agent" if self.doc is not None else ""
            yield Static(f"ctrl+s approves · escape cancels{live}", classes="hint")
            yield TextArea(self._last_text, id="edit-text", soft_wrap=True, show_line_numbers=False)
            with Horizontal(classes="buttons"):
                yield Button("Approve edited", variant="success", id="approve")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.cursor_blink = not self.app.is_headless  # steady in screenshots and tests
        area.focus()
        area.move_cursor(area.document.end)
        if self.doc is not None:
            self.set_interval(0.1, self._pull_remote)

    def _pull_remote(self) -> None:
        """Merge text the agent typed into the shared document since the last look."""
        assert self.doc is not None
        remote = self.doc.text
        if remote == self._last_text:
            return
        area = self.query_one(TextArea)
        if area.text == self._last_text:  # no local change waiting to be pushed
            cursor = area.cursor_location
            self._last_text = remote
            area.load_text(remote)
            area.move_cursor(cursor)

    @on(TextArea.Changed)
    def _push_local(self, event: TextArea.Changed) -> None:
        """Send the local change to the shared document as one delete + insert."""
        if self.doc is None:
            return
        new = event.text_area.text
        old = self._last_text
        if new == old:
            return
        start = 0
        while start < min(len(old), len(new)) and old[start] == new[start]:
            start += 1
        end_old, end_new = len(old), len(new)
        while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
            end_old -= 1
            end_new -= 1
        if end_old > start:
            self.doc.delete(start, end_old - start)
        if end_new > start:
            self.doc.insert(start, new[start:end_new])
        self._last_text = new

    def on_unmount(self) -> None:
        close = getattr(self.doc, "close", None)
        if callable(close):
            close()

    async def action_approve(self) -> None:
        area = self.query_one(TextArea)
        text = area.text.strip()
        if not text:
            self.notify("The command is empty", severity="error")
            return
        if self.doc is None:
            self.dismiss(EditedCommand(text))
            return
        try:
            revision = await self.doc.settle()
        except Exception as exc:
            self.notify(printable(f"Not approved: {exc}"), severity="error", markup=False)
            return
        if self.doc.text != area.text:  # the agent changed it meanwhile: look again
            self._pull_remote()
            self.notify("The agent changed the command: review it, then approve", timeout=4)
            return
        self.dismiss(EditedCommand(self.doc.text, revision))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#approve")
    async def _approve_pressed(self) -> None:
        await self.action_approve()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


class RejectScreen(ModalScreen[str | None]):
    """Ask why a command is rejected; the reason goes back to the agent."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, info: ApprovalInfo, *, runs_in: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.info = info
        self.runs_in = runs_in

    def compose(self) -> ComposeResult:
        with Vertical(id="reject-dialog", classes="dialog"):
            yield Label("Reject command", classes="title")
            yield Static(_describe(self.info, self.runs_in), classes="subtitle")
            yield Static(safe(f"$ {self.info.command}"), classes="command")
            yield Input(placeholder="Reason (sent to the agent)", id="reason")
            with Horizontal(classes="buttons"):
                yield Button("Reject", variant="error", id="reject")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#reject")
    def _reject(self) -> None:
        self.dismiss(self.query_one(Input).value.strip() or "rejected by the operator")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


KINDS = [("exact command", "exact"), ("prefix", "prefix"), ("glob", "glob")]
SCOPES = [("whole session", "session"), ("this agent", "agent"), ("this terminal", "terminal")]


class SimilarRuleScreen(ModalScreen[RuleDraft | None]):
    """Preview (and edit) the allow rule "approve similar" would save."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save rule"),
    ]

    def __init__(self, info: ApprovalInfo, kind: str, pattern: str) -> None:
        super().__init__(classes="dialog-screen")
        self.info = info
        self.kind = kind if kind in {k for _, k in KINDS} else "prefix"
        self.pattern = pattern

    def compose(self) -> ComposeResult:
        with Vertical(id="similar-dialog", classes="dialog"):
            yield Label("Approve similar: save a rule", classes="title")
            yield Static(safe(f"$ {self.info.command}"), classes="command")
            yield Static("Approves this command and allows future ones matching:", classes="hint")
            with Horizontal(classes="field"):
                yield Label("Kind ", classes="label")
                yield Select(KINDS, value=self.kind, allow_blank=False, id="kind")
            with Horizontal(classes="field"):
                yield Label("Pattern ", classes="label")
                yield Input(self.pattern, id="pattern")
            with Horizontal(classes="field"):
                yield Label("Scope ", classes="label")
                yield Select(SCOPES, value="session", allow_blank=False, id="scope")
            yield Static("", id="rule-preview", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Save rule & approve", variant="success", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#pattern", Input).focus()
        self._update_preview()

    def _draft(self) -> RuleDraft:
        kind = self.query_one("#kind", Select).value
        scope = self.query_one("#scope", Select).value
        scope_s = str(scope)
        value = {"agent": self.info.agent_id, "terminal": self.info.terminal}.get(scope_s, "")
        return RuleDraft(
            kind=str(kind),
            pattern=self.query_one("#pattern", Input).value,
            scope=scope_s,
            scope_value=value,
        )

    @on(Select.Changed)
    @on(Input.Changed)
    def _update_preview(self, _event: Any = None) -> None:
        d = self._draft()
        where = f"{d.scope} {d.scope_value}".strip()
        self.query_one("#rule-preview", Static).update(
            Content.assemble(
                safe(f"rule: allow {d.kind} "),
                safe(d.pattern or "∅", "bold"),
                safe(f"  (scope: {where})"),
            )
        )

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        d = self._draft()
        if not d.pattern.strip():
            self.notify("The pattern is empty", severity="error")
            return
        self.dismiss(d)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ManualResolveScreen(ModalScreen[str | None]):
    """A note describing a manual merge (the operator fixed the file by hand)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, file_path: str) -> None:
        super().__init__(classes="dialog-screen")
        self.file_path = file_path

    def compose(self) -> ComposeResult:
        with Vertical(id="manual-dialog", classes="dialog"):
            yield Label(safe(f"Manual merge of {self.file_path}"), classes="title")
            yield Static("Merge the file yourself, then describe what you kept.", classes="hint")
            yield Input(placeholder="note", id="note")
            with Horizontal(classes="buttons"):
                yield Button("Mark resolved", variant="success", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.dismiss(self.query_one(Input).value.strip() or "merged by hand")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class QuitScreen(ModalScreen[bool]):
    """Confirm quitting while commands are still running."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Stay"),
        Binding("y", "confirm", "Quit"),
    ]

    #: Commands listed by name at most; more are counted.
    MAX_LISTED = 5
    #: Characters of a listed line (the dialog is 80 wide, border and padding included).
    LINE_WIDTH = 70

    def __init__(
        self, running: int, commands: Sequence[ApprovalInfo] = (), typed: Sequence[str] = ()
    ) -> None:
        super().__init__(classes="dialog-screen")
        #: terminals running a command typed in the pane (no approval behind it)
        self.typed = list(typed)
        self.running = max(running, len(commands)) + len(self.typed)
        self.commands = list(commands)

    def running_lines(self) -> list[str]:
        """One line per running command: agent, terminal, command (cut to fit)."""
        out = []
        for a in self.commands[: self.MAX_LISTED]:
            cmd = printable(" ".join((a.approved_command or a.command).split()))
            line = f"{printable(a.agent_id)} in {printable(a.terminal)}: $ {cmd}"
            out.append(shorten(line, self.LINE_WIDTH))
        for name in self.typed[: max(0, self.MAX_LISTED - len(out))]:
            out.append(
                shorten(f"in {printable(name)}: a command typed in the pane", self.LINE_WIDTH)
            )
        more = self.running - len(out)
        if more > 0:
            out.append(f"and {more} more")
        return out

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog", classes="dialog"):
            yield Label("Quit AgentShell?", classes="title")
            n = self.running
            yield Static(f"{n} command{'s' if n != 1 else ''} still running:", classes="subtitle")
            yield Static(
                Text("\n".join(f"  {line}" for line in self.running_lines())),
                id="quit-running",
                classes="command",
            )
            yield Static(
                "The session is saved and reopening it restores everything, but these "
                "commands are interrupted.",
                classes="hint",
            )
            with Horizontal(classes="buttons"):
                yield Button("Quit (y)", variant="error", id="quit")
                yield Button("Stay", variant="primary", id="stay")

    def on_mount(self) -> None:
        self.query_one("#stay", Button).focus()

    @on(Button.Pressed, "#quit")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#stay")
    def action_cancel(self) -> None:
        self.dismiss(False)
