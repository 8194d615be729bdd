"""What ``agentshell hooks`` writes where, per vendor, and the merge rules."""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .common import InstallError, Report, backup, is_ours, write

VENDORS = ("claude", "codex", "gemini")
MODES = ("permission", "pretooluse")
#: Default hook timeouts we install (seconds): long enough for a human to decide.
DEFAULT_TIMEOUT = {"claude": 600, "codex": 600, "gemini": 600}

CLAUDE_EDITS = "Edit|Write|MultiEdit|NotebookEdit"
CODEX_EDITS = "apply_patch"
GEMINI_TOOLS = "run_shell_command|replace|write_file"


def config_path(vendor: str, project: Path | None) -> Path:
    """The vendor's settings file: the project's (``project`` given) or the user's."""
    if vendor == "claude":
        if project is not None:
            return project / ".claude" / "settings.json"
        base = os.environ.get("CLAUDE_CONFIG_DIR")
        return (Path(base) if base else Path.home() / ".claude") / "settings.json"
    if vendor == "codex":
        if project is not None:
            return project / ".codex" / "config.toml"
        base = os.environ.get("CODEX_HOME")
        return (Path(base) if base else Path.home() / ".codex") / "config.toml"
    if vendor == "gemini":
        if project is not None:
            return project / ".gemini" / "settings.json"
        return Path.home() / ".gemini" / "settings.json"
    raise InstallError(f"unknown vendor {vendor!r} (one of {', '.join(VENDORS)})")


def events_for(vendor: str, mode: str) -> list[tuple[str, str]]:
    """``(event, matcher)`` pairs to install."""
    if mode not in MODES:
        raise InstallError(f"--mode must be one of {', '.join(MODES)}")
    if vendor == "claude":
        tools = f"Bash|{CLAUDE_EDITS}"
        before = (
            [("PermissionRequest", "Bash"), ("PreToolUse", CLAUDE_EDITS)]
            if mode == "permission"
            else [("PreToolUse", tools)]
        )
        return [*before, ("PostToolUse", tools), ("PostToolUseFailure", "Bash")]
    if vendor == "codex":
        tools = f"Bash|{CODEX_EDITS}"
        before = (
            [("PermissionRequest", "Bash"), ("PreToolUse", CODEX_EDITS)]
            if mode == "permission"
            else [("PreToolUse", tools)]
        )
        return [*before, ("PostToolUse", tools)]
    if mode == "permission":
        raise InstallError(
            "Gemini CLI has no PermissionRequest event: use --mode pretooluse (the default"
            " for gemini), which hooks BeforeTool"
        )
    return [("BeforeTool", GEMINI_TOOLS), ("AfterTool", GEMINI_TOOLS)]


def default_mode(vendor: str) -> str:
    return "pretooluse" if vendor == "gemini" else "permission"


def hook_command(
    vendor: str,
    event: str,
    timeout: float,
    socket: Path | None = None,
    session: str | None = None,
    python: str | None = None,
    data_dir: Path | None = None,
) -> str:
    """The shell command the vendor runs: this interpreter with the lean hook entry
    (the vendor's PATH may not hold our ``agentshell``; ``-c``, not ``-m``, which
    starts slower)."""
    from agentshell.bridges.hooks.entry import RUN_CODE

    parts = [python or sys.executable, "-c", RUN_CODE, "--vendor", vendor, "--event", event]
    parts += ["--timeout", f"{timeout:g}"]
    if socket is not None:
        parts += ["--socket", str(socket)]
    elif session is not None:
        parts += ["--session", session]
        if data_dir is not None:
            parts += ["--dir", str(data_dir)]
    return shlex.join(parts)


# --------------------------------------------------------------------- files


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(f"cannot read {path}: {exc}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InstallError(f"{path} is not valid JSON ({exc}); fix or move it first") from None
    if not isinstance(data, dict):
        raise InstallError(f"{path} must hold a JSON object")
    return data


# ------------------------------------------------------- JSON (Claude Code, Gemini CLI)


def _json_groups(data: dict[str, Any], path: Path, event: str) -> list[Any]:
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise InstallError(f"{path}: 'hooks' must be an object")
    groups = hooks.setdefault(event, [])
    if not isinstance(groups, list):
        raise InstallError(f"{path}: 'hooks.{event}' must be a list")
    return groups


def _strip_ours_json(data: dict[str, Any]) -> bool:
    """Remove our handlers (and groups / events left empty); whether anything went."""
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return False
    removed = False
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        for g in groups:
            if isinstance(g, dict) and isinstance(g.get("hooks"), list):
                handlers = [
                    h for h in g["hooks"] if not (isinstance(h, dict) and is_ours(h.get("command")))
                ]
                if len(handlers) != len(g["hooks"]):
                    removed = True
                    if not handlers:
                        continue
                    g = {**g, "hooks": handlers}
            kept_groups.append(g)
        if kept_groups:
            hooks[event] = kept_groups
        else:
            del hooks[event]
    if not hooks and removed:
        del data["hooks"]
    return removed


def _ours_json(data: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    hooks = data.get("hooks")
    if isinstance(hooks, dict):
        for event, groups in hooks.items():
            for g in groups if isinstance(groups, list) else []:
                if isinstance(g, dict) and isinstance(g.get("hooks"), list):
                    for h in g["hooks"]:
                        if isinstance(h, dict) and is_ours(h.get("command")):
                            out.append((event, str(g.get("matcher", "")), h))
    return out


def _install_json(vendor: str, path: Path, wanted: list[tuple[str, str, str, float]]) -> Report:
    data = _read_json(path)
    before = json.dumps(data, sort_keys=True)
    _strip_ours_json(data)
    for event, matcher, command, timeout in wanted:
        handler: dict[str, Any] = {"type": "command", "command": command}
        if vendor == "gemini":
            handler = {"name": "agentshell", **handler, "timeout": int(timeout * 1000)}
        else:
            handler["timeout"] = int(timeout)
        _json_groups(data, path, event).append({"matcher": matcher, "hooks": [handler]})
    rep = Report(vendor, path, entries=[f"{e}[{m}]" for e, m, _, _ in wanted])
    if json.dumps(data, sort_keys=True) != before:
        rep.backup = backup(path)
        write(path, json.dumps(data, indent=2) + "\n")
        rep.changed = True
    return rep


def _uninstall_json(vendor: str, path: Path) -> Report:
    data = _read_json(path)
    rep = Report(vendor, path, entries=[f"{e}[{m}]" for e, m, _ in _ours_json(data)])
    if _strip_ours_json(data):
        rep.backup = backup(path)
        write(path, json.dumps(data, indent=2) + "\n")
        rep.changed = True
    return rep


# -------------------------------------------------------------------- the API


def install(
    vendor: str,
    project: Path | None,
    *,
    mode: str | None = None,
    socket: Path | None = None,
    session: str | None = None,
    timeout: float | None = None,
    python: str | None = None,
    data_dir: Path | None = None,
) -> Report:
    """Install our hooks for ``vendor`` in the project's file (or the user's)."""
    path = config_path(vendor, project)
    t = float(timeout if timeout is not None else DEFAULT_TIMEOUT[vendor])
    if not t > 0:
        raise InstallError("--timeout must be a positive number of seconds")
    wanted = [
        (event, matcher, hook_command(vendor, event, t, socket, session, python, data_dir), t)
        for event, matcher in events_for(vendor, mode or default_mode(vendor))
    ]
    if vendor == "codex":
        from . import codex

        rep = codex.install(path, wanted)
    else:
        rep = _install_json(vendor, path, wanted)
    rep.notes.extend(_install_notes(vendor, project, mode or default_mode(vendor)))
    return rep


def uninstall(vendor: str, project: Path | None) -> Report:
    path = config_path(vendor, project)
    if vendor == "codex":
        from . import codex

        return codex.uninstall(path)
    return _uninstall_json(vendor, path)


def status(
    vendor: str, project: Path | None, *, ask_codex: Callable[..., list[str]] | None = None
) -> Report:
    """What of ours is installed in the vendor's file (and, for Codex, whether Codex
    will really run it: see :func:`codex.trust_report`)."""
    path = config_path(vendor, project)
    if vendor == "codex":
        from . import codex

        rep = codex.status(path)
        if rep.entries:
            ask = ask_codex or codex.trust_report
            rep.notes.extend(ask(path, project))
        return rep
    data = _read_json(path)
    found = _ours_json(data)
    rep = Report(vendor, path, entries=[f"{e}[{m}]" for e, m, _ in found])
    if found and vendor == "gemini" and project is not None:
        rep.notes.append(GEMINI_PROJECT_NOTE)
    return rep


GEMINI_PROJECT_NOTE = (
    "Gemini CLI warns the first time it meets a new or changed project hook (it "
    "fingerprints each by name and command), then runs it; in a folder you have not "
    "trusted (folder trust) it loads no project hooks at all: trust the folder, or "
    "install with --user"
)


def _install_notes(vendor: str, project: Path | None, mode: str) -> list[str]:
    if vendor == "codex":
        return [
            "Codex runs this hook only after you trust it: open codex in "
            f"{project or 'any directory'} and approve the AgentShell hooks in /hooks "
            "(or pass --dangerously-bypass-hook-trust to a one-off codex exec); "
            "'agentshell hooks status codex' asks Codex whether it will run them"
            + (
                "; codex exec never asks for approval, so in --mode permission it is "
                "not supervised (use --mode pretooluse for codex exec)"
                if mode == "permission"
                else ""
            )
        ]
    if vendor == "gemini" and project is not None:
        return [GEMINI_PROJECT_NOTE]
    return []
