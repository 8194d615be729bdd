"""The lines an edit touches in the file as it is now."""

from __future__ import annotations

from .model import FileChange

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
