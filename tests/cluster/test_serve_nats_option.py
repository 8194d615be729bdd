"""`agentshell serve --nats URL --session S` is `cluster serve`: it leads the session
on JetStream and serves agents through NATS (a real 3-node cluster, a real shell)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from tests.cluster.test_serve_failover import CAPS, Served
from tests.store.backends import needs_nats

pytestmark = needs_nats


class ServedPlain(Served):
    """The same process, started as `agentshell serve --nats`."""

    def __init__(self, url: str, name: str, sock: Path, project: Path) -> None:
        import threading

        self.sock = sock
        cmd = [
            str(Path(sys.executable).parent / "agentshell"),
            *("serve", "--nats", url, "--session", name),
            *("--socket", str(sock), "--project", str(project), "--no-user-rc"),
        ]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()


async def test_serve_with_nats_leads_the_session_and_serves_agents_on_nats(
    cluster3: Any, tmp_path: Path
) -> None:
    from agentshell.client.nats_connect import connect_nats
    from agentshell.server.paths import operator_token_path

    root = Path(tempfile.mkdtemp(prefix="as-", dir="/tmp"))
    (root / "a").mkdir(mode=0o700)
    project = tmp_path / "proj"
    project.mkdir()
    name = f"plain-{uuid.uuid4().hex[:8]}"
    served = ServedPlain(cluster3.url, name, root / "a" / "s.sock", project)
    try:
        served.wait_for("serving session")
        token = operator_token_path(served.sock).read_text().strip()
        op = await connect_nats(cluster3.url, name, operator=True, token=token)
        try:
            coder = await connect_nats(
                cluster3.url, name, "coder", await op.add_agent("coder", CAPS)
            )
            aid = await coder.propose("echo led-by-serve")
            await op.approve(aid)
            res = await coder.result(aid)
            assert res.exit_code == 0 and "led-by-serve" in res.output
            await coder.close()
        finally:
            await op.close()
        assert served.stop() == 0
    finally:
        served.stop()
        shutil.rmtree(root, ignore_errors=True)
