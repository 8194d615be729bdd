"""The app's start-up heap leaves the garbage collector's way once a pane is up."""

from __future__ import annotations

import gc

from agentshell.tui.app import AgentShellApp
from agentshell.tui.widgets.terminal import pane as pane_module
from agentshell.tui.widgets.terminal.grid import TerminalGrid
from tests.tui.test_actions import SIZE, until


async def test_a_mounted_pane_freezes_the_start_up_heap_once(app: AgentShellApp) -> None:
    frozen: list[int] = []
    real, was = gc.freeze, pane_module._frozen

    def freeze() -> None:
        frozen.append(len(gc.get_objects()))

    pane_module._frozen = False
    gc.freeze = freeze  # type: ignore[assignment]
    try:
        async with app.run_test(size=SIZE):
            pane = app.query_one(TerminalGrid).pane("main")
            assert pane is not None
            await until(lambda: bool(frozen))
            pane.mark_dirty()
            assert not pane_module.freeze_startup_heap()  # once per process
        assert len(frozen) == 1
        assert frozen[0] > 10_000  # the app's objects existed by then
    finally:
        gc.freeze = real
        pane_module._frozen = was
