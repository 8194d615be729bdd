"""``SyncAgentClient``: the blocking face of :class:`AgentClient` for scripts.

It runs an event loop in a private daemon thread; every method blocks until the
async call returns (same arguments, same results and exceptions)::

    with SyncAgentClient.connect(sock, "bot", token) as c:
        print(c.run("make test").exit_code)
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from agentshell.coordinator.results import RunResult

from .client import RECONNECT_FOR, RETRY_FOR, AgentClient, Screen

T = TypeVar("T")


class SyncAgentClient:
    def __init__(
        self, loop: asyncio.AbstractEventLoop, thread: threading.Thread, client: AgentClient
    ):
        self._loop = loop
        self._thread = thread
        self.client = client

    @classmethod
    def connect(
        cls,
        socket_path: str | os.PathLike[str],
        agent_id: str | None = None,
        token: str | None = None,
        *,
        operator: bool = False,
        timeout: float | None = None,
        retry_for: float = RETRY_FOR,
        reconnect_for: float = RECONNECT_FOR,
    ) -> SyncAgentClient:
        """Connect (see :meth:`AgentClient.connect`); ``timeout`` bounds the whole
        connect (None: ``retry_for`` plus a margin)."""
        if timeout is None:
            timeout = retry_for + 30.0

        async def open_() -> AgentClient:
            c: AgentClient = await AgentClient.connect(
                socket_path,
                agent_id,
                token,
                operator=operator,
                retry_for=retry_for,
                reconnect_for=reconnect_for,
            )
            return c

        return cls._open(open_, timeout)

    @classmethod
    def connect_nats(
        cls,
        url: str,
        session: str,
        agent_id: str | None = None,
        token: str | None = None,
        *,
        operator: bool = False,
        timeout: float = 30.0,
        reconnect_for: float = RECONNECT_FOR,
    ) -> SyncAgentClient:
        """Connect to ``session``'s coordinator through NATS (``agentshell cluster
        serve``; see :func:`agentshell.client.nats_connect.connect_nats`), with the same
        API as a Unix-socket client."""

        async def open_() -> AgentClient:
            from agentshell.client.nats_connect import connect_nats

            c: AgentClient = await connect_nats(
                url, session, agent_id, token, operator=operator, reconnect_for=reconnect_for
            )
            return c

        return cls._open(open_, timeout)

    @classmethod
    def _open(
        cls, open_: Callable[[], Coroutine[Any, Any, AgentClient]], timeout: float
    ) -> SyncAgentClient:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="agentshell-client", daemon=True)
        thread.start()
        try:
            client = asyncio.run_coroutine_threadsafe(open_(), loop).result(timeout)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()
            raise
        return cls(loop, thread, client)

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def request(self, op: str, /, **fields: Any) -> dict[str, Any]:
        return self._call(self.client.request(op, **fields))

    def run(self, command: str, terminal: str = "main", timeout: float | None = None) -> RunResult:
        return self._call(self.client.run(command, terminal, timeout))

    def propose(self, command: str, terminal: str = "main", timeout: float | None = None) -> str:
        return self._call(self.client.propose(command, terminal, timeout))

    def result(self, approval_id: str) -> RunResult:
        return self._call(self.client.result(approval_id))

    def withdraw(self, approval_id: str, reason: str = "") -> bool:
        return self._call(self.client.withdraw(approval_id, reason))

    def screen(self, terminal: str = "main") -> Screen:
        return self._call(self.client.screen(terminal))

    def report_edit(self, path: str, old: str, new: str) -> dict[str, Any]:
        return self._call(self.client.report_edit(path, old, new))

    def check_edit(self, path: str, ranges: list[list[int]]) -> list[dict[str, Any]]:
        return self._call(self.client.check_edit(path, ranges))

    def tasks(self) -> list[dict[str, Any]]:
        return self._call(self.client.tasks())

    def approvals(self) -> list[dict[str, Any]]:
        return self._call(self.client.approvals())

    def approve(self, approval_id: str, command: str | None = None) -> None:
        self._call(self.client.approve(approval_id, command))

    def reject(self, approval_id: str, reason: str = "") -> None:
        self._call(self.client.reject(approval_id, reason))

    def close(self) -> None:
        try:
            self._call(self.client.close(), 10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()

    def __enter__(self) -> SyncAgentClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
