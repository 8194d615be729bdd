"""The operator's app: terminal panes, the approval sidebar, conflicts, agents, the log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, TabbedContent, TabPane

from agentshell.core.events import Event, approval_doc
from agentshell.core.state import ApprovalInfo, SessionState
from agentshell.tui.agents_start import AgentSpec, Launch, StartError, parse_agent, start_agent
from agentshell.tui.backend import Backend, RuleDraft
from agentshell.tui.commands import AgentShellCommands
from agentshell.tui.messages import (
    ConflictResolveRequested,
    PaneResized,
    StateRefreshed,
    TypingChanged,
)
from agentshell.tui.screens.dialogs import (
    EditApprovalScreen,
    ManualResolveScreen,
    QuitScreen,
    RejectScreen,
    SimilarRuleScreen,
)
from agentshell.tui.screens.help import HelpScreen
from agentshell.tui.text import printable, shorten
from agentshell.tui.widgets.agents.panel import AgentsPanel, agent_state
from agentshell.tui.widgets.conflicts.panel import ConflictPanel
from agentshell.tui.widgets.log.event_log import EventLogView
from agentshell.tui.widgets.sidebar.agents_mini import AgentRow, AgentsMini
from agentshell.tui.widgets.sidebar.approvals import (
    NOT_EDITABLE,
    ApprovalQueue,
    order_pending,
    order_running,
)
from agentshell.tui.widgets.terminal.grid import TerminalGrid
from agentshell.tui.widgets.terminal.keys import ALT_DIGIT_KEYS
from agentshell.tui.widgets.terminal.pane import TerminalPane

TABS = {
    "terminals": "tab-terminals",
    "conflicts": "tab-conflicts",
    "agents": "tab-agents",
    "log": "tab-log",
}
#: An "approval needed" toast shows this long; requests arriving meanwhile wait for
#: it to go and then share one toast (six agents asking at once made a column of six).
APPROVAL_TOAST_SECONDS = 4.0
#: Actions a typing pane must not lose its keys to (they are priority bindings).
_PRIORITY_ACTIONS = {"quit", "command_palette", "request_quit"}


class AgentShellApp(App[None]):
    TITLE = "AgentShell"
    CSS_PATH = "app.tcss"
    #: Keys typed in a pane reach its shell (a replay's panes only show a record).
    TYPING = True
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {AgentShellCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "request_quit", "Quit", priority=True),
        Binding("q", "request_quit", "Quit", show=False),
        Binding("a", "approve", "Approve"),
        Binding("e", "edit", "Edit+approve"),
        Binding("r", "reject", "Reject"),
        Binding("s", "similar", "Similar"),
        Binding("ctrl+t", "take_over", "Type in pane"),
        # shown only while a pane has the keys (check_action): then it is the one live key
        Binding("ctrl+right_square_bracket", "leave", "Give keys back", key_display="ctrl+]"),
        Binding("ctrl+pagedown", "next_pane", "Next pane", show=False),
        Binding("ctrl+pageup", "prev_pane", "Prev pane", show=False),
        Binding("z", "zoom", "Zoom"),
        Binding("f2", "show_tab('terminals')", "Terms", show=False),
        Binding("f3", "show_tab('conflicts')", "Conflicts"),
        Binding("f4", "show_tab('agents')", "Agents", show=False),
        Binding("f5", "show_tab('log')", "Log", show=False),
        Binding("question_mark,f1", "help", "Help"),
        # alt+N, and what alt+N arrives as from xterm and tmux (see ALT_DIGIT_KEYS)
        *[
            Binding(f"alt+{i},{ALT_DIGIT_KEYS[i]}", f"pane({i - 1})", show=False)
            for i in range(1, 10)
        ],
    ]

    def __init__(
        self,
        backend: Backend,
        *,
        clock: Callable[[], float] = time.time,
        banner: str = "",
        notify_new: bool = True,
        ansi_theme: bool = False,
    ) -> None:
        super().__init__()
        self.use_ansi_theme = ansi_theme
        self.backend = backend
        self.clock = clock
        self.banner = banner
        #: How an agent attaches (socket path, commands); shown at start and in help.
        self.attach_text = ""
        self.notify_new = notify_new
        self._state_dirty = True
        self._seen_pending: set[str] = set()
        #: Until when the last approval toast shows; requests held back for the next.
        self._toast_until = 0.0
        self._held: list[ApprovalInfo] = []
        self._first_refresh = True
        #: The newest event already shown in the log (events up to it are not re-added).
        self._logged_seq = 0
        self._recording_stopped = False
        #: Agents to start in new panes once the app shows (``agentshell tui --agent``).
        self.start_agents: list[AgentSpec] = []
        #: One start at a time (each picks the next free pane name).
        self._starting = asyncio.Lock()
        #: Panes of started agents to select as soon as they show.
        self._select_on_open: set[str] = set()

    # ------------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield ApprovalQueue(
                    clock=self.clock,
                    risk=self._risk,
                    text=self._live_text,
                    runs_in=self._runs_in,
                    id="approvals",
                )
                yield AgentsMini(id="agents-mini")
            with TabbedContent(id="main", initial="tab-terminals"):
                with TabPane("Terminals", id="tab-terminals"):
                    yield TerminalGrid(id="grid")
                with TabPane("Conflicts", id="tab-conflicts"):
                    yield ConflictPanel(sides=self.backend.conflict_sides, id="conflicts")
                with TabPane("Agents & tasks", id="tab-agents"):
                    yield AgentsPanel(id="agents")
                with TabPane("Log", id="tab-log"):
                    yield EventLogView(id="log")
        yield from self.compose_above_footer()
        yield Footer()

    def compose_above_footer(self) -> ComposeResult:
        """Widgets between the body and the footer (none here; replay adds its scrubber)."""
        return iter(())

    async def on_mount(self) -> None:
        if self.use_ansi_theme or (
            not self.is_headless and self.console.color_system in ("standard", "windows")
        ):
            self.theme = "ansi-dark"  # 16-colour terminals: the terminal's own palette
        self.sub_title = self.banner
        # Subscribe before reading anything: an event that lands while the state and
        # the terminals are read below is then delivered, never lost in between.
        events = self.backend.subscribe()
        grid = self.query_one(TerminalGrid)
        for name, term in self.backend.terminals().items():
            await grid.add_terminal(name, term, self._sender(name))
        grid.select(0)
        recent = self.backend.recent_events(500)
        self._logged_seq = max((e.seq for e in recent), default=0)
        self.query_one(EventLogView).add_events(recent)
        self._seen_pending = set(self.backend.state["pending_approvals"])
        self.refresh_state()
        self.query_one(ApprovalQueue).focus()
        self.set_interval(0.1, self._maybe_refresh)
        self.set_interval(1.0, self._tick_ages)
        self.set_interval(1.0, self._check_recording)
        self._listen(events)
        if self.attach_text:
            self.notify(self.attach_text, title="Attach an agent", timeout=12)
        if self.start_agents:
            self._start_agents(list(self.start_agents))

    def _sender(self, name: str) -> Callable[[bytes], Any]:
        async def send(data: bytes) -> None:
            await self.backend.send_input(name, data)

        return send

    # -------------------------------------------------------------------- state

    @property
    def state(self) -> SessionState:
        return self.backend.state

    def _live_text(self, info: ApprovalInfo) -> str:
        doc = self.backend.state["docs"].get(approval_doc(info.approval_id))
        return doc.text if doc is not None and doc.text else info.command

    def _runs_in(self, info: ApprovalInfo) -> str:
        """Where the command would run now: its terminal's current directory."""
        t = self.backend.state["terminals"].get(info.terminal)
        return t.cwd if t is not None and t.cwd else info.cwd

    def _risk(self, info: ApprovalInfo) -> tuple[str, ...]:
        return tuple(info.risk) or self.backend.risk_hints(info.command, info.cwd)

    @work(exclusive=True, group="events")
    async def _listen(self, events: AsyncIterator[Event]) -> None:
        """Follow the coordinator's event stream for as long as the app runs."""
        log = self.query_one(EventLogView)
        async for event in events:
            if not self.is_running:  # shutting down: the widgets are going away
                return
            await self._on_event(event, log)

    async def _on_event(self, event: Event, log: EventLogView) -> None:
        kind = event.event_type
        if kind == "terminal_output":
            return
        if not event.seq or event.seq > self._logged_seq:  # not in the tail read at start
            log.add_events([event])
        if kind == "terminal_opened":
            name = str(event.payload.get("terminal", ""))
            term = self.backend.terminals().get(name)
            if term is not None:
                grid = self.query_one(TerminalGrid)
                await grid.add_terminal(name, term, self._sender(name))
                if name in self._select_on_open:  # a started agent's pane: show it
                    self._select_on_open.discard(name)
                    pane = grid.pane(name)
                    if pane is not None:
                        grid.select_pane(pane)
        self._state_dirty = True

    def _maybe_refresh(self) -> None:
        # App timers outlive the screen's widgets while the app shuts down: skip then.
        if self._state_dirty and self.is_running:
            self._state_dirty = False
            self.refresh_state()

    def _check_recording(self) -> None:
        """Say it, loudly and once, when the session's log stops recording (every
        command is held meanwhile), and again once it records again by itself."""
        if not self.is_running:
            return
        note = self.backend.recording_error()
        if note is None:
            if self._recording_stopped:  # space is back: the held commands went on
                self._recording_stopped = False
                self.sub_title = self.banner
                self.notify("The event log records again; held commands go on.", markup=False)
            return
        if self._recording_stopped:
            return
        self._recording_stopped = True
        self.sub_title = f"RECORDING STOPPED · COMMANDS HELD · {self.banner}"
        self.notify(
            printable(note[0].upper() + note[1:]),
            title="Recording stopped: commands held",
            severity="error",
            timeout=24 * 3600,  # stays until dismissed
            markup=False,
        )

    def _tick_ages(self) -> None:
        if self.is_running:
            self.query_one(ApprovalQueue).refresh_ages()

    def _toast_approvals(self, new: list[ApprovalInfo]) -> None:
        """Say that ``new`` requests wait: at once when no approval toast shows, else
        in one toast when the one showing goes."""
        wait = self._toast_until - time.monotonic()
        if wait > 0 or self._held:
            if not self._held:
                self.set_timer(wait, self._toast_held)
            self._held.extend(new)
            return
        if len(new) == 1:
            a = new[0]
            text = printable(f"{a.agent_id} waits: $ {shorten(a.command, 200)}")
            title = "Approval needed"
        else:  # one line each (names and commands shown safely, line by line)
            lines = [printable(f"{a.agent_id} $ {shorten(a.command, 60)}") for a in new[:4]]
            if len(new) > 4:
                lines.append(f"and {len(new) - 4} more")
            text, title = "\n".join(lines), f"{len(new)} approvals needed"
        self.notify(text, title=title, timeout=APPROVAL_TOAST_SECONDS, markup=False)
        self._toast_until = time.monotonic() + APPROVAL_TOAST_SECONDS

    def _toast_held(self) -> None:
        held = [a for a in self._held if a.approval_id in self._seen_pending]  # still waiting
        self._held = []
        if held:
            self._toast_approvals(held)

    def refresh_state(self) -> None:
        """Redraw every widget fed by state (coalesced to at most 10 times a second)."""
        state = self.backend.state
        pending = state["pending_approvals"]
        queue = self.query_one(ApprovalQueue)
        queue.update_items(pending)
        waiting = order_pending(pending)
        new = [a for a in waiting if a.approval_id not in self._seen_pending]
        self._seen_pending = {a.approval_id for a in waiting}
        if self.notify_new and new:
            self._toast_approvals(new)
        n_agents = len({a.agent_id for a in waiting})
        queue.border_title = f"Approvals · {len(waiting)} pending"
        queue.border_subtitle = f"{n_agents} agent{'s' if n_agents != 1 else ''} waiting"
        self.title = f"AgentShell · {n_agents} waiting" if n_agents else "AgentShell"
        self._update_agents_mini(state, {a.agent_id for a in waiting})
        self.query_one(ConflictPanel).update_conflicts(state["active_conflicts"])
        n_conf = len(state["active_conflicts"])
        tabs = self.query_one(TabbedContent)
        tabs.get_tab("tab-conflicts").label = f"Conflicts ({n_conf})" if n_conf else "Conflicts"
        self.query_one(AgentsPanel).update_state(state)
        running = {
            a.terminal: (a.agent_id, f"runs $ {a.approved_command or a.command}")
            for a in order_running(pending)
        }
        for pane in self.query_one(TerminalGrid).panes:
            tinfo = state["terminals"].get(pane.terminal_name)
            pane.set_exited(tinfo is not None and not tinfo.open, interactive=self.TYPING)
            who, what = running.get(pane.terminal_name, ("", ""))
            draft = state["docs"].get(f"draft:{pane.terminal_name}")
            if not who and draft is not None and draft.text:
                authors = sorted(a for a in draft.clock if a != "human") or ["agent"]
                # "types" only while one of them is connected; a draft outlives its
                # authors (it is shared state), and then it was left, not typed now
                agents = state["agents"]
                live = any(
                    a in agents and agents[a].status not in ("disconnected", "removed")
                    for a in authors
                )
                verb = "types a draft" if live else "left a draft"
                pane.set_activity(", ".join(authors), f"{verb}: {draft.text}", "✎")
            else:
                pane.set_activity(who, what)
        self.post_message(StateRefreshed())

    def _update_agents_mini(self, state: SessionState, waiting: set[str]) -> None:
        mini = self.query_one(AgentsMini)
        mini.border_title = f"Agents · {len(state['agents'])}"
        rows = [
            AgentRow(a.agent_id, agent_state(a.status, a.agent_id in waiting), a.last_command)
            for a in sorted(state["agents"].values(), key=lambda x: x.agent_id)
        ]
        mini.update_rows(rows, empty="No agents yet. ? shows how to attach one.")

    # ---------------------------------------------------------------- decisions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = self.typing_pane()
        if action == "leave":
            return typing is not None
        if typing is None:
            return True
        # while a pane is typed into, its keys go to the shell, not to priority bindings
        if action in _PRIORITY_ACTIONS:
            return False
        # and while it has the focus every key goes there: the footer shows no key
        # that would in fact reach the shell (approve, zoom, f3 ...), only ctrl+]
        return not (self.focused is typing and action in self._key_actions())

    @classmethod
    def _key_actions(cls) -> set[str]:
        """The actions keys are bound to, by name (``show_tab('log')`` is ``show_tab``)."""
        return {
            b.action.partition("(")[0]
            for klass in cls.__mro__
            for b in getattr(klass, "BINDINGS", ())
            if isinstance(b, Binding)
        }

    def typing_pane(self) -> TerminalPane | None:
        for p in self.query_one(TerminalGrid).panes:
            if p.typing:
                return p
        return None

    def selected_approval(self) -> ApprovalInfo | None:
        return self.query_one(ApprovalQueue).selected()

    def _no_request(self) -> None:
        self.notify("No pending request", severity="warning", timeout=2)

    async def _decide(self, what: str, coro: Any) -> None:
        try:
            await coro
        except Exception as exc:  # the coordinator refused: say why, keep running
            self.notify(printable(f"{what} failed: {exc}"), severity="error", markup=False)
        self._state_dirty = True
        self._maybe_refresh()

    async def action_approve(self) -> None:
        info = self.selected_approval()
        if info is None:
            return self._no_request()
        await self._decide("approve", self.backend.approve(info.approval_id))

    @work
    async def action_edit(self) -> None:
        info = self.selected_approval()
        if info is None:
            return self._no_request()
        if not info.editable:  # a wrapped CLI's prompt takes only yes or no
            self.notify(NOT_EDITABLE + ": a approve, r reject", severity="warning", markup=False)
            return None
        doc = self.backend.approval_doc(info.approval_id)
        opener = getattr(doc, "open", None)
        if callable(opener):
            try:
                await opener()
            except Exception as exc:  # edit without live co-editing
                self.notify(
                    printable(f"live co-editing unavailable: {exc}"),
                    severity="warning",
                    markup=False,
                )
                doc = None
        edited = await self.push_screen_wait(
            EditApprovalScreen(info, doc, runs_in=self._runs_in(info))
        )
        if edited is not None:
            await self._decide(
                "approve",
                self.backend.approve(
                    info.approval_id, command=edited.text, revision=edited.revision
                ),
            )

    @work
    async def action_reject(self) -> None:
        info = self.selected_approval()
        if info is None:
            return self._no_request()
        reason = await self.push_screen_wait(RejectScreen(info, runs_in=self._runs_in(info)))
        if reason is not None:
            await self._decide("reject", self.backend.reject(info.approval_id, reason))

    @work
    async def action_similar(self) -> None:
        info = self.selected_approval()
        if info is None:
            return self._no_request()
        kind, pattern = self.backend.suggest_rule(info.command)
        rule: RuleDraft | None = await self.push_screen_wait(SimilarRuleScreen(info, kind, pattern))
        if rule is not None:
            await self._decide(
                "approve similar", self.backend.approve_similar(info.approval_id, rule)
            )

    @on(ConflictResolveRequested)
    async def _resolve_requested(self, message: ConflictResolveRequested) -> None:
        self._resolve(message.conflict_id, message.resolution)

    @work
    async def _resolve(self, conflict_id: str, resolution: str) -> None:
        note = ""
        if resolution == "manual":
            conflict = self.state["active_conflicts"].get(conflict_id)
            path = conflict.file_path if conflict else "?"
            got = await self.push_screen_wait(ManualResolveScreen(path))
            if got is None:
                return
            note = got
        await self._decide("resolve", self.backend.resolve_conflict(conflict_id, resolution, note))

    def action_resolve(self, resolution: str) -> None:
        self.query_one(ConflictPanel).action_resolve(resolution)

    # ---------------------------------------------------------------- terminals

    def action_take_over(self) -> None:
        self._activate(TABS["terminals"])
        pane = self.query_one(TerminalGrid).current
        if pane is not None:
            pane.action_take_over()

    def action_leave(self) -> None:
        pane = self.typing_pane()
        if pane is not None:
            pane.leave()

    def _focus_pane(self, pane: TerminalPane | None) -> None:
        if pane is None:
            return
        self._activate(TABS["terminals"])
        was_typing = self.typing_pane()
        if was_typing is not None and was_typing is not pane:
            was_typing.leave()
        pane.focus()

    def action_next_pane(self) -> None:
        self._focus_pane(self.query_one(TerminalGrid).step(1))

    def action_prev_pane(self) -> None:
        self._focus_pane(self.query_one(TerminalGrid).step(-1))

    def action_pane(self, index: int) -> None:
        grid = self.query_one(TerminalGrid)
        if index < len(grid.panes):
            self._focus_pane(grid.select(index))

    def action_zoom(self) -> None:
        grid = self.query_one(TerminalGrid)
        zoomed = grid.toggle_zoom()
        self._activate(TABS["terminals"])
        focused = self.focused
        if isinstance(focused, TerminalPane) and not focused.display and grid.current:
            grid.current.focus()  # a pane zoom hid: the shown one takes the focus
        self.notify("Pane zoomed" if zoomed else "Grid restored", timeout=1.5)

    @on(TypingChanged)
    def _typing_changed(self, message: TypingChanged) -> None:
        self.refresh_bindings()  # the footer: ctrl+] while a pane has the keys
        grid = self.query_one(TerminalGrid)
        pane = grid.pane(message.terminal)
        if message.typing and pane is not None:
            grid.select_pane(pane)
            for other in grid.panes:
                if other is not pane and other.typing:
                    other.leave()
        elif not message.typing:
            self.query_one(ApprovalQueue).focus()

    @on(PaneResized)
    def _pane_resized(self, message: PaneResized) -> None:
        self._resize(message.terminal, message.columns, message.lines)

    @work(group="resize", exclusive=False)
    async def _resize(self, terminal: str, columns: int, lines: int) -> None:
        try:
            await self.backend.resize(terminal, columns, lines)
        except Exception as exc:
            self.log.warning(f"resize {terminal} failed: {exc}")

    # ------------------------------------------------------------------- agents

    def action_start_agent(self, vendor: str, args: str = "") -> None:
        """Start ``vendor``'s CLI (claude, codex, gemini, aider) supervised, in a new pane."""
        try:
            spec = parse_agent(f"{vendor}={args}" if args else vendor)
        except StartError as exc:
            self.notify(printable(str(exc)), severity="error", markup=False)
            return
        self._start_agents([spec])

    @work(group="start-agent", exclusive=False)
    async def _start_agents(self, specs: list[AgentSpec]) -> list[Launch]:
        started = []
        for spec in specs:
            launch = await self.start_agent(spec)
            if launch is not None:
                started.append(launch)
        return started

    async def start_agent(self, spec: AgentSpec) -> Launch | None:
        """Open a pane running ``spec`` wired to this session; None (and a
        notification saying why) when it cannot start."""
        async with self._starting:
            try:
                launch = await start_agent(
                    spec, self.backend.socket_path, self.backend.state["terminals"]
                )
            except StartError as exc:
                self.notify(
                    printable(str(exc)),
                    title=f"{spec.title} not started",
                    severity="error",
                    timeout=10,
                    markup=False,
                )
                return None
        grid = self.query_one(TerminalGrid)
        pane = grid.pane(launch.pane)
        if pane is not None:
            grid.select_pane(pane)
        else:
            self._select_on_open.add(launch.pane)
        text = f"{spec.title} runs in pane {launch.pane}; its tool calls come to this queue"
        if spec.vendor == "aider":
            text = (
                f"aider runs in pane {launch.pane} as agent {launch.agent}; its prompts come here"
            )
        lines = [printable(text)]  # each line shown safely
        if launch.notes:
            lines.append(printable(" ".join(launch.notes)))
        self.notify(
            "\n".join(lines),
            title="Agent started",
            severity="warning" if launch.notes else "information",
            markup=False,
        )
        return launch

    # ------------------------------------------------------------------- views

    def _tab_of(self, widget: Widget | None) -> TabPane | None:
        """The tab pane ``widget`` is in (None: outside the tabs, e.g. the sidebar)."""
        node = widget
        while node is not None and not isinstance(node, Screen):
            if isinstance(node, TabPane):
                return node
            node = node.parent  # type: ignore[assignment]
        return None

    def _activate(self, tab_id: str) -> None:
        """Show tab ``tab_id``, never leaving the focus in a tab that gets hidden.

        A hidden focused widget hands the focus to a sibling, which is hidden too
        (same tab): the TabbedContent then switches back to that tab, or tab and
        shift+tab start from a widget nobody sees. So a focus inside another tab
        first moves to the approval queue (always shown, the app's home)."""
        self._focus_out_of_tabs_but(tab_id)
        self.query_one(TabbedContent).active = tab_id

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        # however the tab changed (a click, the tab bar's arrow keys): not hidden focus
        self._focus_out_of_tabs_but(event.pane.id)

    def _focus_out_of_tabs_but(self, tab_id: str | None) -> None:
        """A focus inside a tab other than ``tab_id`` moves to the approval queue."""
        if not self.screen_stack:  # a tab change still queued as the app closed
            return
        pane = self._tab_of(self.focused)
        if pane is not None and pane.id != tab_id:
            self.screen.set_focus(self.query_one(ApprovalQueue))

    def action_show_tab(self, tab: str) -> None:
        self._activate(TABS[tab])
        if tab == "conflicts":
            self.query_one("#conflict-list").focus()

    def action_focus_queue(self) -> None:
        self.query_one(ApprovalQueue).focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.attach_text))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # Textual's "Quit" exits at once, even while commands run (their agents would
        # lose the connection): the palette offers only ours (``request_quit``), which asks
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command

    async def action_quit(self) -> None:
        """Textual's quit action (its ``ctrl+q``, a keymap): asks like ``q`` does."""
        await self.run_action("request_quit")

    @work
    async def action_request_quit(self) -> None:
        running = self.backend.running_commands()
        typed = self.backend.busy_terminals()
        if running or typed:
            commands = order_running(self.state["pending_approvals"])
            if not await self.push_screen_wait(QuitScreen(running, commands, typed)):
                return
        self.exit()

    async def wait_idle(self, timeout: float = 5.0) -> None:
        """Let pending refreshes land (tests)."""
        await asyncio.sleep(0)
        self._maybe_refresh()
