"""`agentshell hooks install|uninstall|status` on real files: merged into the user's
settings, a backup, idempotent, only our entries removed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomlkit

from agentshell.bridges.install import InstallError, config_path, install, status, uninstall
from agentshell.bridges.install.api import GEMINI_PROJECT_NOTE

USER_CLAUDE = {
    "model": "opus",
    "permissions": {"allow": ["Bash(npm test:*)"]},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "my-lint"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
}
USER_CODEX = """\
# my Codex settings
model = "gpt-5"  # the one I like

[[hooks.PreToolUse]]
matcher = "Bash"
[[hooks.PreToolUse.hooks]]
type = "command"
command = "my-guard"

[hooks.state."x:pre_tool_use:0:0"]
trusted_hash = "sha256:abc"
"""


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentshell", "hooks", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_claude_merges_keeps_the_users_hooks_backs_up_and_is_idempotent(tmp_path: Path) -> None:
    path = config_path("claude", tmp_path)
    path.parent.mkdir()
    original = json.dumps(USER_CLAUDE, indent=4)
    path.write_text(original)
    rep = install("claude", tmp_path, socket=Path("/run/x/s.sock"), timeout=300)
    assert rep.changed and rep.backup is not None and rep.backup.read_text() == original
    data = json.loads(path.read_text())
    assert data["model"] == "opus" and data["permissions"] == USER_CLAUDE["permissions"]
    assert data["hooks"]["Stop"] == USER_CLAUDE["hooks"]["Stop"]
    pre = data["hooks"]["PreToolUse"]
    assert pre[0] == USER_CLAUDE["hooks"]["PreToolUse"][0]  # the user's comes first, kept
    ours = pre[1]["hooks"][0]
    assert pre[1]["matcher"] == "Edit|Write|MultiEdit|NotebookEdit"
    assert ours["timeout"] == 300 and "--vendor claude --event PreToolUse" in ours["command"]
    assert "--socket /run/x/s.sock" in ours["command"]
    perm = data["hooks"]["PermissionRequest"][0]
    assert perm["matcher"] == "Bash" and "--event PermissionRequest" in perm["hooks"][0]["command"]
    assert "token" not in path.read_text().lower()  # no secret in a committed file
    text = path.read_text()
    again = install("claude", tmp_path, socket=Path("/run/x/s.sock"), timeout=300)
    assert not again.changed and path.read_text() == text
    gone = uninstall("claude", tmp_path)
    assert gone.changed
    assert json.loads(path.read_text()) == USER_CLAUDE
    assert not uninstall("claude", tmp_path).changed


def test_claude_pretooluse_mode_hooks_every_shell_call_before_the_vendors_rules(
    tmp_path: Path,
) -> None:
    install("claude", tmp_path, mode="pretooluse")
    hooks = json.loads(config_path("claude", tmp_path).read_text())["hooks"]
    assert "PermissionRequest" not in hooks
    assert hooks["PreToolUse"][0]["matcher"] == "Bash|Edit|Write|MultiEdit|NotebookEdit"
    # switching modes replaces our entries, it does not add a second set
    install("claude", tmp_path, mode="permission")
    hooks = json.loads(config_path("claude", tmp_path).read_text())["hooks"]
    ours = [g for g in hooks["PreToolUse"] if "agentshell" in json.dumps(g)]
    assert len(ours) == 1 and ours[0]["matcher"] == "Edit|Write|MultiEdit|NotebookEdit"


def test_codex_toml_keeps_comments_layout_and_trust_records(tmp_path: Path) -> None:
    path = config_path("codex", tmp_path)
    path.parent.mkdir()
    path.write_text(USER_CODEX)
    rep = install("codex", tmp_path, mode="pretooluse")
    assert rep.changed and rep.backup is not None and rep.backup.read_text() == USER_CODEX
    text = path.read_text()
    assert text.startswith('# my Codex settings\nmodel = "gpt-5"  # the one I like\n')
    doc = tomlkit.parse(text)
    pre = doc["hooks"]["PreToolUse"]
    assert [g["matcher"] for g in pre] == ["Bash", "Bash|apply_patch"]
    assert pre[0]["hooks"][0]["command"] == "my-guard"
    assert pre[1]["hooks"][0]["timeout"] == 600
    assert doc["hooks"]["state"]["x:pre_tool_use:0:0"]["trusted_hash"] == "sha256:abc"
    assert any("trust" in n and "/hooks" in n for n in rep.notes)
    assert not install("codex", tmp_path, mode="pretooluse").changed
    assert path.read_text() == text
    assert uninstall("codex", tmp_path).changed
    assert tomlkit.parse(path.read_text()) == tomlkit.parse(USER_CODEX)
    assert "# my Codex settings" in path.read_text()


def test_gemini_uses_milliseconds_and_says_what_the_user_will_see(tmp_path: Path) -> None:
    rep = install("gemini", tmp_path, timeout=120)
    assert GEMINI_PROJECT_NOTE in rep.notes
    hooks = json.loads(config_path("gemini", tmp_path).read_text())["hooks"]
    before = hooks["BeforeTool"][0]
    assert before["matcher"] == "run_shell_command|replace|write_file"
    assert before["hooks"][0]["timeout"] == 120_000 and before["hooks"][0]["name"] == "agentshell"
    assert "--timeout 120" in before["hooks"][0]["command"]
    with pytest.raises(InstallError, match="no PermissionRequest"):
        install("gemini", tmp_path, mode="permission")


def test_a_broken_settings_file_is_left_alone_with_a_clear_error(tmp_path: Path) -> None:
    path = config_path("claude", tmp_path)
    path.parent.mkdir()
    path.write_text("{ not json")
    with pytest.raises(InstallError, match="not valid JSON"):
        install("claude", tmp_path)
    assert path.read_text() == "{ not json"
    cpath = config_path("codex", tmp_path)
    cpath.parent.mkdir()
    cpath.write_text("[[[ bad")
    with pytest.raises(InstallError, match="not valid TOML"):
        install("codex", tmp_path)


def test_user_scope_follows_the_vendors_home_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "cx"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cl"))
    assert config_path("codex", None) == tmp_path / "cx" / "config.toml"
    assert config_path("claude", None) == tmp_path / "cl" / "settings.json"


def test_cli_install_status_uninstall(tmp_path: Path) -> None:
    done = run_cli("install", "claude", "--project", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "installed in" in done.stdout and "PermissionRequest[Bash]" in done.stdout
    again = run_cli("install", "claude", "--project", str(tmp_path), cwd=tmp_path)
    assert "nothing changed" in again.stdout
    st = run_cli("status", "claude", "--project", str(tmp_path), cwd=tmp_path)
    assert st.returncode == 0 and "claude: installed in" in st.stdout
    gone = run_cli("uninstall", "claude", "--project", str(tmp_path), cwd=tmp_path)
    assert "removed from" in gone.stdout
    st = run_cli("status", "claude", "--project", str(tmp_path), cwd=tmp_path)
    assert "not installed" in st.stdout
    both = run_cli("install", "claude", "--project", str(tmp_path), "--user", cwd=tmp_path)
    assert both.returncode != 0 and "not both" in both.stderr


def test_codex_status_without_codex_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install("codex", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("AGENTSHELL_CODEX", raising=False)
    rep = status("codex", tmp_path)
    assert rep.entries and any("codex is not installed" in n for n in rep.notes)


def _codex() -> str | None:
    local = Path(__file__).parents[2] / ".vendor" / "node_modules" / ".bin" / "codex"
    return str(local) if local.exists() else shutil.which("codex")


def test_codex_status_asks_codex_and_reports_an_untrusted_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codex = _codex()
    if codex is None:
        pytest.skip("codex is not installed (tests/vendors/install.sh installs it)")
    home = tmp_path / "home"
    home.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.setenv("AGENTSHELL_CODEX", codex)
    install("codex", None, mode="pretooluse")
    rep = status("codex", None)
    said = "\n".join(rep.notes)
    assert "not trusted (untrusted), will NOT run" in said, said
    assert "/hooks" in said
    # nothing was written to make it trusted
    assert "trusted_hash" not in (home / "config.toml").read_text()


# A scripted `codex app-server` for the reader alone: it keeps the documented handshake
# (nothing but `initialize` before its response, then `initialized`) and writes what
# follows in one chunk, a notification and the hooks/list reply together, as a loaded
# machine delivers them.
FAKE_APP_SERVER = r"""
import json, sys, time
def read():
    return json.loads(sys.stdin.buffer.readline())
first = read()
assert first["method"] == "initialize", first
sys.stdout.write(json.dumps({"id": first["id"], "result": {}}) + "\n")
sys.stdout.flush()
second = read()
assert second == {"method": "initialized"}, second
third = read()
assert third["method"] == "hooks/list", third
MODE = sys.argv[1]
if MODE == "exit":
    sys.exit(0)
if MODE == "error":
    reply = {"id": third["id"], "error": {"code": -32600, "message": "nope"}}
else:
    hooks = [{"command": "agentshell hook codex", "trustStatus": "untrusted"}]
    reply = {"id": third["id"], "result": {"data": [{"cwd": "/p", "hooks": hooks}]}}
sys.stdout.write(
    "a log line, not JSON\n"
    + json.dumps({"method": "configWarning", "params": {}}) + "\n"
    + json.dumps(reply) + "\n"
    + json.dumps({"method": "remoteControl/status/changed", "params": {}}) + "\n"
)
sys.stdout.flush()
time.sleep(30)
"""


def _fake_codex(tmp_path: Path, mode: str) -> str:
    script = tmp_path / "app_server.py"
    script.write_text(FAKE_APP_SERVER)
    exe = tmp_path / "codex"
    exe.write_text(f"#!/bin/sh\nexec {sys.executable} {script} {mode}\n")
    exe.chmod(0o755)
    return str(exe)


def test_codex_hook_list_read_when_replies_arrive_in_one_chunk(tmp_path: Path) -> None:
    from agentshell.bridges.install.codex import list_hooks

    hooks = list_hooks(tmp_path, _fake_codex(tmp_path, "ok"), timeout=20)
    assert hooks == [{"command": "agentshell hook codex", "trustStatus": "untrusted"}]


@pytest.mark.parametrize(
    ("mode", "said"), [("error", "hooks/list failed"), ("exit", "ended before it listed")]
)
def test_codex_hook_list_failures_say_what_happened(tmp_path: Path, mode: str, said: str) -> None:
    from agentshell.bridges.install.codex import list_hooks

    with pytest.raises(InstallError, match=said):
        list_hooks(tmp_path, _fake_codex(tmp_path, mode), timeout=20)
