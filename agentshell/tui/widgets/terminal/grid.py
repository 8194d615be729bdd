"""Every terminal of the session in a grid; one is current; zoom shows it alone."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from textual import events
from textual.containers import Container

from agentshell.tui.widgets.terminal.pane import Sender, TerminalPane

_ID_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def pane_id(name: str) -> str:
    """The widget id of terminal ``name``'s pane: ``pane-NAME`` when that is a valid id.

    Any other name (a dot, a slash, an escape code: recordings from before terminal
    names were checked hold such names) gets ``pane-`` + its unsafe characters as
    ``_`` (cut to 32) + ``-`` + 8 hex digits of its hash, so it is valid and, unlike
    the bare replacement, differs from its neighbours' (``a.b`` and ``a/b``).
    Look panes up with :meth:`TerminalGrid.pane` (by name), not by id.
    """
    if _ID_SAFE.fullmatch(name):
        return f"pane-{name}"
    digest = hashlib.blake2s(name.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
    return f"pane-{_ID_UNSAFE.sub('_', name)[:32]}-{digest}"


#: The narrowest a pane may get (border included) before the grid stacks panes.
MIN_PANE_COLUMNS = 40


class TerminalGrid(Container):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._current = 0
        self.zoomed = False

    @property
    def panes(self) -> list[TerminalPane]:
        return list(self.query(TerminalPane))

    def pane(self, name: str) -> TerminalPane | None:
        for p in self.panes:
            if p.terminal_name == name:
                return p
        return None

    @property
    def current(self) -> TerminalPane | None:
        panes = self.panes
        if not panes:
            return None
        return panes[min(self._current, len(panes) - 1)]

    async def add_terminal(self, name: str, terminal: Any, sender: Sender | None) -> TerminalPane:
        existing = self.pane(name)
        if existing is not None:
            return existing
        wanted = pane_id(name)
        taken = {p.id for p in self.panes}
        pid, n = wanted, 1
        while pid in taken:  # a crafted name can still meet another's id: never mount twice
            n += 1
            pid = f"{wanted}-{n}"
        pane = TerminalPane(name, terminal, sender=sender, id=pid)
        await self.mount(pane)
        self._layout()
        return pane

    async def remove_terminal(self, name: str) -> None:
        pane = self.pane(name)
        if pane is not None:
            await pane.remove()
            self._layout()

    def select(self, index: int) -> TerminalPane | None:
        panes = self.panes
        if not panes:
            return None
        self._current = index % len(panes)
        self._layout()
        return self.current

    def select_pane(self, pane: TerminalPane) -> None:
        panes = self.panes
        if pane in panes:
            self._current = panes.index(pane)
            self._layout()

    def step(self, delta: int) -> TerminalPane | None:
        return self.select(self._current + delta)

    def toggle_zoom(self) -> bool:
        self.zoomed = not self.zoomed
        self._layout()
        return self.zoomed

    def on_resize(self, event: events.Resize) -> None:
        self._layout()

    def _layout(self) -> None:
        panes = self.panes
        n = max(1, len(panes))
        cols = 1 if n == 1 else (2 if n <= 4 else 3)
        width = self.size.width
        if width:
            # side by side only while each pane keeps a usable width: a pane resizes
            # its terminal, so a narrow pane is a narrow shell for the agents too
            cols = max(1, min(cols, width // MIN_PANE_COLUMNS))
        if self.zoomed:
            cols = 1
        self.styles.grid_size_columns = cols
        self.styles.grid_size_rows = 1 if self.zoomed else math.ceil(n / cols)
        cur = self.current
        for p in panes:
            p.set_class(p is cur, "-current")
            p.display = (not self.zoomed) or p is cur
