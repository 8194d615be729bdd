"""The lines an edit touches in the file as it is now, and the old contents of the
files a tool changes, kept from before the tool ran to after it (for vendors whose
after-hook does not carry them: Codex's apply_patch)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

from .model import FileChange

#: Kept old contents older than this are removed (a tool whose after-hook never came).
STASH_MAX_AGE = 24 * 3600.0
#: Files larger than this are not sent whole to the coordinator (frames are <= 1 MiB).
MAX_REPORTED = 400_000


def read_text(path: str) -> str | None:
    """The file's text (None when it does not exist or is not text)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_REPORTED + 1)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    except OSError:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _whole(text: str | None) -> list[list[int]]:
    n = text.count("\n") + (0 if not text or text.endswith("\n") else 1) if text else 0
    return [[0, max(1, n)]]


def touched_ranges(change: FileChange, text: str | None) -> list[list[int]]:
    """``[start, end)`` 0-based line ranges of ``text`` (the file now) that ``change``
    rewrites; the whole file when it cannot be told (a write, a hunk not found)."""
    if text is None or change.created or change.deleted:
        return _whole(text)
    if change.old is not None:
        if not change.old:
            return _whole(text)
        out: list[list[int]] = []
        at = text.find(change.old)
        while at >= 0:
            start = text.count("\n", 0, at)
            out.append([start, start + change.old.count("\n") + 1])
            if not change.replace_all:
                break
            at = text.find(change.old, at + len(change.old))
        return out or _whole(text)
    if change.hunks:
        lines = text.splitlines()
        out = []
        pos = 0
        for hunk in change.hunks:
            found = _find(lines, list(hunk), pos)
            if found is None:
                return _whole(text)
            out.append([found, found + len(hunk)])
            pos = found + len(hunk)
        return out
    return _whole(text)


def _find(lines: list[str], seq: list[str], start: int) -> int | None:
    k = len(seq)
    for i in range(start, len(lines) - k + 1):
        if lines[i : i + k] == seq:
            return i
    stripped = [s.rstrip() for s in seq]  # apply_patch itself forgives trailing blanks
    for i in range(start, len(lines) - k + 1):
        if [x.rstrip() for x in lines[i : i + k]] == stripped:
            return i
    return None


# ----------------------------------------------------------------- old contents


def stash_dir(socket_path: Path) -> Path:
    """Beside the socket: in the user's private (0700) runtime directory."""
    return socket_path.parent / "hook-edits"


def _key(agent: str, call_key: str) -> str:
    return f"{agent}-{hashlib.sha256(call_key.encode()).hexdigest()[:20]}.json"


def stash(directory: Path, agent: str, call_key: str, contents: dict[str, str | None]) -> None:
    """Keep ``contents`` (path -> text, None: no such file) for :func:`unstash`."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(directory, 0o700)
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > STASH_MAX_AGE:
                    os.unlink(entry.path)
    path = directory / _key(agent, call_key)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(contents, f)
    os.replace(tmp, path)


def unstash(directory: Path, agent: str, call_key: str) -> dict[str, str | None] | None:
    path = directory / _key(agent, call_key)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    with contextlib.suppress(OSError):
        os.unlink(path)
    if not isinstance(data, dict):
        return None
    return {str(k): v if isinstance(v, str) else None for k, v in data.items()}
