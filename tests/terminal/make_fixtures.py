"""Record real programs' output under a PTY into tests/terminal/fixtures/ (run once).

    .venv/bin/python tests/terminal/make_fixtures.py

Each fixture is the raw byte stream a terminal of 80x24 received, plus a .txt of
what the program was.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ptyprocess import PtyProcess

HERE = Path(__file__).parent / "fixtures"


def record(
    argv: list[str], keys: list[tuple[float, bytes]], cwd: str, env: dict[str, str]
) -> bytes:
    proc = PtyProcess.spawn(argv, cwd=cwd, env=env, dimensions=(24, 80))
    out = bytearray()
    start = time.monotonic()
    pending = list(keys)
    while True:
        if pending and time.monotonic() - start >= pending[0][0]:
            proc.write(pending.pop(0)[1])
        try:
            import select

            r, _, _ = select.select([proc.fd], [], [], 0.05)
            if r:
                data = os.read(proc.fd, 65536)
                if not data:
                    break
                out += data
        except OSError:
            break
        if time.monotonic() - start > 20:
            proc.terminate(force=True)
            break
    proc.wait()
    return bytes(out)


def main() -> int:
    HERE.mkdir(exist_ok=True)
    env = {
        "TERM": "xterm-256color",
        "PATH": os.environ["PATH"],
        "HOME": tempfile.gettempdir(),
        "LANG": "C.UTF-8",
    }
    work = tempfile.mkdtemp()
    text = "".join(f"line {i}: the quick brown fox 中文 jumps\n" for i in range(60))
    Path(work, "sample.txt").write_text(text)
    for name in ("alpha.py", "beta.txt", "gamma"):
        Path(work, name).write_text("x\n")
    os.mkdir(Path(work, "subdir"))
    os.chmod(Path(work, "gamma"), 0o755)
    os.symlink("alpha.py", Path(work, "link"))
    made = []
    if shutil.which("ls"):
        data = record(["ls", "--color=always", "-la", "--time-style=+"], [], work, env)
        (HERE / "ls_color.bin").write_bytes(data)
        made.append("ls_color.bin")
    if shutil.which("vim"):
        keys = [(1.0, b"Gdd"), (1.5, b"ggiHELLO \x1b"), (2.0, b":q!\r")]
        data = record(["vim", "-u", "NONE", "-N", "-i", "NONE", "sample.txt"], keys, work, env)
        (HERE / "vim_session.bin").write_bytes(data)
        made.append("vim_session.bin")
    if shutil.which("less"):
        keys = [(1.0, b" "), (1.5, b"q")]
        data = record(["less", "sample.txt"], keys, work, env)
        (HERE / "less_session.bin").write_bytes(data)
        made.append("less_session.bin")
    print("recorded", made)
    return 0


if __name__ == "__main__":
    sys.exit(main())
