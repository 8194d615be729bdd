"""Run real git as the oracle for the line diff and the conflict rule."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

GIT = shutil.which("git")
STRESS = bool(os.environ.get("AGENTSHELL_STRESS"))

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.M)


def _write(d: str, name: str, text: str) -> str:
    path = Path(d) / name
    path.write_text(text)
    return str(path)


def git_hunks(a: str, b: str) -> list[tuple[int, int, int, int]]:
    """``git diff``'s hunks from ``a`` to ``b`` as 0-based ``(a_start, a_len, b_start, b_len)``.

    ``--no-indent-heuristic``: ``git merge-file`` does not use it, so neither do we.
    """
    assert GIT is not None
    with tempfile.TemporaryDirectory() as d:
        pa, pb = _write(d, "a", a), _write(d, "b", b)
        r = subprocess.run(
            [
                GIT,
                "diff",
                "--no-index",
                "--no-ext-diff",
                "--no-color",
                "-U0",
                "--no-indent-heuristic",
                "--diff-algorithm=myers",
                pa,
                pb,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    assert r.returncode in (0, 1), r.stderr
    out = []
    for m in _HUNK.finditer(r.stdout):
        s1, l1, s2, l2 = int(m[1]), int(m[2] or 1), int(m[3]), int(m[4] or 1)
        # git numbers an empty side by the line *before* it
        out.append((s1 if l1 == 0 else s1 - 1, l1, s2 if l2 == 0 else s2 - 1, l2))
    return out


def git_conflicts(base: str, ours: str, theirs: str) -> bool:
    """Whether ``git merge-file`` reports a conflict merging ``ours`` and ``theirs``."""
    assert GIT is not None
    with tempfile.TemporaryDirectory() as d:
        paths = [_write(d, n, t) for n, t in (("ours", ours), ("base", base), ("theirs", theirs))]
        r = subprocess.run([GIT, "merge-file", "-p", *paths], capture_output=True, check=False)
    assert r.returncode >= 0, r.stderr
    return r.returncode > 0
