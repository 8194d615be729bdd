"""Headless screenshots of the demo and of vendors' agents (``agentshell screenshots``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentshell.tui.app import AgentShellApp
from agentshell.tui.run import run_tui


async def _until(cond: Callable[[], bool], timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            return False
        await asyncio.sleep(0.05)
    return True


async def take_screenshots(out_dir: Path, tmp: Path, *, timeout: float = 60.0) -> list[Path]:
    saved: list[Path] = []

    async def pilot(app: AgentShellApp) -> None:
        def ready() -> bool:
            st = app.backend.state
            queued = [a for a in st["pending_approvals"].values() if a.status == "queued"]
            return len(queued) >= 2 and bool(st["active_conflicts"])

        if not await _until(ready, timeout):
            raise RuntimeError("the demo did not reach its interesting state in time")
        app.clear_notifications()
        await asyncio.sleep(1.0)  # let the panes paint the latest output
        app.refresh_state()
        await asyncio.sleep(0.2)
        saved.append(Path(app.save_screenshot("main.svg", str(out_dir))))
        await app.run_action("edit")
        await asyncio.sleep(0.5)
        saved.append(Path(app.save_screenshot("approval-editor.svg", str(out_dir))))
        await app.run_action("screen.dismiss")
        await app.run_action("show_tab('conflicts')")
        await asyncio.sleep(0.3)
        saved.append(Path(app.save_screenshot("conflicts.svg", str(out_dir))))

    await run_tui(
        session="demo",
        data_dir=tmp / "data",
        socket_path=tmp / "demo.sock",
        demo=True,
        headless_pilot=pilot,
    )
    return saved


#: A stand-in for aider in the screenshot: aider's own banner and prompt text, which
#: the real ``agentshell wrap --profile aider`` recognises (docs/wrap.md). The real
#: aider needs a model; tests/bridges/test_wrap_aider.py runs it.
_AIDER_STANDIN = """#!{python}
import sys
print("Aider v0.86.2")
print("Main model: gpt-4o with diff edit format")
print("Git repo: .git with 12 files")
print()
print("To clean out the old objects and rebuild:")
print()
print("make clean && make -j4")
print()
sys.stdout.write("Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]: ")
sys.stdout.flush()
answer = sys.stdin.readline()
print("Running make clean && make -j4" if answer.strip().lower().startswith("y") else "Skipped")
"""


def _hook_payload(vendor: str, session_id: str, cwd: str, command: str) -> dict[str, object]:
    if vendor == "claude":
        return {
            "session_id": session_id,
            "transcript_path": f"{cwd}/.transcript.jsonl",
            "cwd": cwd,
            "permission_mode": "default",
            "hook_event_name": "PermissionRequest",
            "tool_name": "Bash",
            "tool_input": {"command": command, "description": "Clean the build"},
        }
    return {
        "session_id": session_id,
        "cwd": cwd,
        "hook_event_name": "BeforeTool",
        "tool_name": "run_shell_command",
        "tool_input": {"command": command, "dir_path": cwd},
    }


async def _hook_call(vendor: str, event: str, sock: Path, payload: dict[str, object]) -> Any:
    """Run ``agentshell hook`` as the vendor would, the payload on its stdin; it waits
    for the operator's decision (the caller ends it)."""
    from agentshell.bridges.hooks.entry import RUN_CODE

    argv = [sys.executable, "-c", RUN_CODE, "--vendor", vendor, "--event", event]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        "--socket",
        str(sock),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(payload).encode())
    await proc.stdin.drain()
    proc.stdin.close()
    return proc


async def take_vendor_screenshot(out_dir: Path, tmp: Path, *, timeout: float = 60.0) -> Path:
    """``vendors.svg``: the queue holding a Claude Code and a Gemini CLI tool call (through
    the real ``agentshell hook``) and an aider prompt (through the real ``agentshell
    wrap``, started in a pane as the palette's "Start a supervised agent: aider" does)."""
    from agentshell.tui.agents_start import AgentSpec, start_agent

    out_dir.mkdir(parents=True, exist_ok=True)
    project = tmp / "vendors-project"
    project.mkdir(parents=True, exist_ok=True)
    standin = tmp / "aider"
    standin.write_text(_AIDER_STANDIN.format(python=sys.executable))
    standin.chmod(0o755)
    sock = tmp / "vendors-run" / "v.sock"  # its own directory, made private by the server
    saved: list[Path] = []
    hooks: list[Any] = []

    async def pilot(app: AgentShellApp) -> None:
        async def wait_queued(n: int) -> None:
            if not await _until(lambda: _queued(app) >= n, timeout):
                raise RuntimeError("the vendors' items did not reach the queue in time")

        cwd = str(project)
        calls = [
            ("claude", "PermissionRequest", "3f2a9c1e-5b7d-4e21-9a0c-8d4be3f2a9c1", "rm -rf build"),
            ("gemini", "BeforeTool", "7c41d0aa-2e9f-4b83-b1d6-c0ffee7c41d0", "npm test"),
        ]
        try:
            for vendor, event, sid, command in calls:
                payload = _hook_payload(vendor, sid, cwd, command)
                hooks.append(await _hook_call(vendor, event, sock, payload))
                # one at a time, so the queue shows them in this order
                await wait_queued(len(hooks))
            await start_agent(
                AgentSpec("aider"), str(sock), app.backend.state["terminals"], cwd=cwd,
                which=lambda _name: str(standin),
            )  # fmt: skip
            await wait_queued(3)
            app.clear_notifications()
            await asyncio.sleep(1.0)  # let the panes paint the latest output
            app.refresh_state()
            await asyncio.sleep(0.2)
            saved.append(Path(app.save_screenshot("vendors.svg", str(out_dir))))
        finally:
            for proc in hooks:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()

    await run_tui(
        session="vendors",
        data_dir=tmp / "vendors-data",
        socket_path=sock,
        project_dir=project,
        headless_pilot=pilot,
    )
    return saved[0]


def _queued(app: AgentShellApp) -> int:
    pending = app.backend.state["pending_approvals"].values()
    return sum(1 for a in pending if a.status == "queued")
