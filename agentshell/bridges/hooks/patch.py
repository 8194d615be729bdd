"""Codex's ``apply_patch`` format, read as far as supervision needs: which files, and
for each hunk the old lines it expects (to find the lines it touches)::

    *** Begin Patch
    *** Update File: src/app.py
    @@ def main():
     context
    -removed
    +added
    *** Add File: new.txt
    +a line
    *** Delete File: old.txt
    *** End Patch
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import HookInputError


@dataclass(frozen=True, slots=True)
class PatchFile:
    path: str
    hunks: tuple[tuple[str, ...], ...] = ()
    content: str | None = None  # an added file's text
    created: bool = False
    deleted: bool = False


_HEADS = ("*** Update File: ", "*** Add File: ", "*** Delete File: ")


def parse_patch(text: str) -> list[PatchFile]:
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines or lines[0].strip() != "*** Begin Patch":
        raise HookInputError("an apply_patch patch must start with '*** Begin Patch'")
    files: list[PatchFile] = []
    i = 1
    while i < len(lines):
        line = lines[i]
        if line.strip() == "*** End Patch":
            break
        head = next((h for h in _HEADS if line.startswith(h)), None)
        if head is None:
            raise HookInputError(f"unexpected line in an apply_patch patch: {line[:80]!r}")
        path = line[len(head) :].strip()
        if not path:
            raise HookInputError("an apply_patch file header names no file")
        i += 1
        body: list[str] = []
        while i < len(lines) and not lines[i].startswith("*** "):
            body.append(lines[i])
            i += 1
        if i < len(lines) and lines[i].startswith("*** Move to: "):
            i += 1  # a rename: the old path's lines are what it touches
            while i < len(lines) and not lines[i].startswith("*** "):
                body.append(lines[i])
                i += 1
        if head.startswith("*** Add"):
            content = "".join(b[1:] + "\n" for b in body if b.startswith("+"))
            files.append(PatchFile(path, content=content, created=True))
        elif head.startswith("*** Delete"):
            files.append(PatchFile(path, deleted=True))
        else:
            files.append(PatchFile(path, hunks=_hunks(body)))
    return files


def _hunks(body: list[str]) -> tuple[tuple[str, ...], ...]:
    hunks: list[tuple[str, ...]] = []
    cur: list[str] = []
    for b in body:
        if b.startswith("@@"):
            if cur:
                hunks.append(tuple(cur))
            cur = []
        elif b.startswith((" ", "-")):
            cur.append(b[1:])
        elif b == "":
            cur.append("")
        elif b.startswith("*** End of File"):
            continue
    if cur:
        hunks.append(tuple(cur))
    return tuple(hunks)
