"""``AgentClient``: the Python client of the agent socket (protocol: docs/protocol.md).

::

    async with AgentClient.connect(sock, "claude", token) as c:
        result = await c.run("pytest -q", terminal="main", timeout=300)
        print(result.exit_code, result.output)

One reader task reads every frame: replies are matched to their request by ``id``;
pushed events go to :meth:`subscribe` iterators and to open shared documents.
``run`` raises :class:`CommandRejected` (``.reason``) or :class:`CommandExpired`.

Connecting retries what passes (a server still starting, a listen backlog full in a
storm of agents) with jittered backoff for ``retry_for`` seconds, then fails saying
what happened. A lost connection is dialled again the same way (``reconnect_for``
seconds; the client says hello again and subscribes again): ``run``, ``propose``
and ``result`` then resume on the same approval id, so a restart of the coordinator
costs a delay, not a lost result. A ``run`` whose caller gives up (cancelled, its
own deadline) withdraws its approval, so nobody runs it for an agent that is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import os
import random
import secrets
import socket
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentshell.coordinator.results import (
    ERRORS_BY_CODE,
    CommandError,
    CommandExpired,
    CommandFailed,
    CommandInterrupted,
    CommandRejected,
    RunResult,
)
from agentshell.coordinator.wire import encode, read_frame
from agentshell.core import ot
from agentshell.core.clock import merge
from agentshell.core.errors import AgentShellError, PermissionDeniedError
from agentshell.core.events import Event, event_from_record

__all__ = [
    "AgentClient",
    "CommandExpired",
    "CommandFailed",
    "CommandInterrupted",
    "CommandRejected",
    "ConnectionLost",
    "RunResult",
    "Screen",
    "ServerError",
    "ServerUnreachable",
    "SharedDoc",
]


class ServerError(AgentShellError):
    """An error frame the server sent (``code``, ``message``, ``data``)."""

    def __init__(self, code: str, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data or {}


class ConnectionLost(AgentShellError, ConnectionError):
    """The connection closed before the reply came."""


class ServerUnreachable(AgentShellError, ConnectionError):
    """No connection could be made before the deadline; ``cause`` is the last error
    (FileNotFoundError: no socket; ConnectionRefusedError: nobody listening;
    BlockingIOError: the server's listen backlog stayed full)."""

    def __init__(
        self, message: str, cause: BaseException | None = None, seconds: float = 0.0
    ) -> None:
        super().__init__(message)
        self.cause = cause
        #: How long it kept trying.
        self.seconds = seconds


#: Seconds connecting keeps retrying by default (a server still starting, a full backlog).
RETRY_FOR = 10.0
#: Seconds a lost connection keeps being dialled again by default (a coordinator restart).
RECONNECT_FOR = 60.0
#: Backoff between attempts: from FIRST_DELAY doubling up to MAX_DELAY, each jittered.
FIRST_DELAY = 0.02
MAX_DELAY = 1.0


def why_not(path: Path, exc: BaseException) -> str:
    """What a failed connection attempt means, in words."""
    if isinstance(exc, BlockingIOError) or getattr(exc, "errno", None) == errno.EAGAIN:
        return (
            f"the server at {path} is accepting too slowly: its listen backlog stayed"
            " full (many agents connecting at once)"
        )
    if isinstance(exc, FileNotFoundError):
        return f"no socket at {path} (the server is not running, or still starting)"
    if isinstance(exc, ConnectionRefusedError):
        return f"nobody is listening on {path} (the server stopped, or is still starting)"
    if isinstance(exc, PermissionError):
        return f"cannot open the socket {path}: permission denied"
    if isinstance(exc, asyncio.IncompleteReadError | ConnectionError):
        return f"the server at {path} closed the connection during hello"
    return f"cannot reach the server at {path}: {getattr(exc, 'strerror', None) or exc}"


def _transient(exc: BaseException) -> bool:
    """Worth another attempt: the server may be starting, restarting or overloaded."""
    return isinstance(
        exc,
        BlockingIOError
        | InterruptedError
        | FileNotFoundError
        | ConnectionRefusedError
        | ConnectionResetError
        | BrokenPipeError
        | asyncio.IncompleteReadError
        | ConnectionLost,
    ) or getattr(exc, "errno", None) in (errno.EAGAIN, errno.ECONNREFUSED, errno.ENOENT)


class Backoff:
    """Jittered exponential backoff until a deadline (full jitter: a storm of clients
    retrying does not come back in lockstep)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self._delay = FIRST_DELAY

    def left(self) -> float:
        return self.deadline - time.monotonic()

    async def wait(self) -> bool:
        """Sleep before the next attempt; False once the deadline has passed."""
        left = self.left()
        if left <= 0:
            return False
        await asyncio.sleep(min(left, random.uniform(self._delay / 2, self._delay)))
        self._delay = min(self._delay * 2, MAX_DELAY)
        return True


async def dial(path: Path, backoff: Backoff) -> socket.socket:
    """A connected, non-blocking Unix socket to ``path``, retried until ``backoff``'s
    deadline (ServerUnreachable then).

    The connect is made here, not by asyncio: on a Unix socket a full listen backlog
    is EAGAIN, which asyncio takes for a connect in progress and hands on an
    unconnected socket ("Transport endpoint is not connected" at the first write)."""
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.connect(str(path))
            return sock
        except OSError as exc:
            sock.close()
            if not _transient(exc) or not await backoff.wait():
                if not _transient(exc):
                    raise
                raise ServerUnreachable(
                    f"could not connect within {backoff.seconds:g} s: {why_not(path, exc)}",
                    exc,
                    backoff.seconds,
                ) from exc


def error_from_frame(err: Any) -> Exception:
    if not isinstance(err, dict):
        return ServerError("bad_reply", repr(err))
    code = str(err.get("code", "error"))
    message = str(err.get("message", ""))
    aid = str(err.get("approval_id", ""))
    if code == "rejected":
        return CommandRejected(aid, str(err.get("reason", "")))
    if code == "expired":
        return CommandExpired(aid, message)
    if code in ("interrupted", "failed"):
        return (CommandInterrupted if code == "interrupted" else CommandFailed)(aid, message)
    if code == "permission_denied":
        return PermissionDeniedError(message)
    cls = ERRORS_BY_CODE.get(code)
    if cls is not None and not issubclass(cls, CommandError):
        return cls(message)
    return ServerError(code, message, err)


@dataclass(frozen=True, slots=True)
class Screen:
    terminal: str
    lines: tuple[str, ...]
    cursor: tuple[int, int] | None
    title: str
    at_prompt: bool
    cwd: str

    @property
    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.lines).rstrip("\n")


def _result(reply: dict[str, Any]) -> RunResult:
    return RunResult(
        approval_id=reply["approval_id"],
        command=reply["command"],
        exit_code=reply.get("exit_code"),
        output=reply.get("output", ""),
        duration=float(reply.get("duration", 0.0)),
        terminal=reply.get("terminal", "main"),
    )


class _Connector:
    """``await AgentClient.connect(...)`` or ``async with AgentClient.connect(...) as c``."""

    def __init__(self, coro: Coroutine[Any, Any, AgentClient]) -> None:
        self._coro = coro
        self._client: AgentClient | None = None

    def __await__(self) -> Generator[Any, None, AgentClient]:
        return self._coro.__await__()

    async def __aenter__(self) -> AgentClient:
        self._client = await self._coro
        return self._client

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.close()


class AgentClient:
    """A connection to an AgentShell server, as an agent or as the operator."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        #: Where and who (set by connect): what a reconnect dials and says.
        self._path: Path | None = None
        self._hello: dict[str, Any] = {}
        #: Seconds a lost connection is dialled again (0: never).
        self.reconnect_for = 0.0
        self._reconnecting: asyncio.Task[None] | None = None
        self._gone: Exception | None = None
        #: The types of the last subscribe (subscribed again after a reconnect).
        self._subscribed: list[str] | bool | None = False
        #: Times this client reconnected.
        self.reconnects = 0
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._subs: list[asyncio.Queue[Event | None]] = []
        self._docs: dict[str, SharedDoc] = {}
        self._closed = False
        self.agent_id = ""
        self.role = ""
        self.session = ""
        self.permissions: tuple[str, ...] = ()
        self.capabilities: tuple[str, ...] = ()
        #: What this client has seen (merged from every event and reply clock).
        self.clock: dict[str, int] = {}
        self.push_errors: list[dict[str, Any]] = []
        self._reader_task = asyncio.ensure_future(self._read_loop())

    # ----------------------------------------------------------------- connect

    @classmethod
    def connect(
        cls,
        socket_path: str | os.PathLike[str],
        agent_id: str | None = None,
        token: str | None = None,
        *,
        operator: bool = False,
        retry_for: float = RETRY_FOR,
        reconnect_for: float = RECONNECT_FOR,
    ) -> _Connector:
        """Connect and say hello (``await`` it, or use ``async with``).

        An agent passes ``agent_id`` and its token; the operator passes
        ``operator=True`` and the operator token (None: read from beside the socket).
        ``retry_for``: seconds to keep trying while the server is starting or its
        backlog is full (then :class:`ServerUnreachable` says which);
        ``reconnect_for``: seconds to keep dialling again after a lost connection
        (0: a lost connection fails what waits on it at once).
        """
        if operator and token is None:
            token = read_operator_token(Path(socket_path))
        if operator:
            hello: dict[str, Any] = {"role": "operator", "token": token}
        else:
            if agent_id is None or token is None:
                raise ValueError("an agent connection needs agent_id and token")
            hello = {"agent": agent_id, "token": token}
        return _Connector(cls._open(Path(socket_path), hello, retry_for, reconnect_for))

    @classmethod
    async def _open(
        cls, path: Path, hello: dict[str, Any], retry_for: float, reconnect_for: float
    ) -> AgentClient:
        backoff = Backoff(retry_for)
        while True:
            c, reply, exc = await cls._attempt(path, hello, backoff)
            if c is not None:
                break
            assert exc is not None
            if not _transient(exc) or not await backoff.wait():
                if isinstance(exc, ServerUnreachable) or not _transient(exc):
                    raise exc
                raise ServerUnreachable(
                    f"could not connect within {retry_for:g} s: {why_not(path, exc)}",
                    exc,
                    retry_for,
                ) from exc
        c._path, c._hello, c.reconnect_for = path, hello, reconnect_for
        c._said_hello(reply)
        return c

    @classmethod
    async def _attempt(
        cls, path: Path, hello: dict[str, Any], backoff: Backoff
    ) -> tuple[AgentClient | None, dict[str, Any], BaseException | None]:
        """One connection and hello: (client, reply, None) or (None, {}, why not)."""
        from agentshell.coordinator.wire import MAX_FRAME

        sock = await dial(path, backoff)
        try:
            reader, writer = await asyncio.open_unix_connection(sock=sock, limit=MAX_FRAME + 8)
        except OSError as exc:
            sock.close()
            return None, {}, exc
        c = cls(reader, writer)
        try:
            reply = await c.request("hello", **hello)
        except BaseException as exc:
            await c.close()
            if isinstance(exc, Exception):
                return None, {}, exc
            raise
        return c, reply, None

    def _said_hello(self, hello: dict[str, Any]) -> None:
        c = self
        c.role = hello.get("role", "")
        c.agent_id = hello.get("agent", "human")
        c.session = hello.get("session", "")
        c.permissions = tuple(hello.get("permissions", ()))
        c.capabilities = tuple(hello.get("capabilities", ()))
        c.clock = merge(c.clock, hello.get("clock") or {})

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reconnecting
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()
        self._reader_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader_task
        self._fail_all(ConnectionLost("client closed"))

    async def __aenter__(self) -> AgentClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ----------------------------------------------------------------- framing

    def _fail_all(self, exc: Exception) -> None:
        for f in self._pending.values():
            if not f.done():
                f.set_exception(exc)
                # its request() raises it when it awaits; should none await it (a
                # caller gone another way), asyncio must not log "Future exception
                # was never retrieved" at garbage collection
                f.exception()
        self._pending.clear()
        for d in self._docs.values():
            d._lost(exc)
        self._docs.clear()
        if self._closed or not self.reconnect_for or self._path is None:
            self._end(exc)
        elif self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.ensure_future(self._reconnect(exc))

    def _end(self, exc: Exception) -> None:
        """No connection any more, none coming: subscriptions end."""
        if self._gone is None:
            self._gone = exc
        for q in self._subs:
            q.put_nowait(None)

    async def _reconnect(self, lost: Exception) -> None:
        """Dial again, say hello again, subscribe again; or give up at the deadline."""
        assert self._path is not None
        backoff = Backoff(self.reconnect_for)
        from agentshell.coordinator.wire import MAX_FRAME

        while not self._closed:
            exc: BaseException
            try:
                sock = await dial(self._path, backoff)
                self._reader, self._writer = await asyncio.open_unix_connection(
                    sock=sock, limit=MAX_FRAME + 8
                )
                self._reader_task = asyncio.ensure_future(self._read_loop())
                reply = await self._send("hello", self._hello)
                self._said_hello(reply)
                self.reconnects += 1
                if self._subscribed is not False:
                    await self._send("subscribe", {"types": self._subscribed})
                return
            except ServerUnreachable as e:
                exc = e.cause or e
            except Exception as e:
                exc = e
                with contextlib.suppress(Exception):
                    self._writer.close()
            if not _transient(exc) or not await backoff.wait():
                where = why_not(self._path, exc) if _transient(exc) else str(exc)
                self._end(
                    ConnectionLost(
                        f"{lost}; could not reconnect within {self.reconnect_for:g} s: {where}"
                    )
                )
                return

    async def connected(self) -> None:
        """Return once connected (at once, or after a reconnect); raise ConnectionLost
        when the client is closed or gave up reconnecting."""
        while True:
            if self._closed:
                raise ConnectionLost("client closed")
            if self._gone is not None:
                raise ConnectionLost(str(self._gone))
            task = self._reconnecting
            if task is None or task.done():
                return
            await asyncio.shield(task)

    async def _read_loop(self) -> None:
        try:
            while True:
                msg = await read_frame(self._reader)
                push = msg.get("push")
                if push is not None:
                    self._on_push(push, msg)
                    continue
                rid = msg.get("id")
                fut = self._pending.pop(rid, None) if isinstance(rid, int) else None
                if fut is None:
                    # an error about a frame we could not be matched to (bad frame)
                    if msg.get("ok") is False:
                        self.push_errors.append(msg.get("error") or {})
                    continue
                if not fut.done():
                    fut.set_result(msg)
        except asyncio.IncompleteReadError:
            self._fail_all(ConnectionLost("the server closed the connection (it stopped?)"))
        except (ConnectionError, OSError) as exc:
            self._fail_all(ConnectionLost(f"connection to the server lost: {exc}"))
        except AgentShellError as exc:
            self._fail_all(ConnectionLost(f"bad frame from the server: {exc}"))

    def _on_push(self, kind: Any, msg: dict[str, Any]) -> None:
        if kind == "event":
            try:
                e = event_from_record(msg["event"])
            except Exception:
                return
            if e.clock:
                cur = self.clock
                for k, v in e.clock.items():  # merge in place: this runs per event
                    if v > cur.get(k, 0):
                        cur[k] = v
            if e.event_type == "doc_op":
                doc = self._docs.get(getattr(e, "doc", ""))
                if doc is not None:
                    doc._on_event(e)
            for q in self._subs:
                q.put_nowait(e)
        elif kind == "error":
            self.push_errors.append(msg.get("error") or {})

    async def request(self, op: str, /, **fields: Any) -> dict[str, Any]:
        """Send ``{id, op, **fields}`` and return the reply; error frames raise.

        While a lost connection is being dialled again, waits for it (ConnectionLost
        when that gives up). A request cut off by a lost connection raises
        ConnectionLost: whether it took effect is not known (``run``, ``propose``
        and ``result`` know how to go on; see the module doc)."""
        await self.connected()
        return await self._send(op, fields)

    async def _send(self, op: str, fields: dict[str, Any]) -> dict[str, Any]:
        rid = next(self._ids)
        body = {k: v for k, v in fields.items() if v is not None}
        body["id"] = rid
        body["op"] = op
        # encoded before the reply's future exists: a frame that cannot be sent
        # (FrameTooLarge, a value msgpack cannot pack) raises here and leaves no
        # future behind for _fail_all to fail with nobody awaiting it
        frame = encode(body)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        try:
            self._writer.write(frame)
            reply = await fut
        finally:
            self._pending.pop(rid, None)
        if not reply.get("ok"):
            raise error_from_frame(reply.get("error"))
        if isinstance(reply.get("clock"), dict):
            self.clock = merge(self.clock, reply["clock"])
        return reply

    # ---------------------------------------------------------------- commands

    async def ping(self) -> bool:
        return bool((await self.request("ping")).get("pong"))

    async def run(
        self, command: str, terminal: str = "main", timeout: float | None = None, **fields: Any
    ) -> RunResult:
        """Propose ``command``; return its result once approved and executed.

        Raises CommandRejected (``.reason``), CommandExpired (no decision within
        ``timeout`` seconds), CommandFailed or CommandInterrupted. Rides out lost
        connections (see the module doc). Cancelled (the caller gave up), it
        withdraws the approval: nobody will be waiting for it."""
        aid = uuid.uuid4().hex[:16]
        try:
            await self._propose(command, terminal, timeout, fields, aid)
            return await self.result(aid)
        except asyncio.CancelledError:  # (also while proposing: the id is ours)
            self._withdraw_soon(aid, "its agent stopped waiting (cancelled)")
            raise

    async def propose(
        self, command: str, terminal: str = "main", timeout: float | None = None, **fields: Any
    ) -> str:
        """Queue ``command`` without waiting; returns the approval id (see :meth:`result`)."""
        return await self._propose(command, terminal, timeout, fields, uuid.uuid4().hex[:16])

    async def _propose(
        self,
        command: str,
        terminal: str,
        timeout: float | None,
        fields: dict[str, Any],
        aid: str,
    ) -> str:
        """``propose`` with an id chosen here: sent again after a lost connection (as
        ``resent``), the server queues it once."""
        resent = False
        while True:
            try:
                r = await self.request(
                    "propose",
                    command=command,
                    terminal=terminal,
                    timeout=timeout,
                    approval_id=aid,
                    resent=resent or None,
                    **fields,
                )
            except ConnectionLost:
                if not self._may_resume():
                    raise
                resent = True
                continue
            return str(r["approval_id"])

    async def result(self, approval_id: str) -> RunResult:
        """Wait for ``approval_id``'s result, asking again after a lost connection."""
        while True:
            try:
                return _result(await self.request("result", approval_id=approval_id))
            except ConnectionLost:
                if not self._may_resume():
                    raise

    def _may_resume(self) -> bool:
        """After a lost connection: is one coming back (else the loss is final)?"""
        return bool(self.reconnect_for) and not self._closed and self._gone is None

    async def withdraw(self, approval_id: str, reason: str = "") -> bool:
        """Tell the server this agent no longer waits for ``approval_id`` (logged; it
        stays queued, marked, and no rule runs it). False when already decided."""
        r = await self.request("withdraw", approval_id=approval_id, reason=reason)
        return bool(r.get("withdrawn"))

    def _withdraw_soon(self, approval_id: str, reason: str) -> None:
        """Send a withdraw without waiting for its reply (the caller is going away)."""
        if self._closed or self._gone is not None:
            return
        if self._reconnecting is not None and not self._reconnecting.done():
            return  # no connection: the server's grace period does it
        rid = next(self._ids)
        with contextlib.suppress(Exception):
            self._writer.write(
                encode({"id": rid, "op": "withdraw", "approval_id": approval_id, "reason": reason})
            )

    async def screen(self, terminal: str = "main") -> Screen:
        r = await self.request("screen", terminal=terminal)
        cur = r.get("cursor")
        return Screen(
            terminal=r["terminal"],
            lines=tuple(r["lines"]),
            cursor=(int(cur[0]), int(cur[1])) if cur else None,
            title=r.get("title", ""),
            at_prompt=bool(r.get("at_prompt")),
            cwd=r.get("cwd", ""),
        )

    async def subscribe(self, types: Iterable[str] | None = None) -> AsyncIterator[Event]:
        """Start receiving events (all, or only ``types``); iterate the result."""
        q: asyncio.Queue[Event | None] = asyncio.Queue()
        self._subs.append(q)
        wanted = list(types) if types is not None else None
        await self.request("subscribe", types=wanted)
        self._subscribed = wanted
        return self._iterate(q)

    async def _iterate(self, q: asyncio.Queue[Event | None]) -> AsyncIterator[Event]:
        try:
            while True:
                e = await q.get()
                if e is None:
                    return
                yield e
        finally:
            with contextlib.suppress(ValueError):
                self._subs.remove(q)

    # --------------------------------------------------------- edits, documents

    async def report_edit(self, path: str, old: str, new: str) -> dict[str, Any]:
        """Report an edit of ``path``; the reply lists the conflicts it made."""
        return await self.request("report_edit", path=path, old=old, new=new, clock=self.clock)

    async def check_edit(self, path: str, ranges: Iterable[Iterable[int]]) -> list[dict[str, Any]]:
        """The edits in flight that an edit of these line ranges would conflict with."""
        r = await self.request(
            "check_edit", path=path, ranges=[list(x) for x in ranges], clock=self.clock
        )
        conflicts: list[dict[str, Any]] = r["conflicts"]
        return conflicts

    async def draft(self, terminal: str = "main") -> SharedDoc:
        """The shared command draft of ``terminal`` (an OT document)."""
        return await self.doc(f"draft:{terminal}")

    async def doc(self, name: str) -> SharedDoc:
        d = self._docs.get(name)
        if d is not None:
            return d
        r = await self.request("doc_open", doc=name)
        d = SharedDoc(self, name, r["text"], int(r["revision"]))
        self._docs[name] = d
        return d

    async def submit_draft(self, terminal: str = "main", timeout: float | None = None) -> str:
        """Queue the draft's text as a command (the draft is cleared); the approval id."""
        d = self._docs.get(f"draft:{terminal}")
        if d is not None:
            await d.sync()
        r = await self.request("draft_submit", terminal=terminal, timeout=timeout)
        return str(r["approval_id"])

    # ------------------------------------------------------------------ tasks

    async def tasks(self) -> list[dict[str, Any]]:
        return list((await self.request("tasks"))["tasks"])

    async def create_task(self, description: str) -> dict[str, Any]:
        return dict((await self.request("task_create", description=description))["task"])

    async def claim_task(self, task_id: str) -> dict[str, Any]:
        return dict((await self.request("task_claim", task_id=task_id))["task"])

    async def update_task(
        self, task_id: str, status: str, note: str = "", assignee: str | None = None
    ) -> dict[str, Any]:
        r = await self.request(
            "task_update", task_id=task_id, status=status, note=note, assignee=assignee
        )
        return dict(r["task"])

    # --------------------------------------------------------------- operator

    async def approvals(self) -> list[dict[str, Any]]:
        return list((await self.request("approvals"))["approvals"])

    async def approve(
        self, approval_id: str, command: str | None = None, revision: int | None = None
    ) -> None:
        await self.request("approve", approval_id=approval_id, command=command, revision=revision)

    async def reject(self, approval_id: str, reason: str = "") -> None:
        await self.request("reject", approval_id=approval_id, reason=reason)

    async def approve_similar(
        self,
        approval_id: str,
        kind: str | None = None,
        pattern: str | None = None,
        scope: str = "session",
        scope_value: str = "",
    ) -> str:
        r = await self.request(
            "approve_similar",
            approval_id=approval_id,
            kind=kind,
            pattern=pattern,
            scope=scope,
            scope_value=scope_value,
        )
        return str(r["rule_id"])

    async def rules(self) -> list[dict[str, Any]]:
        return list((await self.request("rules"))["rules"])

    async def add_rule(
        self, action: str, kind: str, pattern: str, scope: str = "session", scope_value: str = ""
    ) -> str:
        r = await self.request(
            "rule_add",
            action=action,
            kind=kind,
            pattern=pattern,
            scope=scope,
            scope_value=scope_value,
        )
        return str(r["rule_id"])

    async def revoke_rule(self, rule_id: str) -> None:
        await self.request("rule_revoke", rule_id=rule_id)

    async def agents(self) -> list[dict[str, Any]]:
        return list((await self.request("agents"))["agents"])

    async def add_agent(self, agent_id: str, capabilities: Iterable[str]) -> str:
        r = await self.request("agent_add", agent=agent_id, capabilities=list(capabilities))
        return str(r["token"])

    async def remove_agent(self, agent_id: str) -> None:
        await self.request("agent_remove", agent=agent_id)


class SharedDoc:
    """A local copy of a shared OT document (a terminal's draft, a pending command).

    ``insert``/``delete`` apply at once and are sent in the background (one op in
    flight, later ones composed); incoming ops are transformed against the pending
    local ones. Server revisions are applied strictly in order, whether they arrive
    as the reply to our op (an ack) or as pushed events.
    """

    def __init__(self, client: AgentClient, name: str, text: str, revision: int) -> None:
        self.client = client
        self.name = name
        # a random seq base: resends are deduplicated per (agent, seq), and one agent
        # may have several connections
        self._ot = ot.OTClientDoc(text, revision, next_seq=secrets.randbelow(1 << 40) + 1)
        self._sent: set[int] = set()
        self._later: dict[int, tuple[str, ot.Op]] = {}
        self._changed = asyncio.Event()
        self._error: Exception | None = None
        self._senders: set[asyncio.Task[Any]] = set()

    @property
    def text(self) -> str:
        return self._ot.text

    @property
    def revision(self) -> int:
        return self._ot.revision

    def insert(self, pos: int, text: str) -> None:
        self._local(self._ot.insert(pos, text))

    def delete(self, pos: int, length: int) -> None:
        self._local(self._ot.delete(pos, length))

    def replace(self, text: str) -> None:
        """Replace the whole text (one op)."""
        self._local(self._ot.local(ot.replace_op(self._ot.text, text)))

    def _local(self, op: ot.Op | None) -> None:
        self._check()
        if op is not None:
            self._send(op)

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def _send(self, op: ot.Op) -> None:
        seq = self._ot.inflight_seq
        self._sent.add(seq)
        base = self._ot.revision
        task = asyncio.ensure_future(self._send_task(op, seq, base))
        self._senders.add(task)
        task.add_done_callback(self._senders.discard)

    async def _send_task(self, op: ot.Op, seq: int, base: int) -> None:
        try:
            r = await self.client.request(
                "doc_op",
                doc=self.name,
                revision=base,
                delta=ot.to_wire(op),
                seq=seq,
                clock=self.client.clock,
            )
        except Exception as exc:
            self._lost(exc)
            return
        self._arrive(int(r["revision"]), "ack", ())

    def _on_event(self, e: Any) -> None:
        own = e.agent_id == self.client.agent_id and e.client_seq in self._sent
        self._arrive(int(e.revision), "ack" if own else "remote", ot.from_wire(e.op))

    def _arrive(self, revision: int, kind: str, op: ot.Op) -> None:
        if revision <= self._ot.revision or self._error is not None:
            return
        if kind == "ack" and revision in self._later:
            self._later[revision] = ("ack", ())
        else:
            self._later.setdefault(revision, (kind, op))
        try:
            while self._ot.revision + 1 in self._later:
                k, o = self._later.pop(self._ot.revision + 1)
                if k == "ack":
                    nxt = self._ot.ack()
                    if nxt is not None:
                        self._send(nxt)
                else:
                    self._ot.remote(o)
        except ot.OTError as exc:
            self._lost(exc)
        self._changed.set()

    def _lost(self, exc: Exception) -> None:
        if self._error is None:
            self._error = exc
        self._changed.set()

    async def _acked(self) -> None:
        while self._ot.inflight is not None:
            self._check()
            self._changed.clear()
            await self._changed.wait()

    async def acked(self, timeout: float | None = 10.0) -> None:
        """Return when every local op is acknowledged (no request of its own)."""
        await asyncio.wait_for(self._acked(), timeout)

    async def sync(self, timeout: float | None = 10.0) -> None:
        """Return when every local op is acknowledged and every op the server had
        applied at call time is applied here."""

        async def wait() -> None:
            await self._acked()
            r = await self.client.request("doc_open", doc=self.name)
            target = int(r["revision"])
            while self._ot.revision < target or self._ot.inflight is not None:
                self._check()
                self._changed.clear()
                await self._changed.wait()
            self._check()

        await asyncio.wait_for(wait(), timeout)


def read_operator_token(socket_path: str | os.PathLike[str]) -> str:
    """The operator token: ``$AGENTSHELL_OPERATOR_TOKEN`` or the 0600 file beside the socket."""
    env = os.environ.get("AGENTSHELL_OPERATOR_TOKEN")
    if env:
        return env
    from agentshell.coordinator.wire import operator_token_path, read_private_file

    return read_private_file(operator_token_path(Path(socket_path)))
