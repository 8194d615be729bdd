"""What every vendor's installer shares: the marker of our hook commands, the report
of a change, the one error, and the file handling (a backup of the user's original
once, then an atomic write)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentshell.core.errors import AgentShellError

#: The part of a hook command that says it is ours (uninstall removes only those).
MARKER = "agentshell.bridges.hooks"


class InstallError(AgentShellError):
    """A config file that cannot be read, merged or written (the reason says which)."""


@dataclass
class Report:
    vendor: str
    path: Path
    changed: bool = False
    backup: Path | None = None
    entries: list[str] = field(default_factory=list)  # "Event[matcher]" installed / found
    notes: list[str] = field(default_factory=list)


def is_ours(command: Any) -> bool:
    return isinstance(command, str) and (MARKER in command or " agentshell hook " in f" {command} ")


def backup(path: Path) -> Path | None:
    """Copy the file as it was, once (the first change keeps the user's original)."""
    if not path.exists():
        return None
    bak = path.with_name(path.name + ".agentshell-backup")
    if not bak.exists():
        shutil.copy2(path, bak)
    return bak


def write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".agentshell-tmp")
        tmp.write_text(text, encoding="utf-8")
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise InstallError(f"cannot write {path}: {exc.strerror or exc}") from None
