"""OT speed: transforms/s of single-character ops, beside anchors from the same run.

Anchors: ``apply`` of the same ops (a cheap OT function) and a bare Python call
loop (a function taking two tuples and returning a pair). Target: >= 100,000
transforms/s.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from agentshell.core import ot

DOC_LEN = 200
N = 20_000


def _ops(rng: random.Random) -> list[ot.Op]:
    out = []
    for _ in range(N):
        if rng.random() < 0.6:
            out.append(ot.insert_op(DOC_LEN, rng.randint(0, DOC_LEN), rng.choice("abc")))
        else:
            out.append(ot.delete_op(DOC_LEN, rng.randrange(DOC_LEN), 1))
    return out


def _rate(fn: Callable[[], None], count: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return count / best


def _pair(a: ot.Op, b: ot.Op) -> tuple[ot.Op, ot.Op]:
    return b, a


def main() -> None:
    rng = random.Random(7)
    xs, ys = _ops(rng), _ops(rng)
    text = "x" * DOC_LEN
    pairs = list(zip(xs, ys, strict=True))
    transform, apply = ot.transform, ot.apply

    def run_transform() -> None:
        for a, b in pairs:
            transform(a, b, "left")

    def run_apply() -> None:
        for a, _ in pairs:
            apply(text, a)

    def run_calls() -> None:
        for a, b in pairs:
            _pair(a, b)

    t = _rate(run_transform, N)
    ap = _rate(run_apply, N)
    calls = _rate(run_calls, N)
    verdict = "ok" if t >= 100_000 else "BELOW TARGET"
    print(f"transform (1-char ops, doc {DOC_LEN}): {t:12,.0f} /s  [target 100,000: {verdict}]")
    print(f"anchor apply (same ops):          {ap:12,.0f} /s  ratio transform/apply = {t / ap:.2f}")
    print(
        f"anchor bare call loop:            {calls:12,.0f} /s  ratio transform/call  = {t / calls:.3f}"
    )

    # server with 10 concurrent clients: each op was made 0..10 revisions ago
    server = ot.OTServerDoc(text)
    texts = [text]
    n_ops = 5_000
    t0 = time.perf_counter()
    for i in range(n_ops):
        base = max(server.revision - rng.randint(0, 10), 0)
        length = len(texts[base])
        op = ot.insert_op(length, rng.randint(0, length), "z")
        server.receive(base, op, f"c{i % 10}", i)
        texts.append(server.text)
    dt = time.perf_counter() - t0
    print(f"server receive (0-10 behind):     {n_ops / dt:12,.0f} ops/s")


if __name__ == "__main__":
    main()
