"""Real aider (aider-chat) under `agentshell wrap --profile aider`, offline: its model is
a scripted OpenAI-compatible chat endpoint on loopback whose first answer suggests one
shell command. Skipped when no aider is installed ($AGENTSHELL_AIDER or `aider` on
PATH; `pip install aider-chat` in a venv of its own)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.polling import until

from .conftest import Served
from .test_wrap import queued

AIDER = os.environ.get("AGENTSHELL_AIDER") or shutil.which("aider")
pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(AIDER is None, reason="aider is not installed (set AGENTSHELL_AIDER)"),
]

FIRST = "I will create the file.\n\n```bash\necho hello > made_by_aider.txt\n```\n"


@pytest.fixture
def model() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A chat-completions endpoint: the first request gets FIRST, later ones 'Done.'."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            seen.append(body)
            text = FIRST if len(seen) == 1 else "Done."
            out = json.dumps(
                {
                    "id": f"c{len(seen)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "test-model",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()


def spawn_aider(served: Served, token: str, base: str, cwd: Path) -> Any:
    assert AIDER is not None
    env = dict(
        os.environ,
        AGENTSHELL_AGENT="aider",
        AGENTSHELL_TOKEN=token,
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    env.pop("AGENTSHELL_TERMINAL", None)
    aider = [AIDER, "--openai-api-base", base, "--openai-api-key", "sk-test"]
    aider += ["--model", "openai/test-model", "--edit-format", "diff", "--no-stream"]
    aider += ["--no-git", "--no-show-model-warnings", "--no-check-update"]
    aider += ["--analytics-disable", "--no-show-release-notes", "--no-pretty"]
    aider += ["--no-fancy-input", "--message", "create made_by_aider.txt"]
    wrap = ["-m", "agentshell", "wrap", "--socket", str(served.socket), "--profile", "aider"]
    return pexpect.spawn(
        sys.executable,
        [*wrap, "--", *aider],
        env=env,
        cwd=str(cwd),
        dimensions=(40, 160),
        timeout=60,
    )


@pytest.mark.parametrize("approve", [True, False], ids=["approved", "rejected"])
async def test_real_aider_runs_its_shell_command_only_when_approved(
    served: Served, tmp_path: Path, model: tuple[str, list[dict[str, Any]]], approve: bool
) -> None:
    base, seen = model
    token = await served.coordinator.add_agent("aider", ["read", "run"])
    op = await served.operator()
    child = spawn_aider(served, token, base, tmp_path)
    made = tmp_path / "made_by_aider.txt"
    try:
        item = await queued(op, "aider")
        assert item["command"] == "echo hello > made_by_aider.txt"
        assert item["external"] is True and item["editable"] is False
        assert not made.exists()  # aider waits for the queue
        if approve:
            await op.approve(item["approval_id"])
            await until(made.exists, 60, what="aider running the approved command")
            assert made.read_text().strip() == "hello"
        else:
            await op.reject(item["approval_id"], "not in this repo")
            await asyncio.to_thread(child.expect, "not in this repo", 60)
        await asyncio.to_thread(child.expect, pexpect.EOF, 60)
    finally:
        child.close(force=True)
        await op.close()
    assert made.exists() is approve
    assert seen and seen[0]["model"] == "test-model"
    types = [e.event_type for e in served.session.iter_events()]
    assert "command_executed" not in types  # aider ran it, not the coordinator
