"""Headless screenshots of the demo (``agentshell screenshots``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

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
