"""`agentshell interrupt` stops a command that holds a terminal."""

from __future__ import annotations

import asyncio
import sys

from agentshell.core import events as ev

from .conftest import Served, until


async def _cli(*args: str) -> tuple[int, str, str]:
    p = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agentshell",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(p.communicate(), 60)
    return p.returncode or 0, out.decode(), err.decode()


async def test_interrupt_stops_a_command_waiting_for_input(served: Served) -> None:
    co = served.coordinator
    await until(lambda: co.terminal("main").at_prompt, what="the prompt")
    await co.send_input("main", b"cat\n")  # waits for input forever
    await until(lambda: not co.terminal("main").at_prompt, what="cat to hold the terminal")
    code, out, err = await _cli("interrupt", "--socket", str(served.socket))
    assert code == 0 and "sent ctrl+c to terminal 'main'" in out, err
    await until(lambda: co.terminal("main").at_prompt, what="the prompt after ctrl+c")
    typed = [
        e
        for e in served.session.iter_events()
        if isinstance(e, ev.TerminalInput) and e.data == b"\x03"
    ]
    assert [e.by for e in typed] == [ev.HUMAN]  # logged once, as the operator's
    code, _, err = await _cli("interrupt", "--socket", str(served.socket), "--terminal", "nope")
    assert code == 1 and "nope" in err
