"""The real Codex and Gemini CLI (``.vendor/``, see tests/vendors/install.sh) and aider
(``$AGENTSHELL_AIDER``, see docs/wrap.md) started from the TUI with ``agentshell tui
--agent VENDOR=ARGS``: the per-run hooks (Codex: ``-c`` session flags; Gemini CLI: a
per-run ``GEMINI_CLI_HOME``) or ``agentshell wrap`` (aider) put the shell call in the
TUI's queue, the operator approves it in the app, and the CLI runs it.

Each CLI runs offline against a scripted endpoint (tests/vendors; aider's from
tests/bridges), in a scratch HOME; the pane's shell inherits that environment.
"""

from __future__ import annotations

import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentshell.tui.agents_start import parse_agent
from agentshell.tui.app import AgentShellApp
from agentshell.tui.widgets.sidebar.approvals import ApprovalQueue
from tests.bridges.test_wrap_aider import AIDER, FIRST
from tests.bridges.test_wrap_aider import model as model  # the scripted chat endpoint
from tests.polling import until
from tests.vendors.clis import BIN, Codex, Gemini, Vendor
from tests.vendors.endpoints import Text

WAIT = 120.0  # a CLI's start, on two shared cores


@pytest.fixture
def root() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="asg-", dir="/tmp"))  # short socket paths
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def pane_output(co: Any, terminal: str) -> str:
    return "".join(
        bytes(e.payload["data"]).decode(errors="replace")
        for e in co.session.iter_events()
        if e.event_type == "terminal_output" and e.payload.get("terminal") == terminal
    )


async def supervised_run(
    vendor: Vendor, args: str, root: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Start ``vendor`` with ``tui --agent NAME=ARGS``, approve its first queued shell
    call in the app, wait for the file it makes; what was seen on the way."""
    from agentshell.tui.run import run_tui

    script = [vendor.shell_call("echo supervised > made.txt"), Text("Made it.")]
    seen: dict[str, Any] = {}
    with vendor.endpoint(script) as endpoint:
        vendor.prepare(endpoint)
        for key, value in vendor.env(endpoint).items():
            if key not in ("TERM", "NO_COLOR"):
                monkeypatch.setenv(key, value)
        assert shutil.which(vendor.binary) == str(BIN / vendor.binary)

        async def pilot(app: AgentShellApp) -> None:
            co = app.backend.coordinator  # type: ignore[attr-defined]
            queue = app.query_one(ApprovalQueue)

            def item() -> Any:
                found = [a for a in queue.items if a.agent_id.startswith(f"{vendor.name}-")]
                return found[0] if found else None

            try:
                seen["item"] = await until(item, timeout=WAIT, what=f"{vendor.name} in the queue")
            except AssertionError as exc:
                raise AssertionError(f"{exc}; the pane showed:\n{pane_output(co, vendor.name)}")
            seen["before"] = (vendor.project / "made.txt").exists()
            queue.focus()
            await app.run_action("approve")
            await until(
                lambda: (vendor.project / "made.txt").exists(), timeout=WAIT, what="made.txt"
            )
            await until(lambda: endpoint.tool_result() is not None, timeout=WAIT)
            seen["output"] = pane_output(co, vendor.name)

        await run_tui(
            session="v",
            data_dir=root / "data",
            socket_path=root / "run" / "v.sock",
            project_dir=vendor.project,
            headless_pilot=pilot,
            agents=[parse_agent(f"{vendor.name}={args}")],
        )
        seen["result"] = endpoint.tool_result()
    return seen


async def test_real_codex_started_from_the_tui_waits_in_the_queue(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Codex.require()
    codex = Codex(root)
    args = "exec --skip-git-repo-check --color never --dangerously-bypass-hook-trust 'Go on.'"
    seen = await supervised_run(codex, args, root, monkeypatch)
    assert seen["item"].command == "echo supervised > made.txt"
    assert seen["before"] is False  # it waited for the human
    assert (codex.project / "made.txt").read_text().strip() == "supervised"
    # Codex itself, asked before it started, said our session-flag hooks are untrusted
    # (this run bypasses trust for automation; an interactive one would skip them)
    flat = "".join(seen["output"].split())
    assert "AgentShellhooksarenottrusted" in flat, seen["output"]
    assert "type/hooksinCodex" in flat
    # nothing written to the user's or the project's Codex config
    assert "agentshell" not in codex.config.read_text()
    assert not (codex.project / ".codex").exists()


async def test_real_gemini_cli_started_from_the_tui_waits_in_the_queue(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Gemini.require()
    gemini = Gemini(root)
    args = "-p 'Go on.' -m gemini-2.5-flash --approval-mode yolo -o json"
    seen = await supervised_run(gemini, args, root, monkeypatch)
    assert seen["item"].command == "echo supervised > made.txt"
    assert seen["before"] is False
    assert (gemini.project / "made.txt").read_text().strip() == "supervised"
    assert "agentshell" not in gemini.user_settings.read_text()
    assert not (gemini.project / ".gemini").exists()


async def test_real_aider_started_from_the_tui_waits_in_the_queue(
    root: Path, monkeypatch: pytest.MonkeyPatch, model: tuple[str, list[dict[str, Any]]]
) -> None:
    from agentshell.tui.run import run_tui

    if AIDER is None:
        pytest.skip("aider is not installed (set AGENTSHELL_AIDER)")
    base, requests = model
    bin_dir, project = root / "bin", root / "project"
    bin_dir.mkdir()
    project.mkdir()
    (bin_dir / "aider").symlink_to(AIDER)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(root))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    args = ["--openai-api-base", base, "--openai-api-key", "sk-test"]
    args += ["--model", "openai/test-model", "--edit-format", "diff", "--no-stream"]
    args += ["--no-git", "--no-show-model-warnings", "--no-check-update"]
    args += ["--analytics-disable", "--no-show-release-notes", "--no-pretty"]
    args += ["--no-fancy-input", "--message", "create made_by_aider.txt"]
    made = project / "made_by_aider.txt"
    seen: dict[str, Any] = {}

    async def pilot(app: AgentShellApp) -> None:
        co = app.backend.coordinator  # type: ignore[attr-defined]
        queue = app.query_one(ApprovalQueue)

        def item() -> Any:
            found = [a for a in queue.items if a.agent_id.startswith("aider-")]
            return found[0] if found else None

        try:
            seen["item"] = await until(item, timeout=WAIT, what="aider in the queue")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the pane showed:\n{pane_output(co, 'aider')}")
        seen["before"] = made.exists()
        queue.focus()
        await app.run_action("approve")
        await until(made.exists, timeout=WAIT, what="aider running the approved command")

    await run_tui(
        session="a",
        data_dir=root / "data",
        socket_path=root / "run" / "a.sock",
        project_dir=project,
        headless_pilot=pilot,
        agents=[parse_agent(f"aider={shlex.join(args)}")],
    )
    item = seen["item"]
    assert item.command == "echo hello > made_by_aider.txt" and "echo hello" in FIRST
    assert item.terminal == "aider" and item.external and not item.editable
    assert seen["before"] is False
    assert made.read_text().strip() == "hello"
    assert requests and requests[0]["model"] == "test-model"
