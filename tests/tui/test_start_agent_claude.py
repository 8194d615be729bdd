"""The real Claude Code (``.vendor/``, see tests/vendors/install.sh) started from the TUI
with ``agentshell tui --agent claude=ARGS``: its shell call reaches the approval queue
through the per-run hooks, the operator approves it in the app, Claude Code runs it.

Claude Code runs offline against the scripted Anthropic endpoint of tests/vendors, in a
scratch HOME and config dir; the pane's shell inherits that environment.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentshell.tui.agents_start import parse_agent, run_dir
from agentshell.tui.app import AgentShellApp
from agentshell.tui.widgets.sidebar.approvals import ApprovalQueue
from tests.polling import until
from tests.vendors.clis import BIN, Claude
from tests.vendors.endpoints import Text

WAIT = 90.0  # Claude Code's start, on two shared cores


@pytest.fixture
def root() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="asc-", dir="/tmp"))  # short socket paths
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


async def test_real_claude_started_from_the_tui_asks_the_queue_and_runs_when_approved(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentshell.tui.run import run_tui

    Claude.require()
    claude = Claude(root)
    script = [claude.shell_call("echo supervised > made.txt"), Text("Made it.")]
    seen: dict[str, Any] = {}
    with claude.endpoint(script) as endpoint:
        env = claude.env(endpoint)
        for key in ("HOME", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "CLAUDE_CONFIG_DIR"):
            monkeypatch.setenv(key, env[key])
        for key in [k for k in env if k.startswith(("DISABLE_", "CLAUDE_CODE_"))]:
            monkeypatch.setenv(key, env[key])
        monkeypatch.setenv("PATH", env["PATH"])
        assert shutil.which("claude") == str(BIN / "claude")
        sock = root / "run" / "c.sock"

        async def pilot(app: AgentShellApp) -> None:
            co = app.backend.coordinator  # type: ignore[attr-defined]
            queue = app.query_one(ApprovalQueue)

            def item() -> Any:
                found = [a for a in queue.items if a.agent_id.startswith("claude-")]
                return found[0] if found else None

            got = await until(item, timeout=WAIT, what="Claude Code's call in the queue")
            seen["item"] = got
            assert not (claude.project / "made.txt").exists()  # it waits for the human
            queue.focus()
            await app.run_action("approve")
            await until(
                lambda: (claude.project / "made.txt").exists(), timeout=WAIT, what="made.txt"
            )
            await until(lambda: endpoint.tool_result() is not None, timeout=WAIT)

            def ran() -> list[Any]:  # recorded by the PostToolUse hook
                return [
                    e.payload
                    for e in co.session.iter_events()
                    if e.event_type == "command_executed"
                    and e.payload.get("approval_id") == got.approval_id
                ]

            seen["ran"] = await until(ran, timeout=WAIT, what="the run recorded")

        await run_tui(
            session="c",
            data_dir=root / "data",
            socket_path=sock,
            project_dir=claude.project,
            headless_pilot=pilot,
            agents=[
                parse_agent(
                    "claude=-p 'Make the file.' --output-format json --model claude-sonnet-4-5"
                )
            ],
        )
        result = endpoint.tool_result()
    item = seen["item"]
    assert item.command == "echo supervised > made.txt"
    assert item.external  # Claude Code runs it, AgentShell only decides
    (ran,) = seen["ran"]
    assert ran["command"] == "echo supervised > made.txt" and ran["exit_code"] == 0
    assert (claude.project / "made.txt").read_text().strip() == "supervised"
    assert result is not None and result.error is False, result
    # the hooks came from the per-run settings, not from the project or the user
    assert not (claude.project / ".claude").exists()
    assert not (claude.config_dir / "settings.json").exists()
    assert (run_dir(sock, "claude") / "claude-settings.json").exists()
