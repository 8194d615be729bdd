"""Replay fixtures: one recorded demo run (live screens captured) shared by the module."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agentshell.core import events as ev
from agentshell.core.state import state_to_plain
from agentshell.replay.demo import DemoResult, run_headless_demo
from tests.polling import until


@dataclass
class LiveMoment:
    """What the live session showed when an event arrived at the subscriber."""

    event_seq: int
    decision: str
    last_seq: int  # the live state's seq at capture time (it may run ahead of the event)
    state: dict[str, Any]
    screens: dict[str, list[str]]
    consistent: dict[str, bool]  # terminal -> emulated bytes == logged bytes


@dataclass
class Recorded:
    result: DemoResult
    moments: list[LiveMoment] = field(default_factory=list)
    final_screens: dict[str, list[str]] = field(default_factory=dict)
    final_consistent: bool = False


def _fed(co: Any, name: str) -> int:
    return int(getattr(co.terminal(name), "_bytes_fed", -1))


def _capture(co: Any, e: ev.Event, rec: Recorded) -> None:
    if not isinstance(e, ev.ApprovalDecided):
        return
    st = co.state
    screens, consistent = {}, {}
    for name, info in st["terminals"].items():
        if not info.open:
            continue
        screens[name] = list(co.terminal(name).emulator.display)
        consistent[name] = _fed(co, name) == info.output_bytes
    rec.moments.append(
        LiveMoment(e.seq, e.decision, st["last_seq"], state_to_plain(st), screens, consistent)
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    data = tmp_path_factory.mktemp("demo-data")
    rec: Recorded | None = None

    async def main() -> Recorded:
        holder: list[Recorded] = []

        async def on_end(co: Any) -> None:
            term = co.terminal("main")
            await term.flush()
            r = holder[0]
            r.final_screens["main"] = list(term.emulator.display)
            r.final_consistent = _fed(co, "main") == co.state["terminals"]["main"].output_bytes

        partial = Recorded(DemoResult(data))
        holder.append(partial)
        result = await run_headless_demo(
            data, "demo", on_event=lambda co, e: _capture(co, e, partial), on_end=on_end, quiet=1.5
        )
        partial.result = result
        return partial

    rec = asyncio.run(main())
    assert rec.result.settled, "the demo did not run to the end"
    return rec


__all__ = ["LiveMoment", "Path", "Recorded", "recorded", "until"]
