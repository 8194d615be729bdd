"""Run every benchmark module (or those named on the command line).

Each module runs in a process of its own (``--here`` runs them in this one): a
module's heap and garbage must not slow the next one down or inflate its RSS
figures (a memory figure taken after the 1M-event replay measured that replay).
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import time

import benchmarks


def run_here(name: str) -> None:
    print(f"\n=== {name} ===", flush=True)
    t0 = time.perf_counter()
    importlib.import_module(f"benchmarks.{name}").main()
    print(f"({name} took {time.perf_counter() - t0:.1f} s)", flush=True)


def main(argv: list[str]) -> int:
    here = "--here" in argv
    argv = [a for a in argv if a != "--here"]
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__))
    names = [n for n in names if n.startswith("bench_")]
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
        if not names:
            print(f"no benchmark module matches {' '.join(argv)}", file=sys.stderr)
            return 2
    failed = []
    for name in names:
        if here:
            run_here(name)
            continue
        rc = subprocess.run([sys.executable, "-m", "benchmarks", "--here", name]).returncode
        if rc:
            failed.append(f"{name} (exit {rc})")
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
