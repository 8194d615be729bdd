"""The writing half of a log backend, as :class:`~agentshell.store.session.SessionManager`
drives it (see :mod:`agentshell.store.backend` for the seam as a whole)."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol


class LogWriter(Protocol):
    """The writing half of a backend, as :class:`SessionManager` drives it.

    Bodies arrive in sequence order (the session assigns seqs under its lock). An
    append is acknowledged only when its record is durable: fdatasync'd (file), or
    acknowledged by JetStream running with ``sync_interval: always``. After a write
    failure the writer is failed for good (``failed``); reopen the session.
    """

    failed_at: float | None

    @property
    def failed(self) -> BaseException | None: ...

    def append(self, body: bytes | None, *, unlock: Any = None) -> None: ...

    def enqueue_async(
        self, body: bytes, loop: asyncio.AbstractEventLoop, result: Any = None
    ) -> asyncio.Future[Any]: ...

    def append_buffered(self, body: bytes) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...
