"""Small recorded sessions written straight into a log (no shell, no coordinator)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agentshell.core import events as ev
from agentshell.store.session import SessionManager

T0 = 1_700_000_000.0


def write_session(data_dir: Path, name: str = "rec", *, two_terminals: bool = True) -> Path:
    """Two terminals, a split UTF-8 character, a 100 s idle gap, an approval, a
    rejection and a conflict. Returns the session directory."""
    with SessionManager(name, data_dir) as sm:
        t = T0

        def add(e: ev.Event, dt: float = 1.0) -> None:
            nonlocal t
            t += dt
            sm.append(dataclasses.replace(e, timestamp=t))

        add(ev.AgentRegistered(agent_id="bot", capabilities=["run"]))
        add(ev.TerminalOpened(terminal="main", columns=40, lines=10))
        if two_terminals:
            add(ev.TerminalOpened(terminal="build", columns=30, lines=8))
            add(ev.TerminalOutput(terminal="build", data=b"building...\r\n"))
        add(ev.TerminalOutput(terminal="main", data=b"$ echo caf\xc3"))
        add(ev.TerminalOutput(terminal="main", data=b"\xa9\r\ncaf\xc3\xa9\r\n$ "), dt=0.1)
        add(ev.ApprovalQueued(agent_id="bot", approval_id="a1", command="ls"))
        add(ev.ApprovalDecided(approval_id="a1", decision="approved", agent_id=ev.HUMAN))
        add(ev.TerminalOutput(terminal="main", data=b"ls\r\nfile\r\n$ "))
        add(ev.ApprovalQueued(agent_id="bot", approval_id="a2", command="rm -rf /"), dt=100.0)
        add(ev.ApprovalDecided(approval_id="a2", decision="rejected", agent_id=ev.HUMAN))
        add(
            ev.ConflictDetected(
                conflict_id="c1", file_path="x.py", agents=["bot", "human"],
                ranges=[[1, 3], [2, 4]], overlap=[2, 3],
            )
        )  # fmt: skip
        add(ev.ApprovalQueued(agent_id="bot", approval_id="a3", command="make"))
        add(ev.TerminalOutput(terminal="main", data=b"still here\r\n$ "))
        if two_terminals:
            add(ev.TerminalOutput(terminal="build", data=b"done\r\n"))
    return data_dir / name
