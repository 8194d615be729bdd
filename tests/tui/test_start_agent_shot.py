"""screenshots/vendors.svg (``agentshell screenshots``): the queue holds tool calls of
Claude Code and Gemini CLI (through the real hook) and an aider prompt (through the
real wrapper, in the pane the start-agent path opened)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from agentshell.tui.shots import take_vendor_screenshot


async def test_the_vendors_screenshot_shows_three_vendors_in_the_queue() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="asvs-", dir="/tmp"))  # short socket path
    try:
        svg = (await take_vendor_screenshot(tmp / "out", tmp / "work", timeout=60)).read_text()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = svg.replace("&#160;", " ")
    assert "Approvals · 3 pending" in text
    for agent in ("claude-e3f2a9c1", "gemini-ee7c41d0", "aider-"):
        assert agent in text, agent
    for command in ("rm -rf build", "npm test", "make clean &amp;&amp; make -j4"):
        assert command in text, command
    assert "Run shell command? (Y)es/(N)o" in text  # aider's prompt, in its pane
