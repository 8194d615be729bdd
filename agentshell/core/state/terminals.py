"""Reducers of the terminal events: opened, closed, resized, output, input; and of
what runs in them: commands executed, directories changed.
"""

from __future__ import annotations

from typing import Any

from .model import RECENT_COMMANDS, CommandRecord, SessionState, TerminalInfo, replace_info


def opened(s: SessionState, e: Any) -> None:
    old = s["terminals"].get(e.terminal)
    s["terminals"][e.terminal] = TerminalInfo(
        name=e.terminal,
        cwd=e.cwd,
        columns=e.columns,
        lines=e.lines,
        shell=e.shell,
        output_bytes=old.output_bytes if old else 0,
    )


def closed(s: SessionState, e: Any) -> None:
    t = s["terminals"].get(e.terminal)
    if t is not None:
        s["terminals"][e.terminal] = replace_info(t, open=False)


def resized(s: SessionState, e: Any) -> None:
    t = s["terminals"].get(e.terminal)
    if t is not None:
        s["terminals"][e.terminal] = replace_info(t, columns=e.columns, lines=e.lines)


def output(s: SessionState, e: Any) -> None:
    t = s["terminals"].get(e.terminal)
    if t is not None:
        s["terminals"][e.terminal] = replace_info(t, output_bytes=t.output_bytes + len(e.data))


def input_sent(s: SessionState, e: Any) -> None:
    """Input sent to a terminal changes no state (the log keeps it for replay)."""
    return None


def command_record(e: Any) -> CommandRecord:
    return CommandRecord(
        command=e.command,
        agent_id=e.agent_id,
        exit_code=e.exit_code,
        terminal=e.terminal,
        cwd=e.cwd,
        duration=e.duration,
        timestamp=e.timestamp,
        seq=e.seq,
        approval_id=e.approval_id,
        output=e.output[-4096:],
    )


def command_executed(s: SessionState, e: Any) -> None:
    rec = command_record(e)
    cmds = s["recent_commands"]
    cmds.append(rec)
    if len(cmds) > RECENT_COMMANDS:
        del cmds[: len(cmds) - RECENT_COMMANDS]
    a = s["agents"].get(e.agent_id)
    if a is not None:
        s["agents"][e.agent_id] = replace_info(a, last_command=e.command)


def directory_changed(s: SessionState, e: Any) -> None:
    if e.terminal:
        t = s["terminals"].get(e.terminal)
        if t is not None:
            s["terminals"][e.terminal] = replace_info(t, cwd=e.path)
    else:
        s["current_working_dirs"][e.agent_id] = e.path
