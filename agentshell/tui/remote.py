"""The app's view of a session served elsewhere, through NATS (``agentshell tui --nats``).

An operator on another machine sees what the leader's own TUI would: the panes, the
approval queue, the conflicts and the event log of the session, and decides through
the same operator ops. Two sources, each doing what it is made for:

- **What happened** is read from the session's JetStream stream (a
  :class:`~agentshell.store.jetstream_follow.StreamFollower`): the state is the
  stream folded by the same reducer the coordinator uses, so the queue, conflicts,
  agents and log go on through a failover of the coordinator (the stream does not
  move).
- **The panes** show the frames the leader publishes
  (:mod:`agentshell.server.nats_frames`): each terminal is emulated once, by the
  leader; a viewer draws the rows it is sent and runs no emulator. A viewer that
  opens or missed an update asks for key frames.
- **Decisions** (approve, edit, reject, approve similar, resolve, typing into a
  pane) go to whichever coordinator leads the session now, as the operator over the
  NATS transport (:func:`~agentshell.client.nats_connect.connect_nats`, which
  reconnects through a standby that took over). Two operators deciding the same
  item: the coordinator takes the first; the second is told it is no longer pending,
  and both views show it decided, because both fold the same stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgpack  # type: ignore[import-untyped]

from agentshell.core import events as ev
from agentshell.core.conflicts import sides_of
from agentshell.core.rules import suggest_rule
from agentshell.core.state import SessionState, fold_batches
from agentshell.terminal.frame_wire import FrameGap, Shown, apply_update, blank
from agentshell.terminal.frames import Frame, Line
from agentshell.tui.backend import ConflictSides, RuleDraft, SharedText, TerminalLike
from agentshell.tui.widgets.log.event_log import NOISY

#: How often the stream is asked for new messages (seconds).
POLL = 0.05
#: Events the app's log view gets at start (the newest).
RECENT = 1000
#: Events read back on open for the log view (older ones only for open conflicts).
TAIL_EVENTS = 20_000


class RemoteTerminal:
    """A pane of a remote session: the frames its leader publishes, drawn as they come.

    It is its own ``emulator`` for the pane: the modes that decide how keys are sent
    and whether scrollback shows, and the scrollback rows the updates carried."""

    def __init__(self, name: str, columns: int, lines: int) -> None:
        self.name = name
        self.shown = Shown(blank(columns, lines))
        self._listeners: list[Callable[..., Any]] = []

    @property
    def emulator(self) -> RemoteTerminal:
        return self

    @property
    def alternate_screen(self) -> bool:
        return self.shown.modes.alternate_screen

    @property
    def application_cursor_keys(self) -> bool:
        return self.shown.modes.application_cursor_keys

    @property
    def bracketed_paste(self) -> bool:
        return self.shown.modes.bracketed_paste

    @property
    def history(self) -> list[Line]:
        return self.shown.history

    def apply(self, update: dict[str, Any]) -> None:
        """Show an update (:class:`FrameGap` when it does not follow the frame held)."""
        apply_update(self.shown, update)
        for cb in list(self._listeners):
            cb()

    def frame(self) -> Frame:
        return self.shown.frame

    def send(self, data: bytes) -> None:
        raise RuntimeError("type through the backend (send_input): the terminal is remote")

    def resize(self, columns: int, lines: int) -> None:
        return None  # the session's terminal keeps its size; the pane shows what fits

    def add_listener(self, callback: Callable[..., Any]) -> Callable[[], None]:
        self._listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return remove


class _Doc:
    """A pending command's shared text, co-edited through the operator connection."""

    def __init__(self, client: Any, name: str) -> None:
        self._client = client
        self._name = name
        self._doc: Any = None

    async def open(self) -> None:
        self._doc = await self._client.doc(self._name)

    @property
    def text(self) -> str:
        return str(self._doc.text) if self._doc is not None else ""

    @property
    def revision(self) -> int:
        return int(self._doc.revision) if self._doc is not None else 0

    async def settle(self, timeout: float = 5.0) -> int:
        if self._doc is not None:
            await self._doc.acked(timeout)
        return self.revision

    def insert(self, pos: int, text: str) -> None:
        if self._doc is not None:
            self._doc.insert(pos, text)

    def delete(self, pos: int, length: int) -> None:
        if self._doc is not None:
            self._doc.delete(pos, length)


class RemoteBackend:
    """A :class:`~agentshell.tui.backend.Backend` over a followed stream and an
    operator connection. Make one with :meth:`open`; :meth:`close` it."""

    def __init__(
        self, follower: Any, client: Any, frames_nc: Any = None, token: str = "", *, label: str = ""
    ) -> None:
        self._follower = follower
        self._client = client
        self._frames_nc = frames_nc
        self._token = token
        self.label = label
        self._state: SessionState = follower.opened_state()
        self._terms: dict[str, RemoteTerminal] = {}
        self._edits: dict[str, ev.Event] = {}
        self._recent: deque[ev.Event] = deque(maxlen=RECENT)
        self._subs: list[asyncio.Queue[ev.Event]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._frames_sub: Any = None
        self._syncing: asyncio.Task[None] | None = None
        self._sync_again = False
        #: Why the stream cannot be read just now (None while it can).
        self.error: str | None = None
        #: Frame updates shown, and key-frame syncs asked for (tests, diagnostics).
        self.updates = 0
        self.syncs = 0

    @classmethod
    async def open(
        cls,
        target: Any,
        session: str,
        token: str,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> RemoteBackend:
        """Follow ``session``'s stream and frames at ``target``; connect as its operator."""
        from agentshell.client.nats_connect import connect_nats
        from agentshell.store.jetstream import _connect, session_token
        from agentshell.store.jetstream_follow import StreamFollower

        follower = await asyncio.to_thread(StreamFollower, session, target)
        client = nc = None
        try:
            client = await connect_nats(target, session, operator=True, token=token)
            nc = await _connect(target)
        except BaseException:
            if client is not None:
                await client.close()
            await asyncio.to_thread(follower.close)
            raise
        backend = cls(follower, client, nc, session_token(session), label=session)
        try:
            await asyncio.to_thread(backend._load, progress)
            await backend._start()
        except BaseException:
            await backend.close()
            raise
        return backend

    # ------------------------------------------------------------- following

    def _load(self, progress: Callable[[int, int], None] | None) -> None:
        """The log view's tail and the edits the open conflicts show, read once before
        the app shows: the last ``TAIL_EVENTS`` events, and from further back only the
        edits of conflicts still open (terminal bytes are skipped)."""
        state = self._state
        last = int(state["last_seq"])
        tail = max(0, last - TAIL_EVENTS)
        start = tail
        need = {i for c in state["active_conflicts"].values() for i in c.edit_ids}
        if need:
            seqs = [
                x.seq for edits in state["file_edits"].values() for x in edits if x.edit_id in need
            ]
            oldest = min(c.seq for c in state["active_conflicts"].values())
            back = min(seqs) - 1 if len(seqs) == len(need) else max(0, oldest - 100_000)
            start = min(start, back)
        wanted = [t for t in ev.EVENT_TYPES if t not in ("terminal_output", "terminal_input")]
        for e in self._follower.session.iter_events(after_seq=start, types=wanted):
            if e.seq > last:
                break
            if e.seq > tail:
                self._show(e)
            elif isinstance(e, ev.FileEdited) and e.event_id in need:
                self._edits[e.event_id] = e
            if progress is not None and e.seq % 10_000 == 0:
                progress(e.seq - start, last - start)
        for name, info in state["terminals"].items():
            if info.open:
                self._terms[name] = RemoteTerminal(name, info.columns, info.lines)

    def _show(self, e: ev.Event) -> None:
        """What an event changes besides the state: panes, edits kept, the log's tail."""
        if isinstance(e, ev.TerminalOpened):
            self._terms.setdefault(e.terminal, RemoteTerminal(e.terminal, e.columns, e.lines))
        elif isinstance(e, ev.TerminalClosed):
            self._terms.pop(e.terminal, None)
        elif isinstance(e, ev.FileEdited):
            self._edits[e.event_id] = e
        kind = e.event_type
        if kind not in NOISY or (
            kind == "doc_op" and ev.approval_of_doc(str(e.payload.get("doc", ""))) is not None
        ):
            self._recent.append(e)

    async def _start(self) -> None:
        from agentshell.store.nats_pipe import frames_subject

        self._loop = asyncio.get_running_loop()
        if self._frames_nc is not None:
            self._frames_sub = await self._frames_nc.subscribe(
                frames_subject(self._token), cb=self._on_frame
            )
            self.request_sync()
        self._thread = threading.Thread(target=self._follow, name="agentshell-remote", daemon=True)
        self._thread.start()

    # frames

    async def _on_frame(self, msg: Any) -> None:
        with contextlib.suppress(Exception):  # a malformed update: the next key frame mends
            self._frame(msgpack.unpackb(msg.data, raw=False))

    def _frame(self, update: dict[str, Any]) -> None:
        name = str(update["term"])
        term = self._terms.get(name)
        if term is None:
            return  # not (yet) open in the state followed: its opening brings a key frame
        try:
            term.apply(update)
            self.updates += 1
        except FrameGap:
            self.request_sync()

    def request_sync(self) -> None:
        """Ask the leader for a key frame of every terminal (once at a time)."""
        if self._syncing is not None and not self._syncing.done():
            self._sync_again = True
            return
        self._syncing = asyncio.ensure_future(self._sync())

    async def _sync(self) -> None:
        from agentshell.store.nats_pipe import frames_sync_subject

        subject = frames_sync_subject(self._token)
        delay = 0.2
        while not self._stop.is_set():
            self._sync_again = False
            self.syncs += 1
            try:
                reply = await self._frames_nc.request(subject, b"", timeout=5)
                for update in msgpack.unpackb(reply.data, raw=False):
                    self._frame(update)
            except Exception:  # no leader answers just now (a failover): ask again
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if not self._sync_again:
                return

    # events

    def _follow(self) -> None:
        while not self._stop.wait(POLL):
            try:
                batches = self._follower.read_new()
            except Exception as exc:  # the cluster is failing over: the next poll retries
                self.error = f"cannot read the session's stream: {exc}"
                continue
            self.error = None
            if batches and self._loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    self._loop.call_soon_threadsafe(self._apply, batches)

    def _apply(self, batches: list[list[dict[str, Any]]]) -> None:
        """On the app's loop: fold, then show and hand out, in the stream's order."""
        # the events first: the bulk fold takes its records apart as it goes
        events = [ev.event_from_record(rec) for batch in batches for rec in batch]
        fold_batches(self._state, batches)
        opened = False
        for e in events:
            if e.event_type in ("terminal_output", "terminal_input"):
                continue  # the panes show frames; the app's stream leaves these out
            self._show(e)
            opened = opened or e.event_type == "terminal_opened"
            for q in self._subs:
                q.put_nowait(e)
        if opened:
            self.request_sync()  # its first frames may have come before its opening

    async def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)
        if self._syncing is not None:
            self._syncing.cancel()
        if self._frames_nc is not None:
            with contextlib.suppress(Exception):
                await self._frames_nc.close()
        with contextlib.suppress(Exception):
            await self._client.close()
        await asyncio.to_thread(self._follower.close)

    # -------------------------------------------------------------- reading

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def socket_path(self) -> str:
        return ""

    def terminals(self) -> dict[str, TerminalLike]:
        return dict(self._terms)

    def subscribe(self) -> AsyncIterator[ev.Event]:
        q: asyncio.Queue[ev.Event] = asyncio.Queue()
        self._subs.append(q)  # registered now, before the app reads the state
        return self._iterate(q)

    async def _iterate(self, q: asyncio.Queue[ev.Event]) -> AsyncIterator[ev.Event]:
        try:
            while True:
                yield await q.get()
        finally:
            with contextlib.suppress(ValueError):
                self._subs.remove(q)

    def recent_events(self, limit: int) -> list[ev.Event]:
        return list(self._recent)[-limit:]

    def suggest_rule(self, command: str) -> tuple[str, str]:
        kind, pattern = suggest_rule(command)
        return str(kind), str(pattern)

    def risk_hints(self, command: str, cwd: str) -> tuple[str, ...]:
        from agentshell.core.risk import risk_hints

        return tuple(risk_hints(command, cwd=cwd))

    def conflict_sides(self, conflict_id: str) -> ConflictSides | None:
        c = self._state["active_conflicts"].get(conflict_id)
        if c is None:
            return None
        got = sides_of(c.edit_ids, c.ranges, self._edits)
        return ConflictSides(*got) if got is not None else None

    def approval_doc(self, approval_id: str) -> SharedText | None:
        return _Doc(self._client, ev.approval_doc(approval_id))

    def running_commands(self) -> int:
        return 0  # quitting a remote view stops nothing: no need to ask

    def busy_terminals(self) -> list[str]:
        return []

    def recording_error(self) -> str | None:
        return None  # the leader records; a remote view holds nothing

    # ------------------------------------------------------------ deciding

    async def _ask(self, op: str, **fields: Any) -> dict[str, Any]:
        """One operator request to whichever coordinator leads now. A request cut off
        by a lost leader is sent once more after the client reconnected (through the
        standby that took over): a decision cannot have been taken twice, since the
        new leader refuses one that is no longer pending."""
        from agentshell.client.client import ConnectionLost

        try:
            reply: dict[str, Any] = await self._client.request(op, **fields)
        except ConnectionLost:
            await self._client.connected()  # ConnectionLost again when it gave up
            reply = await self._client.request(op, **fields)
        return reply

    async def approve(
        self, approval_id: str, command: str | None = None, revision: int | None = None
    ) -> None:
        await self._ask("approve", approval_id=approval_id, command=command, revision=revision)

    async def reject(self, approval_id: str, reason: str) -> None:
        await self._ask("reject", approval_id=approval_id, reason=reason)

    async def approve_similar(self, approval_id: str, rule: RuleDraft) -> None:
        await self._ask(
            "approve_similar",
            approval_id=approval_id,
            kind=rule.kind,
            pattern=rule.pattern,
            scope=rule.scope,
            scope_value=rule.scope_value,
        )

    async def resolve_conflict(self, conflict_id: str, resolution: str, note: str = "") -> None:
        await self._ask(
            "resolve_conflict", conflict_id=conflict_id, resolution=resolution, note=note
        )

    async def send_input(self, terminal: str, data: bytes) -> None:
        # not sent again when cut off: keys typed twice would be worse than lost ones
        await self._client.request("send_input", terminal=terminal, data=data)

    async def resize(self, terminal: str, columns: int, lines: int) -> None:
        return None  # a viewer's pane size does not resize the session's terminal
