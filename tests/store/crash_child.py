"""Child process of the crash test: append from several threads, print each acknowledged id.

Usage: python -m tests.store.crash_child PERSIST_DIR SESSION ROUND THREADS
"""

from __future__ import annotations

import os
import sys
import threading

from agentshell.core import events as ev
from agentshell.store.session import SessionManager


def main() -> None:
    persist, name, rnd, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    sm = SessionManager(name, persist)
    os.write(1, b"ready\n")

    def run(k: int) -> None:
        i = 0
        while True:
            ident = f"r{rnd}-t{k}-{i}"
            sm.append(ev.CommandExecuted(agent_id="crash", command=ident, output="x" * (i % 300)))
            os.write(1, (ident + "\n").encode())  # only after the append was acknowledged
            i += 1

    for k in range(threads):
        threading.Thread(target=run, args=(k,), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
