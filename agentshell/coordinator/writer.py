"""The single writer: state every part of the coordinator shares, the durable append
(``_emit``) and the in-order broadcast to subscribers.

Everything that changes the session goes through :meth:`CoordinatorBase._emit`: the
event is appended to the log (``SessionManager.append_async``: sequence number and fold
at call time, returns once durable), then broadcast to subscribers in the order the
events were submitted. Checks and the append happen in one step of the event loop (no
``await`` in between), so two racing decisions cannot both pass a check.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from agentshell.core import events as ev
from agentshell.core import ot
from agentshell.core.errors import AgentShellError

from .results import (
    CommandExpired,
    CommandFailed,
    CommandRejected,
    RunResult,
)
from .subscriptions import Subscription

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager

    from .executor import _Slot


_FINISHED_KEEP = 4096
#: Events between automatic snapshots: a reopen replays at most about this many.
SNAPSHOT_EVERY = 100_000


class CoordinatorBase:
    """Shared state, the durable append and the broadcast (see the module doc)."""

    def __init__(
        self,
        session: SessionManager,
        *,
        project_dir: str | os.PathLike[str] | None = None,
        shell: str | None = None,
        columns: int = 200,
        lines: int = 50,
        run_timeout: float | None = None,
        user_rc: bool = True,
    ) -> None:
        self.session = session
        self.project_dir = str(project_dir) if project_dir is not None else os.getcwd()
        self.shell = shell
        self.columns = columns
        self.lines = lines
        self.run_timeout = run_timeout
        #: Source the user's shell rc file (``~/.bashrc``) in terminals; tests turn it
        #: off so that a slow rc (``pyenv init`` waiting on its rehash lock) cannot
        #: stall their shells.
        self.user_rc = user_rc
        self._subscribers: set[Subscription] = set()
        self._slots: dict[str, _Slot] = {}
        self._waiters: dict[str, list[asyncio.Future[RunResult]]] = {}
        self._finished: OrderedDict[str, RunResult | AgentShellError] = OrderedDict()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._submitted = 0
        self._next_broadcast = 0
        self._ready: dict[int, ev.Event | None] = {}
        self._started = False
        self._stopping = False
        self._docs: dict[str, ot.OTServerDoc] = {}
        self._doc_histories: dict[str, ot.OTServerDoc] | None = None
        self._closing: set[str] = set()
        self._seen: dict[str, dict[str, int]] = {}
        #: file_edited events reported since start, by event id (conflict side-by-side)
        self._edit_event_cache: dict[str, ev.FileEdited] = {}
        #: A snapshot is written every this many events (and when the coordinator stops).
        self.snapshot_every = SNAPSHOT_EVERY
        self._snapshotting: asyncio.Task[Any] | None = None
        self._system_seq = 0

    async def _emit(self, event: ev.Event) -> ev.Event:
        """Append ``event`` durably, then broadcast it (in submission order)."""
        ticket = self._submitted
        self._submitted += 1
        if (
            isinstance(event, ev.ApprovalDecided) and event.decision in ("rejected", "expired")
        ) or (isinstance(event, ev.ApprovalExecuted) and event.status in ("executed", "failed")):
            # folded now, settled once durable: wait_result must still find it meanwhile
            self._closing.add(event.approval_id)
        try:
            stored: ev.Event = await self.session.append_async(event)
        except BaseException:
            self._ready[ticket] = None
            self._flush_broadcast()
            raise
        self._ready[ticket] = stored
        self._flush_broadcast()
        if self.session.events_since_snapshot >= self.snapshot_every:
            self._snapshot_soon()
        return stored

    def _snapshot_soon(self) -> None:
        """Write a snapshot in a thread (not on the loop): reopening then replays only
        the log after it. One at a time; a failure leaves the older snapshots."""
        if self._snapshotting is not None and not self._snapshotting.done():
            return
        self._snapshotting = self._spawn(asyncio.to_thread(self._write_snapshot))

    def _write_snapshot(self) -> None:
        with contextlib.suppress(Exception):  # a full disk: the log itself says so
            self.session.persist_snapshot()

    def _flush_broadcast(self) -> None:
        while self._next_broadcast in self._ready:
            e = self._ready.pop(self._next_broadcast)
            self._next_broadcast += 1
            if e is not None:
                self._after(e)
                for sub in list(self._subscribers):
                    sub._offer(e)

    def _after(self, e: ev.Event) -> None:
        """Settle waiters once an event that finishes an approval is durable."""
        if isinstance(e, ev.ApprovalDecided):
            if e.decision == "rejected":
                self._settle(e.approval_id, CommandRejected(e.approval_id, e.reason, e.by))
            elif e.decision == "expired":
                self._settle(e.approval_id, CommandExpired(e.approval_id))
        elif isinstance(e, ev.ApprovalExecuted) and e.status == "failed":
            self._settle(e.approval_id, CommandFailed(e.approval_id, e.error or "failed"))
        if isinstance(e, ev.ApprovalDecided | ev.ApprovalExecuted) and (
            e.approval_id not in self.session.state["pending_approvals"]
        ):  # it ended: so did its shared text (the state dropped it too)
            self._docs.pop(ev.approval_doc(e.approval_id), None)

    def _settle(self, approval_id: str, outcome: RunResult | AgentShellError) -> None:
        self._closing.discard(approval_id)
        self._finished[approval_id] = outcome
        while len(self._finished) > _FINISHED_KEEP:
            self._finished.popitem(last=False)
        for f in self._waiters.pop(approval_id, []):
            if f.done():
                continue
            if isinstance(outcome, RunResult):
                f.set_result(outcome)
            else:
                f.set_exception(outcome)

    def subscribe(
        self,
        types: Iterable[str] | None = None,
        *,
        predicate: Callable[[ev.Event], bool] | None = None,
        maxsize: int = 10_000,
    ) -> Subscription:
        """A new :class:`Subscription` receiving every event appended from now on.

        ``types`` keeps only those event types; ``predicate`` (instead) decides per event.
        """
        sub = Subscription(self, types, maxsize, predicate)
        self._subscribers.add(sub)
        return sub

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def state(self) -> Any:
        """The live session state (read-only: never mutate it)."""
        return self.session.state
