"""Codex CLI's ``config.toml`` (edited with tomlkit: the user's comments and layout
stay) and what Codex itself says about our hooks' trust (``codex app-server``)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from .common import InstallError, Report, backup, is_ours, write

#: Seconds to wait for ``codex app-server`` to list the hooks.
APP_SERVER_TIMEOUT = 60.0
TRUST_STEP = (
    "open codex in the project and approve the AgentShell hooks in /hooks (a one-off "
    "codex exec can pass --dangerously-bypass-hook-trust instead)"
)


def _load(path: Path) -> tomlkit.TOMLDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return tomlkit.document()
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(f"cannot read {path}: {exc}") from None
    try:
        return tomlkit.parse(text)
    except Exception as exc:  # tomlkit raises its own parse errors
        raise InstallError(f"{path} is not valid TOML ({exc}); fix or move it first") from None


def _events(doc: tomlkit.TOMLDocument, path: Path) -> Table | None:
    hooks = doc.get("hooks")
    if hooks is None:
        return None
    if not isinstance(hooks, Table):
        raise InstallError(f"{path}: 'hooks' must be a table")
    return hooks


def _ours(doc: tomlkit.TOMLDocument, path: Path) -> list[tuple[str, str]]:
    out = []
    hooks = _events(doc, path)
    for event, groups in (hooks or {}).items():
        if not isinstance(groups, AoT | list):
            continue  # hooks.state (Codex's trust records) and the like
        for g in groups:
            for h in g.get("hooks", []) if isinstance(g, dict) else []:
                if isinstance(h, dict) and is_ours(h.get("command")):
                    out.append((str(event), str(g.get("matcher", ""))))
    return out


def _strip(doc: tomlkit.TOMLDocument, path: Path) -> bool:
    hooks = _events(doc, path)
    if hooks is None:
        return False
    removed = False
    for event in list(hooks.keys()):
        groups = hooks[event]
        if not isinstance(groups, AoT | list):
            continue
        keep = []
        for g in groups:
            handlers = g.get("hooks") if isinstance(g, dict) else None
            if isinstance(handlers, AoT | list):
                mine = [h for h in handlers if isinstance(h, dict) and is_ours(h.get("command"))]
                if mine:
                    removed = True
                    if len(mine) == len(handlers):
                        continue
                    rest = tomlkit.aot()
                    for h in handlers:
                        if h not in mine:
                            rest.append(h)
                    g["hooks"] = rest
            keep.append(g)
        if len(keep) != len(groups):
            if keep:
                new = tomlkit.aot()
                for g in keep:
                    new.append(g)
                hooks[event] = new
            else:
                del hooks[event]
    if removed and not hooks:
        del doc["hooks"]
    return removed


def _present(doc: tomlkit.TOMLDocument, path: Path) -> list[tuple[str, str, str, Any]]:
    out = []
    hooks = _events(doc, path)
    for event, groups in (hooks or {}).items():
        if not isinstance(groups, AoT | list):
            continue
        for g in groups:
            for h in g.get("hooks", []) if isinstance(g, dict) else []:
                if isinstance(h, dict) and is_ours(h.get("command")):
                    out.append(
                        (str(event), str(g.get("matcher", "")), str(h["command"]), h.get("timeout"))
                    )
    return out


def install(path: Path, wanted: list[tuple[str, str, str, float]]) -> Report:
    doc = _load(path)
    rep = Report("codex", path, entries=[f"{e}[{m}]" for e, m, _, _ in wanted])
    if sorted(_present(doc, path)) == sorted((e, m, c, int(t)) for e, m, c, t in wanted):
        return rep  # exactly ours already: the file is not touched
    before = doc.as_string()
    _strip(doc, path)
    hooks = _events(doc, path)
    if hooks is None:
        hooks = tomlkit.table(is_super_table=True)
        doc["hooks"] = hooks
    for event, matcher, command, timeout in wanted:
        handler = tomlkit.table()
        handler["type"] = "command"
        handler["command"] = command
        handler["timeout"] = int(timeout)
        group = tomlkit.table()
        group["matcher"] = matcher
        handlers = tomlkit.aot()
        handlers.append(handler)
        group["hooks"] = handlers
        groups = hooks.get(event)
        if groups is None:
            groups = tomlkit.aot()
            groups.append(group)
            hooks[event] = groups
        elif isinstance(groups, AoT):
            groups.append(group)
        else:
            raise InstallError(f"{path}: 'hooks.{event}' must be an array of tables")
    text = doc.as_string()
    if text != before:
        rep.backup = backup(path)
        write(path, text)
        rep.changed = True
    return rep


def uninstall(path: Path) -> Report:
    doc = _load(path)
    rep = Report("codex", path, entries=[f"{e}[{m}]" for e, m in _ours(doc, path)])
    if _strip(doc, path):
        rep.backup = backup(path)
        write(path, doc.as_string())
        rep.changed = True
    return rep


def status(path: Path) -> Report:
    doc = _load(path)
    return Report("codex", path, entries=[f"{e}[{m}]" for e, m in _ours(doc, path)])


# ------------------------------------------------------------------ trust


def codex_binary() -> str | None:
    return os.environ.get("AGENTSHELL_CODEX") or shutil.which("codex")


class _Lines:
    """JSON-RPC messages read off a pipe's raw descriptor, one per line, within a
    deadline. Reading the fd (not a buffered file) keeps ``select`` truthful: replies
    that arrive in one chunk are all seen, none wait unread in a Python buffer."""

    def __init__(self, fd: int, deadline: float, timeout: float) -> None:
        self._fd = fd
        self._deadline = deadline
        self._timeout = timeout
        self._buffer = b""

    def next(self) -> Any:
        while b"\n" not in self._buffer:
            left = self._deadline - time.monotonic()
            ready, _, _ = select.select([self._fd], [], [], max(left, 0.0))
            if not ready:
                raise InstallError(
                    f"codex app-server gave no hook list within {self._timeout:.0f} s"
                )
            chunk = os.read(self._fd, 65536)
            if not chunk:
                raise InstallError("codex app-server ended before it listed the hooks")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            return None  # not a message (a stray log line): skipped

    def reply(self, request_id: int) -> dict[str, Any]:
        """The response to ``request_id``; notifications in between are skipped."""
        while True:
            msg = self.next()
            if isinstance(msg, dict) and msg.get("id") == request_id and "method" not in msg:
                return msg


def list_hooks(cwd: Path, codex: str, timeout: float = APP_SERVER_TIMEOUT) -> list[dict[str, Any]]:
    """Codex's own list of the hooks it found for ``cwd``, each with ``trustStatus``.

    JSON-RPC over ``codex app-server``'s stdio, the documented handshake: ``initialize``,
    its response, then the ``initialized`` notification, then ``hooks/list``."""
    try:
        proc = subprocess.Popen(
            [codex, "app-server"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise InstallError(f"cannot start {codex} app-server: {exc.strerror or exc}") from None
    assert proc.stdin is not None and proc.stdout is not None
    lines = _Lines(proc.stdout.fileno(), time.monotonic() + timeout, timeout)

    def send(*messages: dict[str, Any]) -> None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in messages))
            proc.stdin.flush()
        except OSError:
            raise InstallError("codex app-server ended before it listed the hooks") from None

    try:
        send(
            {
                "id": 1,
                "method": "initialize",
                "params": {
                    "clientInfo": {"name": "agentshell", "version": "1"},
                    "capabilities": {"experimentalApi": True},
                },
            }
        )
        started = lines.reply(1)
        if "error" in started:
            raise InstallError(f"codex app-server: initialize failed: {started['error']}")
        send(
            {"method": "initialized"},
            {"id": 2, "method": "hooks/list", "params": {"cwds": [str(cwd)]}},
        )
        listed = lines.reply(2)
        if "error" in listed:
            raise InstallError(f"codex app-server: hooks/list failed: {listed['error']}")
        result = listed.get("result")
        entries = result.get("data", []) if isinstance(result, dict) else []
        hooks: list[dict[str, Any]] = []
        for entry in entries:
            if isinstance(entry, dict):
                hooks.extend(h for h in entry.get("hooks", []) if isinstance(h, dict))
        return hooks
    finally:
        with contextlib.suppress(Exception):
            proc.stdin.close()
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(Exception):
            proc.stdout.close()


def trust_report(path: Path, project: Path | None) -> list[str]:
    """Lines saying whether Codex will run our hooks in ``path`` (asked of Codex)."""
    codex = codex_binary()
    if codex is None:
        return ["codex is not installed (not on PATH): cannot ask it whether it trusts these hooks"]
    cwd = project if project is not None else Path.cwd()
    try:
        hooks = list_hooks(cwd, codex)
    except InstallError as exc:
        return [f"could not ask Codex about trust: {exc}"]
    ours = [
        h
        for h in hooks
        if is_ours(h.get("command"))
        and Path(str(h.get("sourcePath", ""))).resolve() == path.resolve()
    ]
    if not ours:
        return [
            f"Codex does not list these hooks for {cwd} (for a project file: is the "
            "project's .codex/ layer trusted?); it will not run them"
        ]
    lines = []
    for h in ours:
        trust = h.get("trustStatus", "?")
        runs = trust in ("trusted", "managed") and h.get("enabled", True)
        state = "will run" if runs else "will NOT run (Codex skips it without a word)"
        word = {
            "untrusted": "not trusted (untrusted)",
            "modified": "changed since trusted (modified)",
        }
        lines.append(
            f"{h.get('eventName')} [{h.get('matcher')}]: {word.get(trust, trust)}, {state}"
        )
    if any(h.get("trustStatus") not in ("trusted", "managed") for h in ours):
        lines.append(f"to trust them: {TRUST_STEP}")
    return lines
