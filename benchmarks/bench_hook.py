"""The vendor hook's round trip, beside a bare interpreter started the same way.

A real ``agentshell serve`` runs with an allow rule; the vendor's way of calling a
hook is copied: ``sh -c '<command>'`` with the hook's JSON on stdin, waiting for it to
exit. Measured, interleaved in one run:

* anchor: ``sh -c '<python> -c pass'`` (the same payload on stdin);
* a rule-matched shell call (``echo ...`` under an allow rule): connect, hello, an
  external approval item queued and approved by the rule, the answer;
* a read (``Read``): no opinion, answered without the coordinator.

Prints p50/p99 of each and the ratio to the anchor (goal: the rule-matched call
<= 1.5x the bare interpreter at p50).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 60


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def _time(cmd: str, stdin: bytes) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(["sh", "-c", cmd], input=stdin, capture_output=True, check=False)
    dt = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{cmd} failed: {done.stderr.decode()}")
    return dt


def _payload(tool: str, tool_input: dict[str, str]) -> bytes:
    return json.dumps(
        {
            "session_id": "516f6486-7f37-4f42-a4cc-f965826dd686",
            "cwd": os.getcwd(),
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": tool_input,
            "tool_use_id": "toolu_bench",
        }
    ).encode()


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="as-bh-", dir="/tmp"))
    sock = root / "run" / "b.sock"
    (root / "run").mkdir(mode=0o700)
    py = shlex.quote(sys.executable)
    server = subprocess.Popen(
        [sys.executable, "-m", "agentshell", "serve", "--dir", str(root / "data"),
         "--session", "bench", "--socket", str(sock), "--project", str(root), "--no-user-rc"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        token = sock.with_name(sock.name + ".operator")
        deadline = time.monotonic() + 60
        while not (sock.exists() and token.exists()):
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("agentshell serve did not start")
            time.sleep(0.05)
        from agentshell.client.sync import SyncAgentClient

        with SyncAgentClient.connect(sock, operator=True) as op:
            op.request("rule_add", action="allow", kind="prefix", pattern="echo ")
        from agentshell.bridges.install import hook_command

        hook = hook_command("claude", "PreToolUse", 600, sock)  # as hooks install writes it
        cases = {
            "python -c pass (anchor)": (f"{py} -c pass", _payload("Bash", {"command": "echo hi"})),
            "hook: rule-matched shell call": (hook, _payload("Bash", {"command": "echo hi"})),
            "hook: a read (no opinion)": (hook, _payload("Read", {"file_path": "/etc/hostname"})),
        }
        for cmd, stdin in cases.values():  # warm the page cache and the agent's registration
            _time(cmd, stdin)
        times: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(ROUNDS):
            for name, (cmd, stdin) in cases.items():
                times[name].append(_time(cmd, stdin))
        base50 = _pct(times["python -c pass (anchor)"], 0.5)
        base99 = _pct(times["python -c pass (anchor)"], 0.99)
        print(f"{ROUNDS} rounds, each started as the vendors do (sh -c, JSON on stdin)")
        for name, xs in times.items():
            p50, p99 = _pct(xs, 0.5), _pct(xs, 0.99)
            print(
                f"  {name:<32} p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms"
                f"   ({p50 / base50:.2f}x / {p99 / base99:.2f}x the anchor)"
            )
        ratio = _pct(times["hook: rule-matched shell call"], 0.5) / base50
        print(f"rule-matched p50 / bare interpreter p50: {ratio:.2f}x (goal <= 1.5x)")
        # the coordinator's part of it, from this process: hello, then the external
        # approval a rule approves (queued, decided, executing, executed: each durable)
        from agentshell.bridges.hooks.wire import Client

        token_text = token.read_text().strip()
        hello, run = [], []
        for _ in range(ROUNDS):
            c = Client(str(sock), 10)
            t0 = time.perf_counter()
            c.request("hello", None, role="bridge", token=token_text, agent="claude-bench",
                      vendor="claude")  # fmt: skip
            t1 = time.perf_counter()
            c.request("run", None, command="echo hi", timeout=60, external=True)
            t2 = time.perf_counter()
            c.close()
            hello.append(t1 - t0)
            run.append(t2 - t1)
        print(
            f"  of which the coordinator: hello p50 {_pct(hello, 0.5) * 1000:.2f} ms,"
            f" rule-approved external run p50 {_pct(run, 0.5) * 1000:.2f} ms"
            f" p99 {_pct(run, 0.99) * 1000:.2f} ms (four events, one fsync round)"
        )
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
