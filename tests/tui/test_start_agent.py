"""Starting a supervised agent from the TUI: the palette entry and ``tui --agent``.

A real coordinator and socket server, the real app (Textual pilot), real panes: the
vendor CLI is a stand-in on PATH that records the argv, environment and per-run
settings it was started with (tests/vendors runs the real CLIs; one test below starts
the real Claude Code from ``.vendor/`` this way, against the scripted endpoint).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from textual.command import CommandList, CommandPalette

from agentshell.coordinator.coordinator import Coordinator
from agentshell.server.server import Server
from agentshell.tui.agents_start import (
    CODEX_TRUST_NOTE,
    AgentSpec,
    StartError,
    codex_trust_lines,
    pane_name,
    parse_agent,
    prepare,
    run_dir,
    start_agent,
)
from agentshell.tui.app import AgentShellApp
from agentshell.tui.live import CoordinatorBackend
from agentshell.tui.widgets.terminal.grid import TerminalGrid
from tests.polling import until

SIZE = (160, 48)
STANDIN = """#!{python}
import json, os, sys
if "app-server" in sys.argv:  # asked about hook trust: this stand-in cannot say
    sys.exit(0)
settings = None
if "--settings" in sys.argv:
    settings = json.load(open(sys.argv[sys.argv.index("--settings") + 1]))
gem = os.environ.get("GEMINI_CLI_HOME")
gem = gem and os.path.join(gem, ".gemini", "settings.json")
rec = {{
    "argv": sys.argv,
    "env": {{k: v for k, v in os.environ.items()
            if k.startswith(("AGENTSHELL_", "GEMINI_CLI_HOME"))}},
    "cwd": os.getcwd(),
    "settings": settings,
    "gemini": json.load(open(gem)) if gem else None,
}}
out = os.path.join({record!r}, os.path.basename(sys.argv[0]) + "-" + str(os.getpid()) + ".json")
with open(out + ".tmp", "w") as f:
    json.dump(rec, f)
os.replace(out + ".tmp", out)
print("stand-in", os.path.basename(sys.argv[0]), "ran")
"""


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # Unix socket paths stay within ~107 bytes
    d = Path(tempfile.mkdtemp(prefix="ast-", dir="/tmp"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def standins(short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stand-in claude, codex, gemini and aider first on PATH; returns their record dir."""
    bin_dir, record = short_dir / "bin", short_dir / "record"
    bin_dir.mkdir()
    record.mkdir()
    for name in ("claude", "codex", "gemini", "aider"):
        exe = bin_dir / name
        exe.write_text(STANDIN.format(python=sys.executable, record=str(record)))
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


@pytest.fixture
async def served(live_co: Coordinator, short_dir: Path) -> AsyncIterator[Path]:
    server = Server(live_co, short_dir / "run" / "s.sock")
    await server.start()
    try:
        yield server.socket_path
    finally:
        await server.close()


def records(record: Path, name: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(record.glob(f"{name}-*.json"))]


def typed(co: Coordinator, terminal: str) -> str:
    """Everything typed into ``terminal`` (the log keeps it)."""
    return "".join(
        e.payload["data"].decode(errors="replace")
        if isinstance(e.payload["data"], bytes)
        else str(e.payload["data"])
        for e in co.session.iter_events()
        if e.event_type == "terminal_input" and e.payload.get("terminal") == terminal
    )


def app_for(co: Coordinator, sock: Path) -> AgentShellApp:
    return AgentShellApp(CoordinatorBackend(co, socket_path=str(sock)), notify_new=False)


def messages(app: AgentShellApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def palette(app: AgentShellApp, pilot: Any, query: str, title: str) -> None:
    await pilot.press("ctrl+p")
    await until(lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*query)
    results = app.screen.query_one(CommandList)

    def highlighted() -> str:
        i = results.highlighted
        return "" if i is None else str(results.get_option_at_index(i).prompt)

    await until(lambda: title in highlighted(), what=f"{title!r} highlighted")
    await pilot.press("enter")


async def test_the_palette_starts_claude_code_with_per_run_hooks_in_a_new_pane(
    live_co: Coordinator, served: Path, standins: Path
) -> None:
    app = app_for(live_co, served)
    async with app.run_test(size=SIZE) as pilot:
        await palette(app, pilot, "supervised claude", "Start a supervised agent: Claude Code")
        grid = app.query_one(TerminalGrid)
        await until(lambda: grid.pane("claude") is not None, what="pane claude")
        # the new pane is the selected one
        await until(lambda: grid.current is grid.pane("claude"), what="pane claude selected")
        (rec,) = await until(lambda: records(standins, "claude"), what="claude ran")
        # again: the next free name
        await palette(app, pilot, "supervised claude", "Start a supervised agent: Claude Code")
        await until(lambda: grid.pane("claude-2") is not None, what="pane claude-2")
        await until(lambda: grid.current is grid.pane("claude-2"), what="claude-2 selected")
        await until(lambda: len(records(standins, "claude")) == 2, what="claude-2 ran")
    argv = rec["argv"]
    assert argv[1] == "--settings" and len(argv) == 3, argv
    settings_file = Path(argv[2])
    # the per-run settings live beside the socket (private dir), not in the project
    assert settings_file.parent == run_dir(served, "claude")
    assert stat.S_IMODE(settings_file.parent.stat().st_mode) == 0o700
    assert not (Path(live_co.project_dir) / ".claude").exists()
    hooks = rec["settings"]["hooks"]
    assert {"PermissionRequest", "PreToolUse", "PostToolUse"} <= set(hooks)
    (group,) = hooks["PermissionRequest"]
    assert group["matcher"] == "Bash"
    command = group["hooks"][0]["command"]
    assert "agentshell.bridges.hooks" in command and f"--socket {served}" in command
    assert "--vendor claude" in command and "--event PermissionRequest" in command
    assert rec["env"]["AGENTSHELL_SOCKET"] == str(served)
    assert rec["cwd"] == str(Path(live_co.project_dir).resolve())
    # what was typed into the pane: the launcher, no secret
    line = typed(live_co, "claude")
    assert line.strip() == f"sh {run_dir(served, 'claude') / 'run.sh'}"
    assert live_co.state["terminals"]["claude-2"].open


async def test_tui_agent_starts_codex_gemini_and_aider_wired_to_the_session(
    short_dir: Path, standins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentshell.tui.run import run_tui

    home = short_dir / "home"
    (home / ".gemini").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    # the user's own Gemini CLI settings (a theme, a hook of theirs) and credentials
    mine = {"matcher": "write_file", "hooks": [{"type": "command", "command": "my-check"}]}
    user_settings = {"ui": {"theme": "Dracula"}, "hooks": {"BeforeTool": [mine]}}
    (home / ".gemini" / "settings.json").write_text(json.dumps(user_settings))
    (home / ".gemini" / "oauth_creds.json").write_text("{}")
    project = short_dir / "project"
    project.mkdir()
    sock = short_dir / "run" / "t.sock"
    seen: dict[str, Any] = {}

    async def pilot(app: AgentShellApp) -> None:
        co = app.backend.coordinator  # type: ignore[attr-defined]
        for name in ("codex", "gemini", "aider"):
            await until(lambda n=name: records(standins, n), timeout=30, what=f"{name} ran")

        def codex_output() -> str:  # what the pane showed, from the log
            return "".join(
                bytes(e.payload["data"]).decode(errors="replace")
                for e in co.session.iter_events()
                if e.event_type == "terminal_output" and e.payload.get("terminal") == "codex"
            )

        seen["codex_screen"] = await until(
            lambda: "stand-in codex ran" in codex_output() and codex_output(),
            what="the codex pane's output",
        )
        seen["state"] = co.state
        seen["typed"] = {t: typed(co, t) for t in ("codex", "gemini", "aider")}
        seen["inputs"] = [
            e for e in co.session.iter_events() if e.event_type in ("terminal_input",)
        ]
        seen["panes"] = [p.terminal_name for p in app.query_one(TerminalGrid).panes]

    await run_tui(
        session="t",
        data_dir=short_dir / "data",
        socket_path=sock,
        project_dir=project,
        headless_pilot=pilot,
        agents=[
            parse_agent("codex=exec --skip-git-repo-check 'say hi'"),
            parse_agent("gemini"),
            parse_agent("aider=--model gpt-4o"),
        ],
    )
    assert {"codex", "gemini", "aider"} <= set(seen["panes"])
    (codex,) = records(standins, "codex")
    argv = codex["argv"]
    assert argv[-3:] == ["exec", "--skip-git-repo-check", "say hi"]
    overrides = [argv[i + 1] for i, a in enumerate(argv[:-3]) if a == "-c"]
    parsed = [tomllib.loads(o) for o in overrides]  # each -c value is TOML Codex can read
    events = {e for p in parsed for e in p["hooks"]}
    assert events == {"PreToolUse", "PostToolUse"}, events  # codex exec: PreToolUse
    pre = next(p["hooks"]["PreToolUse"] for p in parsed if "PreToolUse" in p["hooks"])
    cmd = pre[0]["hooks"][0]["command"]
    assert "--vendor codex" in cmd and f"--socket {sock}" in cmd
    # the trust step is the pane's first lines
    screen = seen["codex_screen"]
    assert "could not ask Codex about hook trust" in screen, screen
    assert screen.index("type /hooks in Codex") < screen.index("stand-in codex ran"), screen
    assert not (project / ".codex").exists()

    (gemini,) = records(standins, "gemini")
    assert gemini["argv"][1:] == []
    gemini_home = Path(gemini["env"]["GEMINI_CLI_HOME"])
    assert gemini_home.parent == run_dir(sock, "gemini")
    settings = gemini["gemini"]
    assert settings["ui"] == {"theme": "Dracula"}  # the user's settings stay
    first, ours = settings["hooks"]["BeforeTool"]
    assert first == mine  # and their own hook, before ours
    assert ours["matcher"] == "run_shell_command|replace|write_file"
    command = ours["hooks"][0]["command"]
    assert "--vendor gemini" in command and f"--socket {sock}" in command
    assert settings["hooks"]["AfterTool"][0]["hooks"][0]["name"] == "agentshell"
    assert settings["hooksConfig"]["enabled"] is True
    creds = gemini_home / ".gemini" / "oauth_creds.json"
    assert creds.is_symlink() and creds.resolve() == (home / ".gemini" / "oauth_creds.json")
    assert json.loads((home / ".gemini" / "settings.json").read_text()) == user_settings
    assert gemini["env"]["AGENTSHELL_SOCKET"] == str(sock)
    assert not (project / ".gemini").exists()

    (aider,) = records(standins, "aider")
    assert aider["argv"][1:] == ["--model", "gpt-4o"]
    agent = aider["env"]["AGENTSHELL_AGENT"]
    assert agent.startswith("aider-") and agent in seen["state"]["agents"]
    assert tuple(seen["state"]["agents"][agent].capabilities) == ("read", "run")
    assert aider["env"]["AGENTSHELL_TERMINAL"] == "aider"
    # the wrapper (agentshell wrap --profile aider) started it with the token from a
    # 0600 file: the token was never typed into a pane
    token_file = run_dir(sock, "aider") / "agent.token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    assert len(token) >= 16
    assert all(token not in str(e.payload) for e in seen["inputs"])
    assert seen["typed"]["aider"].strip() == f"sh {run_dir(sock, 'aider') / 'run.sh'}"
    launcher = (run_dir(sock, "aider") / "run.sh").read_text()
    assert "--profile aider" in launcher and token not in launcher


async def test_a_missing_cli_is_said_and_nothing_opens(
    live_co: Coordinator, served: Path, monkeypatch: pytest.MonkeyPatch, short_dir: Path
) -> None:
    empty = short_dir / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    app = app_for(live_co, served)
    async with app.run_test(size=SIZE) as pilot:
        before = set(live_co.state["terminals"])
        await palette(app, pilot, "supervised gemini", "Start a supervised agent: Gemini CLI")
        await until(lambda: any("not installed" in m for m in messages(app)), what="notice")
        assert await app.start_agent(AgentSpec("codex")) is None
    notes = messages(app)
    assert any("Gemini CLI not started" in m and "`gemini` is not on PATH" in m for m in notes)
    assert any("Codex not started" in m for m in notes)
    assert set(live_co.state["terminals"]) == before
    assert not run_dir(served, "gemini").exists()


def test_agent_option_values() -> None:
    assert parse_agent("claude") == AgentSpec("claude")
    assert parse_agent("aider=--model 'gpt 4o' --yes") == AgentSpec(
        "aider", ("--model", "gpt 4o", "--yes")
    )
    with pytest.raises(StartError, match="unknown agent 'cursor'"):
        parse_agent("cursor")
    assert pane_name("claude", ["main"]) == "claude"
    assert pane_name("claude", ["claude", "claude-2"]) == "claude-3"


def test_tui_refuses_an_unknown_agent() -> None:
    from agentshell.cli import commands  # noqa: F401  (registers subcommands)
    from agentshell.cli.main import cli

    result = CliRunner().invoke(cli, ["tui", "--agent", "cursor"])
    assert result.exit_code == 2, result.output
    assert "unknown agent 'cursor'" in result.output and "claude, codex" in result.output


def test_the_codex_pane_says_what_codex_says_about_trust() -> None:
    ours = "/py -c 'from agentshell.bridges.hooks.entry import run; run()' --vendor codex"

    def lister(*statuses: str) -> Any:
        hooks = [
            {"command": ours, "source": "sessionFlags", "trustStatus": t, "enabled": True}
            for t in statuses
        ]
        hooks.append({"command": "my-linter", "source": "user", "trustStatus": "untrusted"})
        return lambda cwd, codex, timeout: hooks

    assert codex_trust_lines("codex", Path("/p"), lister("trusted", "trusted")) == [
        "Codex trusts the 2 AgentShell hooks."
    ]
    lines = codex_trust_lines("codex", Path("/p"), lister("trusted", "modified"))
    assert lines == ["1 of 2 AgentShell hooks are not trusted.", *CODEX_TRUST_NOTE]
    assert "NOT supervised" in " ".join(codex_trust_lines("codex", Path("/p"), lister()))


async def test_a_pane_that_cannot_open_leaves_no_agent_behind(
    live_co: Coordinator, served: Path, standins: Path
) -> None:
    await live_co.open_terminal("aider")  # taken, but not in the names given below
    with pytest.raises(StartError, match="already open"):
        await start_agent(AgentSpec("aider"), served, ["main"])
    kinds = [
        (e.event_type, e.payload.get("reason"))
        for e in live_co.session.iter_events()
        if str(getattr(e, "agent_id", "")).startswith("aider-")
    ]
    assert kinds[0][0] == "agent_registered" and kinds[-1] == ("agent_removed", "not started")
    live = live_co.state["agents"].values()
    assert not [a for a in live if a.agent_id.startswith("aider-") and a.status != "removed"]
    assert not records(standins, "aider")


def test_a_second_gemini_run_keeps_what_gemini_wrote_in_its_home(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = short_dir / "home"
    (home / ".gemini").mkdir(parents=True)
    (home / ".gemini" / "installation_id").write_text("abc")
    monkeypatch.setenv("HOME", str(home))
    sock = short_dir / "run" / "s.sock"
    (short_dir / "run").mkdir(mode=0o700)
    first = prepare(AgentSpec("gemini"), sock, "gemini", binary="/bin/true")
    gdir = Path(first.env["GEMINI_CLI_HOME"]) / ".gemini"
    assert (gdir / "installation_id").is_symlink()
    (gdir / "installation_id").unlink()
    (gdir / "installation_id").write_text("made by gemini")  # as if Gemini wrote it
    prepare(AgentSpec("gemini"), sock, "gemini", binary="/bin/true")
    assert (gdir / "installation_id").read_text() == "made by gemini"
    assert (home / ".gemini" / "installation_id").read_text() == "abc"
