"""One writer per session across processes: an exclusive ``flock`` on ``{session}/lock``.

Only one process may append to a session's log (two would hand out the same
sequence numbers and interleave rounds). :class:`SessionManager` takes this lock when
it opens a session, before recovery (which may cut a torn tail), and holds it until
it closes; ``agentshell repair`` takes it before cutting. Readers (``log``,
``check``, ``replay``) need no lock: the log only grows, whole frames at a time.

The kernel drops a ``flock`` when its process dies, however it dies, so a crash
never leaves a session locked. The file holds the holder's pid, for the message
only; it is never deleted (deleting a lock file races with the next opener).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from agentshell.core.errors import SessionLockedError

LOCK_NAME = "lock"


class SessionLock:
    """The held lock of one session directory (see the module docstring)."""

    def __init__(self, session_dir: Path) -> None:
        self.path = Path(session_dir) / LOCK_NAME
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise SessionLockedError(
                f"session {session_dir.name!r} ({session_dir}) is open in {who}"
                " (an `agentshell serve` or `agentshell tui`): only one process writes a"
                " session; stop it, or reach it through its socket (--socket)",
                holder,
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        """Let the next process open the session (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the last descriptor drops the flock

    def __enter__(self) -> SessionLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip() or "0") or None
    return None
