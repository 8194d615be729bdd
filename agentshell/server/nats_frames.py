"""The leader's terminals as frames on NATS, for operators on other machines.

Each terminal is emulated once, here. About ``HZ`` times a second a changed terminal's
screen goes out on the session's frames subject as an update of the rows that changed
(:mod:`agentshell.terminal.frame_wire`), with the rows that scrolled off since; a
viewer (``agentshell tui --nats``) draws them as they come. A viewer that opens, or
that missed an update, asks on the sync subject and gets a key frame of every
terminal, with its recent scrollback. Frames are views, not records: they go on core
NATS, never into the session's log (which keeps the program's bytes as
``terminal_output`` events).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import msgpack  # type: ignore[import-untyped]

from agentshell.store.nats_pipe import frames_subject, frames_sync_subject
from agentshell.terminal.frame_wire import MAX_SCROLLED, Modes, encode_update
from agentshell.terminal.frames import Frame, Line

log = logging.getLogger(__name__)

#: Updates a second, at most, per terminal.
HZ = 20


@dataclass
class _Sent:
    term: Any
    frame: Frame
    n: int
    modes: Modes
    newest: object = None


def _modes(emulator: Any) -> Modes:
    return Modes(
        bool(getattr(emulator, "alternate_screen", False)),
        bool(getattr(emulator, "application_cursor_keys", False)),
        bool(getattr(emulator, "bracketed_paste", False)),
    )


def _unchanged(frame: Frame, prev: Frame) -> bool:
    """Nothing a viewer draws differs (rows compared by identity: copy-on-write)."""
    return (
        frame.cursor == prev.cursor
        and frame.cursor_visible == prev.cursor_visible
        and frame.title == prev.title
        and frame.columns == prev.columns
        and len(frame.lines) == len(prev.lines)
        and all(a is b for a, b in zip(frame.lines, prev.lines, strict=True))
    )


def _recent_history(history: Any, count: int) -> list[Line]:
    n = len(history)
    return [history[i] for i in range(max(0, n - count), n)]


class FramePublisher:
    """Publish ``coordinator``'s terminals on ``nc`` under the session's ``token``."""

    def __init__(self, nc: Any, token: str, coordinator: Any, hz: float = HZ) -> None:
        self._nc = nc
        self._coordinator = coordinator
        self.subject = frames_subject(token)
        self.sync_subject = frames_sync_subject(token)
        self._period = 1.0 / hz
        self._sent: dict[str, _Sent] = {}
        self._task: asyncio.Task[None] | None = None
        self._sub: Any = None
        self.published = 0

    async def start(self) -> None:
        self._sub = await self._nc.subscribe(self.sync_subject, cb=self._on_sync)
        self._task = asyncio.ensure_future(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._period)
            try:
                await self.tick()
            except Exception:  # pragma: no cover - a view must not stop the leader
                log.exception("publishing terminal frames failed")

    def _terminals(self) -> dict[str, Any]:
        out = {}
        for info in self._coordinator.terminals():
            if info.open:
                with contextlib.suppress(Exception):  # closing meanwhile
                    out[info.name] = self._coordinator.terminal(info.name)
        return out

    async def tick(self) -> None:
        """Publish every terminal whose screen, modes or scrollback changed."""
        live = self._terminals()
        for gone in set(self._sent) - set(live):
            del self._sent[gone]
        for name, term in live.items():
            update = self._update(name, term)
            if update is not None:
                await self._nc.publish(self.subject, msgpack.packb(update))
                self.published += 1

    def _update(self, name: str, term: Any) -> dict[str, Any] | None:
        frame: Frame = term.frame()
        em = term.emulator
        modes = _modes(em)
        history = getattr(em, "history", ())
        sent = self._sent.get(name)
        if sent is not None and sent.term is not term:
            sent = None  # reopened under the same name: a new terminal
        newest = getattr(history, "newest", None)
        if sent is None:
            scrolled = [] if modes.alternate_screen else _recent_history(history, MAX_SCROLLED)
            update = encode_update(name, 1, frame, None, 0, scrolled=scrolled, modes=modes)
            self._sent[name] = _Sent(term, frame, 1, modes, getattr(history, "newest", None))
            return update
        if modes == sent.modes and newest is sent.newest and _unchanged(frame, sent.frame):
            return None
        scrolled = []
        if newest is not sent.newest and not modes.alternate_screen:
            after = getattr(history, "entries_after", None)
            k = after(sent.newest) if after is not None and sent.newest is not None else None
            scrolled = _recent_history(
                history, min(MAX_SCROLLED, k if k is not None else MAX_SCROLLED)
            )
        n = sent.n + 1
        update = encode_update(name, n, frame, sent.frame, sent.n, scrolled=scrolled, modes=modes)
        sent.frame, sent.n, sent.modes = frame, n, modes
        sent.newest = getattr(history, "newest", None)  # reading rows may have rebuilt it
        return update

    def key_frames(self) -> list[dict[str, Any]]:
        """A key frame of every terminal as last published (with recent scrollback)."""
        out = []
        for name, sent in self._sent.items():
            history = getattr(sent.term.emulator, "history", ())
            scrolled = [] if sent.modes.alternate_screen else _recent_history(history, MAX_SCROLLED)
            out.append(
                encode_update(
                    name, sent.n, sent.frame, None, 0, scrolled=scrolled, modes=sent.modes
                )
            )
        return out

    async def _on_sync(self, msg: Any) -> None:
        with contextlib.suppress(Exception):
            await msg.respond(msgpack.packb(self.key_frames()))
