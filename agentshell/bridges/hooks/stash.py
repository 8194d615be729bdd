"""What one hook call leaves for the next of the same tool call: the old contents of
the files a tool changes (for vendors whose after-hook does not carry them: Codex's
apply_patch) and the approval a shell command ran under. Kept in a private directory
beside the socket (the user's 0700 runtime directory), one 0600 file per tool call.

Standard library only, and little of it: this is on the hook's fast path.
"""

from __future__ import annotations

import os
import time
import zlib

from . import lean

#: Files older than this are removed (a tool whose after-hook never came).
MAX_AGE = 24 * 3600.0


def stash_dir(socket_path: str) -> str:
    return os.path.join(os.path.dirname(socket_path), "hook-edits")


def _path(directory: str, agent: str, call_key: str) -> str:
    return os.path.join(directory, f"{agent}-{zlib.crc32(call_key.encode()):08x}.json")


def stash(directory: str, agent: str, call_key: str, contents: dict[str, str | None]) -> None:
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    now = time.time()
    try:
        for entry in os.scandir(directory):
            try:
                if now - entry.stat().st_mtime > MAX_AGE:
                    os.unlink(entry.path)
            except OSError:
                pass
    except OSError:
        pass
    path = _path(directory, agent, call_key)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(lean.dumps({"key": call_key, "contents": contents}).encode())
    os.replace(tmp, path)


def unstash(directory: str, agent: str, call_key: str) -> dict[str, str | None] | None:
    """What :func:`stash` kept for this call (then removed), or None."""
    path = _path(directory, agent, call_key)
    try:
        with open(path, "rb") as f:
            data = lean.loads(f.read().decode("utf-8"))
    except (OSError, ValueError):
        return None
    try:
        os.unlink(path)
    except OSError:
        pass
    if not isinstance(data, dict) or data.get("key") != call_key:
        return None  # another call's (a checksum collision): not ours
    kept = data.get("contents")
    if not isinstance(kept, dict):
        return None
    return {str(k): v if isinstance(v, str) else None for k, v in kept.items()}
