"""Start a supervised agent in a new pane: Claude Code, Codex, Gemini CLI or aider.

The command palette ("Start a supervised agent: ...") and ``agentshell tui --agent
VENDOR[=ARGS]`` both come here. What runs in the pane is the vendor's own CLI, already
wired to this session, without touching the project's files:

- Claude Code: ``claude --settings FILE``; FILE (a per-run settings file in the
  session's private runtime directory) holds our hooks, which Claude Code merges with
  the user's and the project's settings.
- Codex: ``codex -c hooks.EVENT=[...]``: our hooks as session flags (one layer of
  Codex's config, nothing written to ``config.toml``). Codex runs a non-managed hook
  only once the user trusted it; nothing here forges that trust: the pane's first
  lines say what Codex itself says (``codex app-server``, ``hooks/list``) and, when it
  would skip our hooks, the one step the user must take.
- Gemini CLI: ``GEMINI_CLI_HOME`` names a per-run home whose ``.gemini/settings.json``
  is the user's own with our ``BeforeTool`` / ``AfterTool`` hooks added, every other
  entry of the user's ``.gemini`` linked (Gemini CLI reads a system settings file only
  when root owns it and all its parents, so a per-run system file cannot be used).
- aider: ``agentshell wrap --profile aider -- aider ARGS`` as a new agent, its token in
  a 0600 file beside the socket (``--token-file``).

The pane's shell is given one line to type, ``sh LAUNCHER``: the launcher (0700, in the
same private directory) exports ``AGENTSHELL_SOCKET`` (and, for aider, the agent's
name), prints the notes and ``exec``\\s the CLI. So no token is ever typed into the
pane (typed input is logged), and the vendor's hooks find this session's socket.

No Textual here: the app calls :func:`start_agent` and shows what it returns or raises.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentshell.core.errors import AgentShellError

VENDORS = ("claude", "codex", "gemini", "aider")
TITLES = {"claude": "Claude Code", "codex": "Codex", "gemini": "Gemini CLI", "aider": "aider"}
BINARIES = {"claude": "claude", "codex": "codex", "gemini": "gemini", "aider": "aider"}
#: Where each vendor's CLI comes from (said when it is missing).
INSTALL_HINTS = {
    "claude": "npm install -g @anthropic-ai/claude-code",
    "codex": "npm install -g @openai/codex",
    "gemini": "npm install -g @google/gemini-cli",
    "aider": "pipx install aider-chat",
}
#: Where Gemini CLI reads its system settings on Linux (unless the variable says).
#: Gemini CLI's own variable for the directory holding ``.gemini`` (default: $HOME).
GEMINI_HOME_VAR = "GEMINI_CLI_HOME"
#: Capabilities of the agent a wrapped aider runs as (it proposes the commands it shows).
WRAP_CAPABILITIES = ("read", "run")


class StartError(AgentShellError):
    """The agent cannot be started (the reason says why; nothing was opened)."""


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """One agent to start: its vendor and the arguments given to its CLI."""

    vendor: str
    args: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return TITLES[self.vendor]


def parse_agent(value: str) -> AgentSpec:
    """``claude`` or ``claude=--model opus`` (shell words after ``=``) -> an AgentSpec."""
    vendor, sep, rest = value.partition("=")
    vendor = vendor.strip().lower()
    if vendor not in VENDORS:
        raise StartError(
            f"unknown agent {vendor!r}: one of {', '.join(VENDORS)} (e.g. claude=ARGS)"
        )
    try:
        args = tuple(shlex.split(rest)) if sep else ()
    except ValueError as exc:
        raise StartError(f"cannot read the arguments of {value!r}: {exc}") from None
    return AgentSpec(vendor, args)


def pane_name(vendor: str, taken: Iterable[str]) -> str:
    """``claude``, then ``claude-2``, ``claude-3``, ... (the first name not taken)."""
    used = set(taken)
    if vendor not in used:
        return vendor
    n = 2
    while f"{vendor}-{n}" in used:
        n += 1
    return f"{vendor}-{n}"


@dataclass
class Launch:
    """What was prepared for one pane (files written, the line typed into it)."""

    spec: AgentSpec
    pane: str
    binary: str
    argv: list[str]
    env: dict[str, str]
    launcher: Path
    notes: list[str] = field(default_factory=list)
    agent: str = ""  # the agent a wrapped CLI runs as ("" for the hooks: named per session)
    #: Shell lines the launcher runs before the CLI (Codex: ask it about trust).
    checks: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        """What is typed into the pane's shell (no secret in it: it is logged)."""
        return shlex.join(["sh", str(self.launcher)])


def run_dir(socket_path: Path, pane: str) -> Path:
    """The per-run directory of pane ``pane``: beside the socket, in its private
    (0700) directory, so nothing lands in the project."""
    return socket_path.with_name(f"{socket_path.name}.agents") / pane


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _write(path: Path, text: str, mode: int = 0o600) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _hook_groups(vendor: str, mode: str, socket_path: Path) -> list[tuple[str, str, str, float]]:
    """``(event, matcher, command, timeout)`` of our hooks for ``vendor``, as
    ``agentshell hooks install`` writes them (the same command, so a hook installed
    for this socket too is the same definition)."""
    from agentshell.bridges.install.api import DEFAULT_TIMEOUT, events_for, hook_command

    t = float(DEFAULT_TIMEOUT[vendor])
    return [
        (event, matcher, hook_command(vendor, event, t, socket=socket_path), t)
        for event, matcher in events_for(vendor, mode)
    ]


def claude_settings(socket_path: Path) -> dict[str, Any]:
    """The per-run settings Claude Code loads with ``--settings`` (our hooks only)."""
    hooks: dict[str, list[dict[str, Any]]] = {}
    for event, matcher, command, t in _hook_groups("claude", "permission", socket_path):
        handler = {"type": "command", "command": command, "timeout": int(t)}
        hooks.setdefault(event, []).append({"matcher": matcher, "hooks": [handler]})
    return {"hooks": hooks}


def _toml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string (ASCII, escaped) is a TOML basic string


def codex_overrides(socket_path: Path, mode: str) -> list[str]:
    """``-c`` arguments putting our hooks in Codex's session-flags config layer."""
    by_event: dict[str, list[str]] = {}
    for event, matcher, command, t in _hook_groups("codex", mode, socket_path):
        handler = f'{{type = "command", command = {_toml_str(command)}, timeout = {int(t)}}}'
        by_event.setdefault(event, []).append(
            f"{{matcher = {_toml_str(matcher)}, hooks = [{handler}]}}"
        )
    return [a for e, gs in by_event.items() for a in ("-c", f"hooks.{e}=[{', '.join(gs)}]")]


def codex_mode(args: Sequence[str]) -> str:
    """``codex exec`` never asks for approval (no PermissionRequest fires): only
    PreToolUse supervises it. Interactive Codex: PermissionRequest (the default)."""
    first = next((a for a in args if not a.startswith("-")), "")
    return "pretooluse" if first in ("exec", "e") else "permission"


def gemini_user_dir(environ: dict[str, str]) -> Path:
    """The user's own ``.gemini`` directory (under ``$GEMINI_CLI_HOME`` or ``$HOME``)."""
    base = environ.get(GEMINI_HOME_VAR) or environ.get("HOME") or str(Path.home())
    return Path(base) / ".gemini"


def _without_ours(groups: Any) -> Any:
    """A hooks event's groups with our handlers taken out (a ``hooks install gemini
    --user`` may have put some there, maybe for another session)."""
    from agentshell.bridges.install.common import is_ours

    if not isinstance(groups, list):
        return groups
    kept = []
    for g in groups:
        if isinstance(g, dict) and isinstance(g.get("hooks"), list):
            handlers = [
                h for h in g["hooks"] if not (isinstance(h, dict) and is_ours(h.get("command")))
            ]
            if not handlers:
                continue
            g = {**g, "hooks": handlers}
        kept.append(g)
    return kept


def gemini_settings(socket_path: Path, environ: dict[str, str]) -> dict[str, Any]:
    """The user settings Gemini CLI reads for this run: the user's own, with our hooks
    added (for this session) and hooks kept enabled."""
    user = gemini_user_dir(environ) / "settings.json"
    try:
        loaded = json.loads(user.read_text(encoding="utf-8"))
    except FileNotFoundError:
        loaded = {}
    except (OSError, ValueError) as exc:
        raise StartError(
            f"cannot read {user} ({exc}); fix it, or install the hooks there with"
            " `agentshell hooks install gemini --user`"
        ) from None
    data: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise StartError(f"{user}: 'hooks' must be an object")
    for event in list(hooks):
        hooks[event] = _without_ours(hooks[event])
    for event, matcher, command, t in _hook_groups("gemini", "pretooluse", socket_path):
        handler = {"name": "agentshell", "type": "command", "command": command}
        handler["timeout"] = int(t * 1000)  # type: ignore[assignment]  # Gemini: ms
        groups = hooks.setdefault(event, [])
        if isinstance(groups, list):
            groups.append({"matcher": matcher, "hooks": [handler]})
    cfg = data.setdefault("hooksConfig", {})
    if isinstance(cfg, dict):
        cfg["enabled"] = True
        if isinstance(cfg.get("disabled"), list):
            cfg["disabled"] = [n for n in cfg["disabled"] if n != "agentshell"]
    return data


def gemini_home(where: Path, socket_path: Path, environ: dict[str, str]) -> Path:
    """A per-run ``GEMINI_CLI_HOME``: its ``.gemini/settings.json`` is the user's with
    our hooks; every other entry of the user's ``.gemini`` (credentials, trusted
    folders, history, extensions) is a symlink to the real one."""
    home = where / "gemini-home"
    gdir = home / ".gemini"
    _private_dir(home)
    _private_dir(gdir)
    for old in gdir.iterdir():  # a previous run's links
        if old.is_symlink():
            old.unlink()
    real = gemini_user_dir(environ)
    if real.is_dir():
        for entry in real.iterdir():
            link = gdir / entry.name
            # a file Gemini CLI made here in an earlier run stays (os.path.lexists)
            if entry.name not in ("settings.json", "settings.json.tmp") and not os.path.lexists(
                link
            ):
                link.symlink_to(entry)
    settings = gemini_settings(socket_path, environ)
    _write(gdir / "settings.json", json.dumps(settings, indent=2) + "\n")
    return home


#: What the pane says when Codex will skip our hooks (short: a pane in the grid is narrow).
CODEX_TRUST_NOTE = (
    "Codex skips hooks you have not trusted, without a word:",
    "type /hooks in Codex and trust the AgentShell hooks",
    "(source: session flags). Until then this Codex is NOT",
    "supervised. (codex exec: --dangerously-bypass-hook-trust)",
)
#: Run by the Codex pane's launcher: ``PYTHON -c CODEX_TRUST_CODE WRAPPER CWD``.
CODEX_TRUST_CODE = "from agentshell.tui.agents_start import codex_trust_main; codex_trust_main()"


def codex_trust_lines(
    codex: str, cwd: Path, lister: Callable[..., list[dict[str, Any]]] | None = None
) -> list[str]:
    """What the Codex pane's first lines say: whether Codex (asked through its
    ``app-server``, with our ``-c`` hooks) will run the AgentShell hooks, and if not,
    the one step the user must take."""
    from agentshell.bridges.install.codex import list_hooks
    from agentshell.bridges.install.common import is_ours

    try:
        hooks = (lister or list_hooks)(cwd, codex, timeout=30.0)
    except AgentShellError as exc:
        return [f"could not ask Codex about hook trust: {exc}", *CODEX_TRUST_NOTE]
    ours = [h for h in hooks if is_ours(h.get("command")) and h.get("source") == "sessionFlags"]
    if not ours:
        return ["Codex does not list the AgentShell hooks:", "this Codex is NOT supervised."]
    waiting = [
        h
        for h in ours
        if h.get("trustStatus") not in ("trusted", "managed") or not h.get("enabled", True)
    ]
    if waiting:
        return [
            f"{len(waiting)} of {len(ours)} AgentShell hooks are not trusted.",
            *CODEX_TRUST_NOTE,
        ]
    return [f"Codex trusts the {len(ours)} AgentShell hooks."]


def codex_trust_main() -> None:
    """``python -c CODEX_TRUST_CODE WRAPPER CWD``: print :func:`codex_trust_lines`."""
    codex, cwd = sys.argv[1], sys.argv[2]
    for line in codex_trust_lines(codex, Path(cwd)):
        print(f"[agentshell] {line}", flush=True)


def _launcher(launch: Launch, head: list[str]) -> str:
    lines = [
        "#!/bin/sh",
        f"# {launch.spec.title} in pane {launch.pane}, supervised by AgentShell"
        " (written by agentshell tui)",
    ]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in launch.env.items()]
    for note in head:
        lines.append(f"printf '%s\\n' {shlex.quote('[agentshell] ' + note)}")
    lines += launch.checks
    lines.append(f"exec {shlex.join(launch.argv)}")
    return "\n".join(lines) + "\n"


def prepare(
    spec: AgentSpec,
    socket_path: Path,
    pane: str,
    *,
    binary: str,
    agent: str = "",
    token: str = "",
    environ: dict[str, str] | None = None,
) -> Launch:
    """Write the pane's per-run files (settings, token, launcher) and say what runs."""
    env_in = dict(os.environ if environ is None else environ)
    where = run_dir(socket_path, pane)
    _private_dir(where.parent)
    _private_dir(where)
    env = {"AGENTSHELL_SOCKET": str(socket_path)}
    notes: list[str] = []
    checks: list[str] = []
    if spec.vendor == "claude":
        settings = where / "claude-settings.json"
        _write(settings, json.dumps(claude_settings(socket_path), indent=2) + "\n")
        argv = [binary, "--settings", str(settings), *spec.args]
    elif spec.vendor == "codex":
        # codex with our hooks as session flags: what the pane runs, and what is asked
        # (codex app-server) whether it trusts them
        wrapper = where / "codex"
        flags = shlex.join([binary, *codex_overrides(socket_path, codex_mode(spec.args))])
        _write(wrapper, f'#!/bin/sh\nexec {flags} "$@"\n', mode=0o700)
        argv = [str(wrapper), *spec.args]
        checks.append(
            shlex.join([sys.executable, "-c", CODEX_TRUST_CODE, str(wrapper)]) + ' "$PWD"'
        )
        notes.append(
            "Codex skips hooks you have not trusted: the pane's first lines say whether it"
            " trusts the AgentShell hooks, and how to (/hooks)."
        )
    elif spec.vendor == "gemini":
        env[GEMINI_HOME_VAR] = str(gemini_home(where, socket_path, env_in))
        argv = [binary, *spec.args]
    else:  # aider: through agentshell wrap, as its own agent
        from agentshell.bridges.wrap.pane import wrap_command_line

        token_file = where / "agent.token"
        _write(token_file, token + "\n")
        env["AGENTSHELL_AGENT"] = agent
        line = wrap_command_line(
            socket_path,
            pane,
            profile="aider",
            agent=agent,
            token_file=token_file,
            timeout=None,
            command=[binary, *spec.args],
        )
        argv = shlex.split(line)
    launch = Launch(spec, pane, binary, argv, env, where / "run.sh", notes, agent, checks)
    what = "prompts" if spec.vendor == "aider" else "tool calls"
    head = [f"{spec.title}, supervised: its {what} go to", "the approval queue of this session."]
    _write(launch.launcher, _launcher(launch, head), mode=0o700)
    return launch


def find_binary(spec: AgentSpec, which: Callable[[str], str | None] = shutil.which) -> str:
    """The CLI's absolute path, or StartError saying it is missing and how to get it."""
    name = BINARIES[spec.vendor]
    found = which(name)
    if not found:
        raise StartError(
            f"{spec.title} is not installed: `{name}` is not on PATH"
            f" (install it: {INSTALL_HINTS[spec.vendor]}). Nothing was started."
        )
    return str(Path(found).absolute())


async def start_agent(
    spec: AgentSpec,
    socket_path: str | os.PathLike[str],
    taken: Iterable[str],
    *,
    cwd: str | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> Launch:
    """Open a new pane in the session served on ``socket_path`` running ``spec``,
    supervised. ``taken``: the terminal names in use. Raises StartError (nothing
    opened) when the CLI is missing or the session refuses."""
    from agentshell.client.client import AgentClient

    if not str(socket_path):
        raise StartError("this view is not a live session: nothing to start an agent in")
    sock = Path(socket_path)
    binary = find_binary(spec, which)
    pane = pane_name(spec.vendor, taken)
    try:
        async with AgentClient.connect(sock, operator=True, retry_for=3.0) as op:
            agent, token = "", ""
            if spec.vendor == "aider":
                agent = f"{pane}-{secrets.token_hex(4)}"
                reply = await op.request(
                    "agent_add",
                    agent=agent,
                    capabilities=list(WRAP_CAPABILITIES),
                    name=f"aider (pane {pane})",
                )
                token = str(reply["token"])
            try:
                launch = prepare(spec, sock, pane, binary=binary, agent=agent, token=token)
                await op.request("open_terminal", terminal=pane, cwd=cwd)
            except BaseException:
                if agent:  # made for this pane only: nothing will use it
                    with contextlib.suppress(Exception):
                        await op.request("agent_remove", agent=agent, reason="not started")
                raise
            await op.request("send_input", terminal=pane, data=(launch.line + "\n").encode())
    except AgentShellError as exc:
        raise StartError(f"cannot start {spec.title}: {exc}") from None
    except OSError as exc:
        raise StartError(f"cannot start {spec.title}: {exc.strerror or exc}") from None
    return launch
