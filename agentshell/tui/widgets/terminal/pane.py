"""A live terminal pane: ``render_line`` over the emulator with a per-row strip cache.

The terminal's listener only sets a flag; a ~30 Hz timer turns the flag into
``refresh_lines`` for the rows that changed, so a flood of output costs at most 30
partial repaints a second. Rows are cached as strips and rebuilt only when the
emulator reports them changed (or the cursor moved on them).

Once the first pane is up, what the process holds by then (the app's widgets, styles,
caches, modules: about 100k objects) is moved to the garbage collector's permanent
generation (:func:`freeze_startup_heap`): a flood's allocations trigger full
collections, and each of them traversed all of it, 50-70 ms holding the loop.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agentshell.tui.messages import PaneResized, TypingChanged
from agentshell.tui.text import printable, safe
from agentshell.tui.widgets.terminal.keys import LEAVE_KEY, key_to_bytes, paste_to_bytes
from agentshell.tui.widgets.terminal.render import LineStyles, line_segments

Sender = Callable[[bytes], Awaitable[None] | None]


def _history(emulator: Any) -> Any:
    """The emulator's scrollback (a sequence of ``Line``), oldest first."""
    h = getattr(emulator, "history", None)
    if h is None:
        h = getattr(emulator, "scrollback", None)
    return h if h is not None else ()


def _newest_row(emulator: Any) -> Any:
    """The newest scrollback entry, read without rendering it (see
    :attr:`Scrollback.newest`: a lazy block of a flood stays unemulated)."""
    h = _history(emulator)
    newest = getattr(h, "newest", None)
    if newest is not None:
        return newest
    return h[len(h) - 1] if len(h) else None


def _dropped(emulator: Any, old_newest: Any, old_len: int, new_len: int) -> int:
    """Rows that fell off the front of the scrollback since ``old_newest`` was its
    newest entry and it held ``old_len`` rows (0 when that cannot be told)."""
    after = getattr(_history(emulator), "entries_after", None)
    k = after(old_newest) if after is not None else None
    return 0 if k is None else max(0, old_len + k - new_len)


_frozen = False


def freeze_startup_heap() -> bool:
    """Move every object alive now to the permanent generation, once per process
    (True the time it did). Objects that stay for the app's life are then never
    traversed by a full collection again; garbage among them is not collected (what
    a start leaves behind, once)."""
    global _frozen
    if _frozen:
        return False
    _frozen = True
    gc.freeze()
    return True


#: How long a pane's size must hold before its terminal follows (seconds).
RESIZE_SETTLE = 0.06


class TerminalPane(ScrollView, can_focus=True):
    """One terminal. Focus + enter/click takes over typing; ctrl+] gives it back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "take_over", "Type here", show=True),
        Binding("shift+pageup", "page_back", "Scroll back", show=False),
        Binding("shift+pagedown", "page_forward", "Scroll forward", show=False),
    ]

    typing: reactive[bool] = reactive(False)
    FPS = 30.0

    def __init__(
        self,
        name: str,
        terminal: Any,
        *,
        sender: Sender | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.terminal_name = name
        self.terminal = terminal
        self._sender = sender
        self._styles = LineStyles()
        self._row_cache: dict[int, tuple[Any, int | None, Strip]] = {}
        self._history_cache: LRUCache[int, tuple[Any, Strip]] = LRUCache(2048)
        self._pending = True
        self._repaint_armed = False
        self._last_repaint = 0.0
        self._cursor: tuple[int, int, bool] = (-1, -1, False)
        self._frame: Any = None
        self._hist_len = 0
        #: The newest scrollback row at the last repaint: when another one is newest
        #: at an unchanged length (a full scrollback moving on, another screen
        #: swapped in), every scrollback row in view may have changed.
        self._newest_row: Any = None
        self._follow = True
        self._auto_scrolling = False  # a scroll of ours, not the operator's
        self._sized = False  # the terminal got this pane's size once
        self._resize_timer: Any = None
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue()
        self._agent = ""
        self._activity = ""
        self._icon = "⚙"
        #: The shell has exited (the next key typed here starts a new one).
        self._exited = False
        self._interactive = True  # keys typed here reach the shell (not in a replay)
        self.repaints = 0
        self.border_title = safe(name)
        listener = getattr(terminal, "add_listener", None)
        if callable(listener):
            listener(self._on_terminal_output)

    # ------------------------------------------------------------------ plumbing

    @property
    def emulator(self) -> Any:
        return self.terminal.emulator

    def _on_terminal_output(self, *_args: Any) -> None:
        """The terminal's listener: mark, and arm one repaint (see ``_arm``).

        It runs in a plain asyncio callback, outside Textual's app context where
        timers cannot be made: hand over through the pane's own message queue.
        """
        self._pending = True
        if not self._repaint_armed:
            self._repaint_armed = True
            self.call_later(self._schedule_repaint)

    def _arm(self) -> None:
        """Schedule one repaint, at most ``FPS`` a second; nothing while the pane is quiet.

        Output arms a single timer (no polling interval), so idle panes cost no wake-ups
        and a flood still repaints at most FPS times a second.
        """
        if not self._repaint_armed:
            self._repaint_armed = True
            self._schedule_repaint()

    def _schedule_repaint(self) -> None:
        if not self.is_mounted:
            self._repaint_armed = False  # on_mount paints; output after it arms again
            return
        delay = self._last_repaint + 1 / self.FPS - time.monotonic()
        if delay > 0.001:
            self.set_timer(delay, self._tick)
        else:  # due now: after the current message (Textual timers cannot take 0)
            self.call_later(self._tick)

    def on_mount(self) -> None:
        self.repaint_now()
        self._update_titles()
        # after the first paint: the screen's widgets and styles exist by then
        self.call_after_refresh(freeze_startup_heap)
        self.run_worker(self._drain_outbox(), exclusive=False, group=f"send-{self.terminal_name}")

    async def _drain_outbox(self) -> None:
        """Send what was typed, in order, for as long as the pane lives; a send that
        fails is said (once in a row per message) and the keys after it still go."""
        said = ""
        while True:
            data = await self._outbox.get()
            try:
                await self._send(data)
                said = ""
            except Exception as exc:  # a refused or failed send must not end the app
                if str(exc) != said:
                    said = str(exc)
                    self.app.notify(
                        printable(f"{self.terminal_name}: {exc}"),
                        title="Keys not sent",
                        severity="error",
                        markup=False,
                    )

    async def _send(self, data: bytes) -> None:
        if self._sender is not None:
            result = self._sender(data)
            if result is not None:
                await result
        else:
            send = getattr(self.terminal, "send", None)
            if send is not None:
                r = send(data)
                if asyncio.iscoroutine(r):
                    await r

    def send_bytes(self, data: bytes) -> None:
        self._outbox.put_nowait(data)

    def mark_dirty(self) -> None:
        self._pending = True
        self._arm()

    # -------------------------------------------------------------------- ticks

    def _tick(self) -> None:
        self._repaint_armed = False
        if not self._pending:
            return
        self._pending = False
        self._last_repaint = time.monotonic()
        self.repaint_now()

    def repaint_now(self) -> None:
        """Take the terminal's current frame and refresh the rows that changed.

        Frames are copy-on-write: an unchanged row is the very same ``Line`` object as
        in the previous frame, so ``is`` finds the dirty rows without comparing text.
        """
        frame = self.terminal.frame()
        prev = self._frame
        self._frame = frame
        self.repaints += 1
        em = self.emulator
        # full-screen programs (vim, less) own the alternate screen: no scrollback then
        hist_len = 0 if getattr(em, "alternate_screen", False) else len(_history(em))
        prev_len, prev_newest = self._hist_len, self._newest_row
        self._hist_len = hist_len
        newest = _newest_row(em) if hist_len else None
        history_moved = newest is not prev_newest
        self._newest_row = newest
        cursor = (frame.cursor[0], frame.cursor[1], bool(frame.cursor_visible))
        old_cursor = self._cursor
        self._cursor = cursor
        height = hist_len + len(frame.lines)
        size = Size(frame.columns, height)
        if prev is None or len(prev.lines) != len(frame.lines) or self.virtual_size != size:
            if (
                prev is not None
                and len(prev.lines) == len(frame.lines)
                and self.virtual_size.width == size.width
                and self.show_vertical_scrollbar == self._wants_scrollbar(height)
            ):
                # Only the scrollback grew (the hot path of a flood). Setting the
                # ``virtual_size`` reactive would lay the whole screen out again (tens of
                # ms a tick); nothing outside this pane moves, so skip the layout: update
                # the scrollbar and repaint this pane alone.
                self.set_reactive(TerminalPane.virtual_size, size)
                self._scroll_update(size)
            else:
                self._row_cache.clear()
                self.virtual_size = size
            if self._follow:
                self._scroll_live()
            self.refresh()
            return
        if self._follow and int(self.scroll_offset.y) != self._live_top():
            self._scroll_live()  # the cursor left the view of a taller screen
            self.refresh()
            return
        if history_moved and not self._follow and prev_newest is not None:
            # read back in a full scrollback: rows fell off its front, so the lines in
            # view moved up; follow them, as terminals do, instead of the text moving
            dropped = _dropped(em, prev_newest, prev_len, hist_len)
            if dropped:
                self._auto_scrolling = True
                try:
                    y = max(0, int(self.scroll_offset.y) - dropped)
                    self.scroll_to(y=y, animate=False, immediate=True)
                finally:
                    self._auto_scrolling = False
                self.refresh()
                return
        rows = {
            i for i, (a, b) in enumerate(zip(frame.lines, prev.lines, strict=True)) if a is not b
        }
        if cursor != old_cursor:
            rows.add(old_cursor[1])
            rows.add(cursor[1])
        # ``refresh_lines`` takes a line of the virtual content (it subtracts the
        # scroll offset itself): the screen's row r is line hist_len + r
        top = int(self.scroll_offset.y)
        if history_moved and top < hist_len:
            self.refresh_lines(top, min(hist_len, top + self.size.height) - top)
        for r in rows:
            y = hist_len + r
            if top <= y < top + self.size.height:
                self.refresh_lines(y)

    def _wants_scrollbar(self, height: int) -> bool:
        overflow = self.styles.overflow_y
        return overflow == "scroll" or (overflow == "auto" and height > self.container_size.height)

    # ---------------------------------------------------------------- rendering

    def _screen_strip(self, row: int) -> Strip:
        frame = self._frame
        line = frame.lines[row]
        cx, cy, visible = self._cursor
        cursor_x = cx if (row == cy and visible and self.has_focus) else None
        cached = self._row_cache.get(row)
        if cached is not None and cached[0] is line and cached[1] == cursor_x:
            return cached[2]
        segs = line_segments(self._styles, line, cursor_x)
        strip = Strip(segs).adjust_cell_length(frame.columns)
        self._row_cache[row] = (line, cursor_x, strip)
        return strip

    def _history_strip(self, index: int) -> Strip:
        line = _history(self.emulator)[index]
        cached = self._history_cache.get(index)
        if cached is not None and cached[0] is line:
            return cached[1]
        strip = Strip(line_segments(self._styles, line)).adjust_cell_length(self._frame.columns)
        self._history_cache[index] = (line, strip)
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = int(scroll_y) + y
        width = self.scrollable_content_region.width
        if self._frame is None:
            return Strip.blank(width, self.rich_style)
        hist = self._hist_len
        if index < hist:
            try:
                strip = self._history_strip(index)
            except IndexError:
                return Strip.blank(width, self.rich_style)
        elif index - hist < len(self._frame.lines):
            strip = self._screen_strip(index - hist)
        else:
            return Strip.blank(width, self.rich_style)
        return strip.crop_extend(int(scroll_x), int(scroll_x) + width, Style())

    # ------------------------------------------------------------------ resize

    def on_resize(self, event: events.Resize) -> None:
        self._row_cache.clear()
        if not self._sized:  # the first size goes to the terminal at once
            self._post_size()
            return
        # A layout change resizes a pane in steps (the grid, then the sidebar): the
        # shell gets one SIGWINCH for the size it settles at, not one per step (the
        # output printed at an in-between width stays wrapped at it).
        if self._resize_timer is not None:
            self._resize_timer.stop()
        self._resize_timer = self.set_timer(RESIZE_SETTLE, self._post_size)

    def _post_size(self) -> None:
        self._resize_timer = None
        region = self.scrollable_content_region
        if region.width > 4 and region.height > 2:
            self._sized = True
            self.post_message(PaneResized(self.terminal_name, region.width, region.height))

    # ----------------------------------------------------------------- scrolling

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if not self._auto_scrolling:
            self._follow = new >= self.max_scroll_y

    def _scroll_live(self) -> None:
        """Show the live screen (:meth:`_live_top`): its bottom when it fits the pane;
        a taller screen (a recording replayed at its own size) scrolls only as far as
        its cursor needs, so a fresh screen's prompt on its first row stays in view.
        Following stays on either way."""
        self._auto_scrolling = True
        try:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
            top = self._live_top()
            if top != int(self.scroll_offset.y):
                self.scroll_to(y=top, animate=False, immediate=True)
        finally:
            self._auto_scrolling = False

    def _live_top(self) -> int:
        """The first line :meth:`_scroll_live` shows: the screen's bottom when the
        screen fits the pane; when it is taller, the cursor's row at the bottom of
        the view if it can be, else the screen's first row (never scrollback)."""
        end = int(self.max_scroll_y)
        cursor_row = self._hist_len + max(0, self._cursor[1])
        return min(end, max(self._hist_len, cursor_row - (self.size.height - 1)))

    def action_page_back(self) -> None:
        self.scroll_page_up(animate=False)

    def action_page_forward(self) -> None:
        self.scroll_page_down(animate=False)

    # ------------------------------------------------------------------ typing

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # while typing, enter goes to the shell: the footer must not offer "Type here"
        return not (action == "take_over" and self.typing)

    def action_take_over(self) -> None:
        self.typing = True
        self.focus()

    def leave(self) -> None:
        self.typing = False

    def watch_typing(self, typing: bool) -> None:
        self.set_class(typing, "-typing")
        self._update_titles()
        self._row_cache.clear()
        self.refresh()
        self.post_message(TypingChanged(self.terminal_name, typing))

    def set_activity(self, who: str, what: str = "", icon: str = "⚙") -> None:
        """Which agent acts on this terminal (``who``: "" when none) and how (``what``:
        the approved command running, ``icon`` ⚙; or the shared draft it types, ✎)."""
        if (who, what, icon) != (self._agent, self._activity, self._icon):
            self._agent, self._activity, self._icon = who, what, icon
            self._update_titles()

    def set_exited(self, exited: bool, *, interactive: bool = True) -> None:
        """Whether this terminal's shell has exited (``exit``, a crash);
        ``interactive``: keys typed here reach the shell, and after an exit start a
        new one (not in a replay)."""
        if (exited, interactive) != (self._exited, self._interactive):
            self._exited, self._interactive = exited, interactive
            self._update_titles()

    @property
    def marker(self) -> str:
        """Who is typing here: ``human`` (takeover), ``agent`` or ``idle``."""
        if self.typing:
            return "human"
        return "agent" if self._agent else "idle"

    def _update_titles(self) -> None:
        marker = self.marker
        self.set_class(marker == "agent", "-agent")
        # names and commands may hold escape codes or "[": shown as text, never as markup
        name = self.terminal_name
        if self._exited and marker != "agent":
            self.border_title = safe(f"{name} · shell exited")
            if not self._interactive:
                self.border_subtitle = "shell exited"
            elif marker == "human":
                self.border_subtitle = (
                    "a key typed here starts a new shell · ctrl+] gives the keys back"
                )
            else:
                self.border_subtitle = "shell exited · enter/click, then a key, starts a new one"
        elif marker == "human":
            self.border_title = safe(f"{name} · ⌨ human")
            self.border_subtitle = "⌨ you are typing here · ctrl+] gives the keys back"
        elif marker == "agent":
            self.border_title = safe(f"{name} · {self._icon} {self._agent}")
            self.border_subtitle = safe(f"{self._icon} {self._agent} {self._activity}")
        else:
            self.border_title = safe(f"{name} · idle")
            self.border_subtitle = "idle · enter/click to type" if self._interactive else "idle"

    def on_focus(self) -> None:
        self._row_cache.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._row_cache.clear()
        self.refresh()

    async def on_click(self, event: events.Click) -> None:
        self.action_take_over()

    async def on_key(self, event: events.Key) -> None:
        if not self.typing:
            return
        event.stop()
        event.prevent_default()
        if event.key == LEAVE_KEY:
            self.typing = False
            return
        data = key_to_bytes(
            event.key,
            event.character,
            app_cursor=bool(getattr(self.emulator, "application_cursor_keys", False)),
        )
        if data:
            self._follow = True
            self.send_bytes(data)

    async def on_paste(self, event: events.Paste) -> None:
        if not self.typing:
            return
        event.stop()
        event.prevent_default()
        bracketed = bool(getattr(self.emulator, "bracketed_paste", False))
        self.send_bytes(paste_to_bytes(event.text, bracketed=bracketed))

    def screen_text(self) -> list[str]:
        """The visible screen as plain text (tests, screenshots)."""
        return list(self.terminal.frame().display)


def segments_text(segments: list[Segment]) -> str:
    return "".join(s.text for s in segments)
