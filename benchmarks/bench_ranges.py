"""Conflict ranges: the git-compatible line diff beside difflib, in the same run.

Every reported file edit is diffed once (``changed_line_ranges``). Two shapes of a
5,000-line source file: a typical edit (10 scattered small changes) and a rewrite
of every fifth line. Anchor: :class:`difflib.SequenceMatcher` (no autojunk) over the
same lines, what the ranges used before they had to match git's hunk placement.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from difflib import SequenceMatcher
from functools import partial

from agentshell.core.linediff import diff_hunks

LINES = 5_000


def _source(rng: random.Random) -> list[str]:
    common = ["\n", "    }\n", "    return x\n"]
    return [
        f"    line {rng.randint(0, 3000)} of code\n" if rng.random() < 0.8 else rng.choice(common)
        for _ in range(LINES)
    ]


def _best(fn: Callable[[], object], repeat: int = 5) -> float:
    """Best of ``repeat`` runs, fewer when one run takes over a second."""
    best = float("inf")
    spent = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        took = time.perf_counter() - t0
        best, spent = min(best, took), spent + took
        if spent > 1.0:
            break
    return best


def _difflib_opcodes(old: list[str], new: list[str]) -> object:
    return SequenceMatcher(None, old, new, autojunk=False).get_opcodes()


def main() -> None:
    rng = random.Random(3)
    old = _source(rng)
    typical = list(old)
    for _ in range(10):
        at = rng.randrange(len(typical))
        typical[at : at + 2] = ["new\n", "\n", "    }\n"]
    rewrite = [f"rewritten {i}\n" if i % 5 == 0 else line for i, line in enumerate(old)]
    for name, new in (("10 small edits", typical), ("every 5th line", rewrite)):
        ours = _best(partial(diff_hunks, old, new))
        anchor = _best(partial(_difflib_opcodes, old, new))  # a fresh matcher each run
        print(
            f"{LINES}-line file, {name:15}: linediff {ours * 1000:7.1f} ms   "
            f"anchor difflib {anchor * 1000:7.1f} ms   ratio difflib/linediff = {anchor / ours:.2f}"
        )


if __name__ == "__main__":
    main()
