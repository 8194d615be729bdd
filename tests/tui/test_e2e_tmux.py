"""The real `agentshell tui` inside tmux 160x48, driven like an operator would.

An agent proposes through `agentshell run` (token from `agentshell agent add`), the
command shows in the sidebar (`tmux capture-pane`), one key approves it, its output
shows in the pane and `agentshell run` exits with the command's exit code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

BIN = Path(sys.executable).parent / "agentshell"


def poll(cond: Callable[[], bool], timeout: float, what: str, dump: Callable[[], str]) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}; screen:\n{dump()}")
        time.sleep(0.05)


def test_operator_approves_in_tmux(tmp_path: Path) -> None:
    server = f"as-e2e-{uuid.uuid4().hex[:8]}"
    data = tmp_path / "data"
    sock_dir = Path(f"/tmp/as-{uuid.uuid4().hex[:8]}")
    sock_dir.mkdir(mode=0o700)
    sock = sock_dir / "s.sock"
    project = tmp_path / "project"
    project.mkdir()
    home = tmp_path / "home"  # the pane's shell must not depend on the user's ~/.bashrc
    home.mkdir()
    env = {**os.environ, "AGENTSHELL_DIR": str(data), "TERM": "xterm-256color", "HOME": str(home)}
    env.pop("AGENTSHELL_SOCKET", None)
    # pytest-xdist workers export COLUMNS=80 LINES=24, which Textual takes over the
    # terminal's real size: the app must size itself from the tmux pane
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    tmux = ["tmux", "-L", server]

    def capture() -> str:
        r = subprocess.run(
            [*tmux, "capture-pane", "-p", "-t", "ui"], capture_output=True, text=True
        )
        return r.stdout

    def dump() -> str:
        size = subprocess.run(
            [*tmux, "display", "-p", "-t", "ui", "#{window_width}x#{window_height}"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        probe = {k: v for k, v in env.items() if k in ("COLUMNS", "LINES", "TERM")}
        return f"(tmux window {size}, env {probe})\n{capture()}"

    cmd = f"cd {project} && {BIN} tui --dir {data} --socket {sock}"
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "ui", "-x", "160", "-y", "48", cmd],
        check=True,
        env=env,
    )
    agent_run: subprocess.Popen[str] | None = None
    try:
        poll(lambda: "Approvals" in capture() and sock.exists(), 30, "the TUI", dump)
        add = subprocess.run(
            [
                str(BIN),
                "agent",
                "add",
                "bot",
                "-c",
                "run,read",
                "--dir",
                str(data),
                "--socket",
                str(sock),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
        assert add.returncode == 0, add.stderr
        token = add.stdout.strip().splitlines()[0]
        agent_run = subprocess.Popen(
            [
                str(BIN),
                "run",
                "--socket",
                str(sock),
                "--agent",
                "bot",
                "--",
                "echo e2e-$((40+2)); (exit 7)",
            ],
            env={**env, "AGENTSHELL_TOKEN": token},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        poll(lambda: "echo e2e-$((40+2)); (exit 7)" in capture(), 30, "the request", dump)
        assert "1 pending" in capture()
        subprocess.run([*tmux, "send-keys", "-t", "ui", "a"], check=True)
        out, err = agent_run.communicate(timeout=60)
        assert agent_run.returncode == 7, (out, err)
        assert "e2e-42" in out
        poll(lambda: "e2e-42" in capture(), 15, "the output in the pane", dump)
        poll(lambda: "0 pending" in capture(), 15, "an empty queue", dump)
        subprocess.run([*tmux, "send-keys", "-t", "ui", "q"], check=True)
        poll(
            lambda: (
                subprocess.run([*tmux, "has-session", "-t", "ui"], capture_output=True).returncode
                != 0
            ),
            20,
            "the TUI to quit",
            dump,
        )
    finally:
        if agent_run is not None and agent_run.poll() is None:
            agent_run.kill()
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        shutil.rmtree(sock_dir, ignore_errors=True)
