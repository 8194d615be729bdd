"""The operator's app, read-only, playing a recorded session.

:class:`ReplayApp` is the live :class:`~agentshell.tui.app.AgentShellApp` (same panes,
approval queue, conflicts, agents and log) over a :class:`ReplayBackend` whose state
and screens come from a :class:`~agentshell.replay.timeline.Timeline`. A
:class:`Scrubber` line shows the position and the markers. Keys: space play/pause,
``+``/``-`` speed, ``n``/``p`` next/previous decision, left/right seek 5 s
(shift: 30 s; at least one event, see :meth:`ReplayApp.action_seek_by`), home/end.
A seek that would feed more than :data:`LONG_SEEK_BYTES` of recorded output goes in
steps, the title saying how far it got. Every decision key only says "replay is
read-only".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import RichLog

from agentshell.core import events as ev
from agentshell.core.state import SessionState
from agentshell.replay.timeline import MARKER_GLYPHS, Timeline
from agentshell.terminal.emulator import Emulator
from agentshell.terminal.frames import Frame
from agentshell.tui import app as tui_app
from agentshell.tui.app import AgentShellApp
from agentshell.tui.backend import ConflictSides, RuleDraft, SharedText, TerminalLike
from agentshell.tui.widgets.log.event_log import EventLogView

READ_ONLY = "replay is read-only: nothing can be decided or typed here"
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
#: A seek forward through more recorded terminal output than this (about half a
#: second of feeding emulators) goes in steps of SEEK_STEP_BYTES: between steps the
#: app draws and takes keys, and the title says how far the seek got.
LONG_SEEK_BYTES = 24 << 20
SEEK_STEP_BYTES = 4 << 20


class ReadOnlyError(RuntimeError):
    def __init__(self) -> None:
        super().__init__(READ_ONLY)


class ReplayTerminal:
    """A pane's terminal: a recorded screen (an emulator the player swaps or feeds)."""

    def __init__(self, name: str, emulator: Emulator) -> None:
        self.name = name
        self.emulator = emulator
        self._listeners: list[Callable[..., Any]] = []

    def frame(self) -> Frame:
        return self.emulator.frame()

    def show(self, emulator: Emulator) -> None:
        self.emulator = emulator
        for cb in self._listeners:
            cb()

    def send(self, data: bytes) -> None:
        raise ReadOnlyError()

    def resize(self, columns: int, lines: int) -> None:
        return None  # the recording's size stays

    def add_listener(self, callback: Callable[..., Any]) -> None:
        self._listeners.append(callback)


class ReplayBackend:
    """A :class:`~agentshell.tui.backend.Backend` over a timeline; it decides nothing."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._state, screens = timeline.seek(0)
        self._terms = {
            name: ReplayTerminal(name, screens.get(name) or Emulator(*track.size))
            for name, track in timeline.tracks.items()
        }

    def move(self, pos: int) -> None:
        """Show position ``pos``: new state, every pane's screen at that moment."""
        self._state, screens = self.timeline.seek(pos)
        for name, term in self._terms.items():
            em = screens.get(name)
            term.show(em if em is not None else Emulator(*self.timeline.tracks[name].size))

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def socket_path(self) -> str:
        return ""

    def terminals(self) -> dict[str, TerminalLike]:
        return dict(self._terms)

    async def subscribe(self) -> AsyncIterator[ev.Event]:  # type: ignore[override]
        await asyncio.Event().wait()  # the player pushes events itself
        yield ev.Event()  # pragma: no cover

    def events(self, start: int, stop: int) -> list[ev.Event]:
        """The non-terminal events in positions ``start..stop-1``."""
        out = []
        for rec in self.timeline.records(max(0, start), stop):
            if not str(rec["t"]).startswith("terminal_") and rec["t"] != "doc_op":
                out.append(ev.event_from_record(rec))
        return out

    def recent_events(self, limit: int) -> list[ev.Event]:
        pos = self.timeline.position
        return self.events(max(0, pos - 4 * limit), pos)[-limit:]

    async def approve(
        self, approval_id: str, command: str | None = None, revision: int | None = None
    ) -> None:
        raise ReadOnlyError()

    async def reject(self, approval_id: str, reason: str) -> None:
        raise ReadOnlyError()

    async def approve_similar(self, approval_id: str, rule: RuleDraft) -> None:
        raise ReadOnlyError()

    async def resolve_conflict(self, conflict_id: str, resolution: str, note: str = "") -> None:
        raise ReadOnlyError()

    async def send_input(self, terminal: str, data: bytes) -> None:
        raise ReadOnlyError()

    async def resize(self, terminal: str, columns: int, lines: int) -> None:
        return None

    def suggest_rule(self, command: str) -> tuple[str, str]:
        return "exact", command

    def risk_hints(self, command: str, cwd: str) -> tuple[str, ...]:
        return ()

    def conflict_sides(self, conflict_id: str) -> ConflictSides | None:
        return None  # the files are not part of the recording

    def approval_doc(self, approval_id: str) -> SharedText | None:
        return None

    def running_commands(self) -> int:
        return 0

    def busy_terminals(self) -> list[str]:
        return []  # nothing runs in a replay

    def recording_error(self) -> str | None:
        return None  # a replay records nothing


def format_clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"


class Scrubber(Widget):
    """One line: play state, time, speed, and a bar with a glyph per marker."""

    DEFAULT_CSS = """
    Scrubber { height: 1; background: $panel; }
    """

    def __init__(self, timeline: Timeline, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.timeline = timeline
        self.pos = 0
        self.playing = False
        self.speed = 1.0

    def update_position(self, pos: int, playing: bool, speed: float) -> None:
        self.pos, self.playing, self.speed = pos, playing, speed
        self.refresh()

    def bar_column(self, pos: int, width: int) -> int:
        n = max(1, len(self.timeline))
        tl = self.timeline
        frac = (tl.time_of(pos) - tl.start_time) / tl.duration if tl.duration > 0 else pos / n
        return min(width - 1, max(0, int(frac * (width - 1) + 0.5)))

    def render(self) -> Text:
        tl = self.timeline
        now = tl.time_of(self.pos) - tl.start_time
        head = (
            f" {'▶' if self.playing else '⏸'} {format_clock(now)} / "
            f"{format_clock(tl.duration)}  x{self.speed:g}  #{self.pos}/{len(tl)} "
        )
        width = max(10, self.size.width - len(head) - 2)
        cells: list[tuple[str, str]] = [("─", "dim")] * width
        styles = {"approved": "bold green", "rejected": "bold red", "conflict": "bold yellow"}
        for m in tl.markers:
            cells[self.bar_column(m.pos, width)] = (MARKER_GLYPHS[m.kind], styles[m.kind])
        cells[self.bar_column(self.pos, width)] = ("●", "bold reverse")
        text = Text(head, style="bold")
        text.append("[")
        for glyph, style in cells:
            text.append(glyph, style=style)
        text.append("]")
        return text


class ReplayApp(AgentShellApp):
    """Plays a :class:`Timeline`; see the module docstring for the keys."""

    CSS_PATH = str(Path(tui_app.__file__).with_name("app.tcss"))  # the live app's stylesheet
    TYPING = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_play", "Play/pause", priority=True),
        Binding("plus,equals_sign", "speed(1)", "Faster", priority=True),
        Binding("minus", "speed(-1)", "Slower", priority=True),
        Binding("n", "step_marker(1)", "Next decision", priority=True),
        Binding("p", "step_marker(-1)", "Prev decision", priority=True),
        Binding("right", "seek_by(5)", "+5s", priority=True),
        Binding("left", "seek_by(-5)", "-5s", priority=True),
        Binding("shift+right", "seek_by(30)", show=False, priority=True),
        Binding("shift+left", "seek_by(-30)", show=False, priority=True),
        Binding("home", "seek_to(0)", show=False, priority=True),
        Binding("end", "seek_to(-1)", show=False, priority=True),
        # the live app's decision keys stay (they say "read-only"), out of the footer,
        # which shows the player's keys instead
        Binding("a", "approve", show=False),
        Binding("e", "edit", show=False),
        Binding("r", "reject", show=False),
        Binding("s", "similar", show=False),
        Binding("ctrl+t", "take_over", show=False),
        Binding("z", "zoom", show=False),
    ]

    def __init__(
        self,
        timeline: Timeline,
        *,
        start: int = 0,
        stop: int | None = None,
        speed: float = 1.0,
        autoplay: bool = True,
        idle_limit: float = 2.0,
    ) -> None:
        self.timeline = timeline
        self.replay = ReplayBackend(timeline)
        self.start_pos = max(0, start)
        self.stop_pos = len(timeline) if stop is None else min(stop, len(timeline))
        self.speed = speed
        self.playing = autoplay
        self.idle_limit = idle_limit
        self.pos = -1
        #: Where a long seek in steps is going (None when none is under way).
        self._seek_target: int | None = None
        self._seek_from = 0
        self.play_time = timeline.time_of(self.start_pos)
        self._last_tick = 0.0
        self._replay_ready = False
        super().__init__(
            self.replay,
            clock=lambda: self.timeline.time_of(max(0, self.pos)),
            banner=f"replay · {timeline.session_dir}",
            notify_new=False,
        )

    def compose_above_footer(self) -> ComposeResult:
        yield Scrubber(self.timeline, id="scrubber")

    async def on_mount(self) -> None:
        self.seek(self.start_pos)
        await super().on_mount()
        self._replay_ready = True
        self.title = "AgentShell replay"
        self._last_tick = time.monotonic()
        self.set_interval(1 / 20, self._play_tick)
        self._update_scrubber()

    # ------------------------------------------------------------------ player

    def seek(self, pos: int, *, in_steps: bool = True) -> None:
        """Show position ``pos`` (clamped to the replayed range). A long way forward
        goes in steps (:data:`LONG_SEEK_BYTES`; :attr:`seeking` meanwhile) unless
        ``in_steps`` is False (a screenshot of that moment: it is there on return)."""
        pos = max(self.start_pos, min(pos, self.stop_pos))
        tl = self.timeline
        stepped = self._seek_target is not None
        if stepped:
            if pos > tl.position:  # further on (or back, but still ahead): go there
                self._seek_target = pos
                return
            self._seek_target = None  # back past the steps made: an ordinary seek
        if pos == self.pos and not stepped:  # (the steps moved the timeline on)
            return
        if in_steps and pos > tl.position and tl.seek_cost(pos) > LONG_SEEK_BYTES:
            self._seek_target, self._seek_from = pos, tl.position
            self._seek_step()
            return
        old = self.pos
        self.replay.move(pos)
        self.pos = pos
        self.play_time = max(self.timeline.time_of(pos), self.play_time if pos > old else 0.0)
        if self._replay_ready:
            self._log_moved(old, pos)
            self._state_dirty = True
            self._maybe_refresh()
            self._update_scrubber()

    @property
    def seeking(self) -> bool:
        """A long seek is under way (in steps)."""
        return self._seek_target is not None

    def _seek_step(self) -> None:
        """One step of a long seek: feed the next :data:`SEEK_STEP_BYTES` of output
        (the panes show the result at the end), say how far it got, and let the app
        draw and take keys before the next step."""
        target = self._seek_target
        if target is None:
            return
        tl = self.timeline
        nxt = min(target, tl.position_after_output(tl.position, SEEK_STEP_BYTES))
        if nxt >= target:
            self._seek_target = None
            self.seek(target)
            self._update_scrubber()
            return
        tl.seek(nxt)
        total = tl.output_bytes(self._seek_from, target)
        done = tl.output_bytes(self._seek_from, nxt)
        self.sub_title = (
            f"seeking: {done * 100 // max(1, total)}% of {total / 1e6:,.0f} MB of terminal output"
        )
        if self._replay_ready:
            self.query_one(Scrubber).update_position(nxt, self.playing, self.speed)
        self.set_timer(0.005, self._seek_step)

    def _log_moved(self, old: int, new: int) -> None:
        view = self.query_one(EventLogView)
        if 0 <= old < new and new - old <= 2000:
            view.add_events(self.replay.events(old, new))
            return
        view._events.clear()
        view.query_one("#log-lines", RichLog).clear()
        view.add_events(self.replay.recent_events(500))

    def _update_scrubber(self) -> None:
        if self._seek_target is not None:
            return  # the seek's steps say where it is
        self.query_one(Scrubber).update_position(self.pos, self.playing, self.speed)
        state = "playing" if self.playing else "paused"
        self.sub_title = f"{state} x{self.speed:g} · {self.timeline.session_dir}"

    def _play_tick(self) -> None:
        now = time.monotonic()
        dt, self._last_tick = now - self._last_tick, now
        if not self.playing or self._seek_target is not None:
            return
        if self.pos >= self.stop_pos:
            self.playing = False
            self._update_scrubber()
            return
        tl = self.timeline
        self.play_time += dt * self.speed
        nxt = tl.time_of(self.pos + 1)
        if nxt - self.play_time > self.idle_limit:  # skip idle stretches
            self.play_time = nxt - self.idle_limit / 2
        self.seek(max(self.pos, tl.position_at(self.play_time)))
        self._update_scrubber()

    def action_toggle_play(self) -> None:
        if not self.playing and self.pos >= self.stop_pos:
            self.seek(self.start_pos)
        self.playing = not self.playing
        self.play_time = self.timeline.time_of(self.pos)
        self._update_scrubber()

    def action_speed(self, direction: int) -> None:
        i = min(range(len(SPEEDS)), key=lambda k: abs(SPEEDS[k] - self.speed))
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, i + direction))]
        self._update_scrubber()

    def action_step_marker(self, direction: int) -> None:
        tl = self.timeline
        m = tl.next_marker(self.pos) if direction > 0 else tl.previous_marker(self.pos)
        if m is None:
            self.notify("No more decisions that way", timeout=1.5)
            return
        self.playing = False
        self.seek(m.pos)
        self._update_scrubber()
        self.notify(m.label, title=f"#{m.seq}", timeout=3)

    def action_seek_by(self, seconds: float) -> None:
        """Move ``seconds`` of recording time from the shown event (back when negative).

        Shows the last event at or before that moment, as a player would, but always
        moves at least one event that way (unless at the end of the range): across an
        idle stretch longer than ``seconds`` the next (or previous) event is shown, so
        repeated presses never stay put.
        """
        tl = self.timeline
        target = tl.time_of(self.pos) + seconds
        pos = tl.position_at(target)
        if seconds < 0 and pos >= self.pos:
            pos = self.pos - 1
        elif seconds > 0 and pos <= self.pos:
            pos = self.pos + 1
        self.seek(pos)
        self.play_time = tl.time_of(self.pos)
        self._update_scrubber()

    def action_seek_to(self, pos: int) -> None:
        self.seek(self.stop_pos if pos < 0 else pos)
        self._update_scrubber()

    # --------------------------------------------------------- read-only guards

    def _read_only(self) -> None:
        self.notify(READ_ONLY, severity="warning", timeout=3)

    def _sender(self, name: str) -> Callable[[bytes], Any]:
        async def send(data: bytes) -> None:
            self._read_only()

        return send

    async def action_approve(self) -> None:
        self._read_only()

    async def action_edit(self) -> None:  # type: ignore[override]
        self._read_only()

    async def action_reject(self) -> None:  # type: ignore[override]
        self._read_only()

    async def action_similar(self) -> None:  # type: ignore[override]
        self._read_only()

    def action_take_over(self) -> None:
        self._read_only()

    def action_resolve(self, resolution: str) -> None:
        self._read_only()

    async def action_request_quit(self) -> None:  # type: ignore[override]
        self.exit()
