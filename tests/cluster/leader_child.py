"""Child process of the failover tests: lead a session on JetStream and append
from several threads, printing each acknowledged command after its append returns.

Usage: python -m tests.cluster.leader_child URL SESSION TTL THREADS

Prints ``ready`` once it leads; an append that fails prints ``failed <error type>``
and ends that thread (the process then waits to be killed).
"""

from __future__ import annotations

import os
import sys
import threading

from agentshell.core import events as ev
from agentshell.store.jetstream import NatsTarget
from agentshell.store.jetstream_lease import lead


def main() -> None:
    url, name, ttl, threads = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    sm = lead(
        name, NatsTarget(url, replicas=len(url.split(","))), holder=f"child-{os.getpid()}", ttl=ttl
    )
    os.write(1, b"ready\n")

    def run(k: int) -> None:
        i = 0
        while True:
            ident = f"t{k}-{i}"
            try:
                sm.append(ev.CommandExecuted(agent_id=f"agent{k}", command=ident))
            except Exception as exc:
                os.write(1, f"failed {type(exc).__name__}\n".encode())
                return
            os.write(1, (ident + "\n").encode())  # only after the append was acknowledged
            i += 1

    for k in range(threads):
        threading.Thread(target=run, args=(k,), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
