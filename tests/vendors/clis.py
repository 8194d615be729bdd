"""The real vendor CLIs, each run offline against a scripted endpoint in a scratch home.

``tests/vendors/install.sh`` installs the pinned CLIs into ``.vendor/`` (git-ignored).
Each vendor class below knows, for its CLI: where it is, the environment and config
that keep it offline (no telemetry, no auto-update, no onboarding, no IDE), where its
hooks are configured, its tool names for a shell call and a file write, and how to run
one non-interactive prompt (``claude -p``, ``codex exec``, ``gemini -p``).

Every run gets its own ``HOME`` and config directory under the test's ``root``, and an
environment built from nothing but ``PATH``, locale and the ``AGENTSHELL_*`` variables
(so the developer's own keys, settings and logins are never read).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.vendors.endpoints import (
    AnthropicEndpoint,
    GeminiEndpoint,
    ResponsesEndpoint,
    ScriptedEndpoint,
    ToolCall,
    Turn,
)

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".vendor" / "node_modules" / ".bin"
TRIVIAL_HOOK = Path(__file__).with_name("trivial_hook.py")
INSTALL_HINT = "run tests/vendors/install.sh (it needs npm and the npm registry)"


@dataclass
class Run:
    """One finished CLI run."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"$ {' '.join(self.argv[:3])} ... -> {self.returncode}\n"
            f"--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"
        )


def base_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    # the interpreter's bin first (the ``agentshell`` an installed hook calls), then the
    # vendor CLIs (``hooks status codex`` asks ``codex app-server``)
    path = os.pathsep.join(
        [str(Path(sys.executable).parent), str(BIN), os.environ.get("PATH", "/usr/bin:/bin")]
    )
    env = {
        "PATH": path,
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "NO_BROWSER": "true",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith("AGENTSHELL_")})
    env.update(extra or {})
    return env


def hook_command(
    vendor: str, record: Path, decisions: dict[str, tuple[str, str]] | None = None
) -> str:
    """A shell command line running the trivial test hook (see trivial_hook.py):
    it records each payload in ``record`` and decides each call as ``decisions`` say."""
    parts = [sys.executable, str(TRIVIAL_HOOK), vendor, str(record)]
    if decisions is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
        table = record.parent / f"decisions-{len(list(record.parent.glob('decisions-*')))}.json"
        table.write_text(json.dumps(decisions))
        parts.append(str(table))
    return " ".join(_quote(p) for p in parts)


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


@dataclass
class Vendor:
    """A real CLI set up in ``root`` (``root/home`` is its HOME, ``root/project`` its cwd)."""

    root: Path
    home: Path = field(init=False)
    project: Path = field(init=False)

    name: ClassVar[str]
    binary: ClassVar[str]
    shell_tool: ClassVar[str]
    endpoint_class: ClassVar[type[ScriptedEndpoint]]

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.project = self.root / "project"
        self.home.mkdir(parents=True, exist_ok=True)
        self.project.mkdir(parents=True, exist_ok=True)
        (self.home / ".bashrc").write_text("")

    @classmethod
    def path(cls) -> Path:
        return BIN / cls.binary

    @classmethod
    def require(cls) -> None:
        """Skip the calling test, saying why, when this CLI is not installed."""
        if not cls.path().exists():
            pytest.skip(f"{cls.name} CLI not installed in {BIN}: {INSTALL_HINT}")

    def endpoint(self, script: list[Turn]) -> ScriptedEndpoint:
        return self.endpoint_class(script)

    def shell_call(self, command: str) -> ToolCall:
        raise NotImplementedError

    def write_call(self, path: str, content: str) -> ToolCall:
        raise NotImplementedError

    def argv(self, prompt: str) -> list[str]:
        raise NotImplementedError

    def env(self, endpoint: ScriptedEndpoint) -> dict[str, str]:
        raise NotImplementedError

    def prepare(self, endpoint: ScriptedEndpoint) -> None:
        """Write the config the CLI needs to reach ``endpoint`` (before each run)."""

    def install_trivial_hooks(self, hooks: dict[str, str]) -> None:
        """Configure ``{event: command}`` hooks for every tool, the vendor's own way."""
        raise NotImplementedError

    def run(
        self,
        prompt: str,
        endpoint: ScriptedEndpoint,
        *,
        timeout: float = 120,
        env: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
    ) -> Run:
        self.prepare(endpoint)
        argv = [str(self.path()), *self.argv(prompt), *(extra_args or [])]
        full_env = self.env(endpoint)
        full_env.update(env or {})
        proc = subprocess.run(
            argv,
            cwd=self.project,
            env=full_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Run(argv, proc.returncode, proc.stdout, proc.stderr)


# ------------------------------------------------------------------ Claude Code
@dataclass
class Claude(Vendor):
    name: ClassVar[str] = "claude"
    binary: ClassVar[str] = "claude"
    shell_tool: ClassVar[str] = "Bash"
    endpoint_class: ClassVar[type[ScriptedEndpoint]] = AnthropicEndpoint

    @property
    def config_dir(self) -> Path:
        return self.home / ".claude"

    @property
    def project_settings(self) -> Path:
        return self.project / ".claude" / "settings.json"

    def shell_call(self, command: str) -> ToolCall:
        return ToolCall("Bash", {"command": command, "description": "Run the command"})

    def write_call(self, path: str, content: str) -> ToolCall:
        return ToolCall("Write", {"file_path": path, "content": content})

    def edit_call(self, path: str, old: str, new: str) -> ToolCall:
        return ToolCall("Edit", {"file_path": path, "old_string": old, "new_string": new})

    def argv(self, prompt: str) -> list[str]:
        return ["-p", prompt, "--output-format", "json", "--model", "claude-sonnet-4-5"]

    def env(self, endpoint: ScriptedEndpoint) -> dict[str, str]:
        return base_env(
            self.home,
            {
                "ANTHROPIC_BASE_URL": endpoint.url,
                "ANTHROPIC_API_KEY": "sk-ant-scripted-endpoint",
                "CLAUDE_CONFIG_DIR": str(self.config_dir),
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                "DISABLE_AUTOUPDATER": "1",
                "DISABLE_TELEMETRY": "1",
                "DISABLE_ERROR_REPORTING": "1",
                "CLAUDE_CODE_IDE_SKIP_AUTO_INSTALL": "1",
            },
        )

    def install_trivial_hooks(self, hooks: dict[str, str]) -> None:
        settings = {
            "hooks": {
                event: [{"matcher": "*", "hooks": [{"type": "command", "command": cmd}]}]
                for event, cmd in hooks.items()
            }
        }
        self.project_settings.parent.mkdir(parents=True, exist_ok=True)
        self.project_settings.write_text(json.dumps(settings, indent=2))


# -------------------------------------------------------------------- Codex CLI
CODEX_MODEL = "gpt-5.5"  # a model Codex knows: its metadata gives it apply_patch


@dataclass
class Codex(Vendor):
    name: ClassVar[str] = "codex"
    binary: ClassVar[str] = "codex"
    shell_tool: ClassVar[str] = "exec_command"
    endpoint_class: ClassVar[type[ScriptedEndpoint]] = ResponsesEndpoint
    hooks_toml: str = ""
    bypass_hook_trust: bool = True

    @property
    def codex_home(self) -> Path:
        return self.home / ".codex"

    @property
    def config(self) -> Path:
        return self.codex_home / "config.toml"

    def shell_call(self, command: str) -> ToolCall:
        return ToolCall("exec_command", {"cmd": command})

    def patch_call(self, patch: str) -> ToolCall:
        return ToolCall("apply_patch", patch)

    def write_call(self, path: str, content: str) -> ToolCall:
        lines = "".join(f"+{line}\n" for line in content.splitlines())
        return self.patch_call(f"*** Begin Patch\n*** Add File: {path}\n{lines}*** End Patch\n")

    def argv(self, prompt: str) -> list[str]:
        args = ["exec", "--skip-git-repo-check", "--color", "never"]
        if self.bypass_hook_trust:
            args.append("--dangerously-bypass-hook-trust")
        return [*args, prompt]

    def env(self, endpoint: ScriptedEndpoint) -> dict[str, str]:
        return base_env(
            self.home, {"CODEX_HOME": str(self.codex_home), "SCRIPTED_API_KEY": "sk-scripted"}
        )

    def provider_toml(self, endpoint: ScriptedEndpoint) -> str:
        return (
            f'model = "{CODEX_MODEL}"\n'
            'model_provider = "scripted"\n'
            'approval_policy = "never"\n'
            'sandbox_mode = "danger-full-access"\n'
            "check_for_update_on_startup = false\n"
            "\n[analytics]\nenabled = false\n"
            "[model_providers.scripted]\n"
            'name = "scripted"\n'
            f'base_url = "{endpoint.url}/v1"\n'
            'wire_api = "responses"\n'
            'env_key = "SCRIPTED_API_KEY"\n'
            "request_max_retries = 0\n"
            "stream_max_retries = 0\n"
        )

    def prepare(self, endpoint: ScriptedEndpoint) -> None:
        """Point config.toml at ``endpoint``, keeping whatever else is in it (the hooks
        an installer merged in): the provider's top-level keys go first, its table last."""
        import re

        self.codex_home.mkdir(parents=True, exist_ok=True)
        old = self.config.read_text() if self.config.exists() else ""
        if "[model_providers.scripted]" in old:
            text = re.sub(r'^base_url = ".*"$', f'base_url = "{endpoint.url}/v1"', old, flags=re.M)
        else:
            head, table = self.provider_toml(endpoint).split("\n\n", 1)
            text = f"{head}\n\n{old}\n\n{table}"
        self.config.write_text(text + self.hooks_toml)
        self.hooks_toml = ""

    def install_trivial_hooks(self, hooks: dict[str, str]) -> None:
        for event, cmd in hooks.items():
            self.hooks_toml += (
                f'\n[[hooks.{event}]]\nmatcher = ".*"\n'
                f'[[hooks.{event}.hooks]]\ntype = "command"\ncommand = {json.dumps(cmd)}\n'
            )


# ------------------------------------------------------------------- Gemini CLI
@dataclass
class Gemini(Vendor):
    name: ClassVar[str] = "gemini"
    binary: ClassVar[str] = "gemini"
    shell_tool: ClassVar[str] = "run_shell_command"
    endpoint_class: ClassVar[type[ScriptedEndpoint]] = GeminiEndpoint
    folder_trust: bool = False  # on: Gemini CLI honours trusted folders (none is trusted)

    @property
    def user_settings(self) -> Path:
        return self.home / ".gemini" / "settings.json"

    def shell_call(self, command: str) -> ToolCall:
        return ToolCall("run_shell_command", {"command": command, "description": "Run it"})

    def write_call(self, path: str, content: str) -> ToolCall:
        return ToolCall("write_file", {"file_path": path, "content": content})

    def edit_call(self, path: str, old: str, new: str) -> ToolCall:
        return ToolCall(
            "replace",
            {"file_path": path, "old_string": old, "new_string": new, "instruction": "edit"},
        )

    def argv(self, prompt: str) -> list[str]:
        # yolo: Gemini's own confirmation is off, so what decides is the BeforeTool hook
        return ["-p", prompt, "-m", "gemini-2.5-flash", "--approval-mode", "yolo", "-o", "json"]

    def env(self, endpoint: ScriptedEndpoint) -> dict[str, str]:
        return base_env(
            self.home,
            {
                "GEMINI_API_KEY": "scripted-endpoint-key",
                "GOOGLE_GEMINI_BASE_URL": endpoint.url,
                "GEMINI_CLI_NO_RELAUNCH": "true",
            },
        )

    OFFLINE: ClassVar[dict[str, Any]] = {
        "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
        "general": {
            "disableAutoUpdate": True,
            "disableUpdateNag": True,
            "enableAutoUpdate": False,
            "enableAutoUpdateNotification": False,
        },
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "ide": {"enabled": False},
    }

    def prepare(self, endpoint: ScriptedEndpoint) -> None:
        self.write_offline_settings()

    def write_offline_settings(self) -> None:
        """Merge the offline settings into the user settings (keeps installed hooks)."""
        self.user_settings.parent.mkdir(parents=True, exist_ok=True)
        current: dict[str, Any] = {}
        if self.user_settings.exists():
            current = json.loads(self.user_settings.read_text())
        for key, value in self.OFFLINE.items():
            merged = dict(current.get(key) or {})
            merged.update(value)
            current[key] = merged
        current["security"]["folderTrust"] = {"enabled": self.folder_trust}
        self.user_settings.write_text(json.dumps(current, indent=2))

    def install_trivial_hooks(self, hooks: dict[str, str]) -> None:
        self.write_offline_settings()
        current = json.loads(self.user_settings.read_text())
        current["hooks"] = {
            event: [{"matcher": ".*", "hooks": [{"type": "command", "command": cmd}]}]
            for event, cmd in hooks.items()
        }
        self.user_settings.write_text(json.dumps(current, indent=2))


VENDORS: dict[str, type[Vendor]] = {"claude": Claude, "codex": Codex, "gemini": Gemini}
PRE_TOOL = {"claude": "PreToolUse", "codex": "PreToolUse", "gemini": "BeforeTool"}
POST_TOOL = {"claude": "PostToolUse", "codex": "PostToolUse", "gemini": "AfterTool"}
