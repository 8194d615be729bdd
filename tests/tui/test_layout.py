"""The layout at common terminal sizes: the sidebar's width and the agents box."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widget import Widget

from agentshell.core import events as ev
from agentshell.tui.app import AgentShellApp
from agentshell.tui.widgets.terminal.grid import TerminalGrid
from tests.tui.fakes import T0, FakeBackend, RecordedTerminal
from tests.tui.scenario import MAIN_BYTES, build
from tests.tui.test_actions import until

LONG = "rm -rf build/ dist/ && make -j8 all && make install PREFIX=/opt/tools"


def box_lines(widget: Widget) -> list[str]:
    """What ``widget`` draws, border included, a string per row."""
    w, h = widget.outer_size
    return ["".join(s.text for s in strip) for strip in widget.render_lines(Region(0, 0, w, h))]


def one_terminal() -> FakeBackend:
    b = FakeBackend({"main": RecordedTerminal("main", MAIN_BYTES)})
    b.emit(ev.TerminalOpened(terminal="main", cwd="/work/demo", timestamp=T0))
    b.agent("claude", ["run"], T0)
    b.propose("ap-1", "claude", "pytest -q tests/test_parser.py", T0 + 10)
    return b


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_agent_command_is_cut_never_wrapped(size: tuple[int, int]) -> None:
    """A long last command ends in an ellipsis on its agent's line; a wrapped tail
    looked like a row of another agent."""
    backend, _ = build()
    backend.emit(ev.CommandExecuted(agent_id="codex", command=LONG, timestamp=T0 + 3))
    backend.emit(ev.CommandExecuted(agent_id="aider", command="make\ndocs", timestamp=T0 + 4))
    app = AgentShellApp(backend, clock=lambda: T0 + 60, notify_new=False)
    async with app.run_test(size=size):
        mini = app.query_one("#agents-mini")
        await until(lambda: any("rm -rf" in line for line in box_lines(mini)))
        lines = box_lines(mini)
        assert len(lines) == 3 + 2, lines  # a row per agent inside the border
        rows = lines[1:-1]
        assert [r.split()[1] for r in rows] == ["aider", "claude", "codex"], rows
        assert rows[2].rstrip("│ ").endswith("…"), rows
        assert "make docs" in rows[0]  # a newline in a command is a space here


async def test_sidebar_is_narrower_at_80_columns() -> None:
    """At 80x24 the terminal column keeps a usable width (the pane resizes its PTY to
    it: agents' commands run at that width); at 160 the sidebar stays 46 wide."""
    backend = one_terminal()
    app = AgentShellApp(backend, clock=lambda: T0 + 60, notify_new=False)
    async with app.run_test(size=(160, 48)):
        assert app.query_one("#sidebar").outer_size.width == 46
    app = AgentShellApp(backend, clock=lambda: T0 + 60, notify_new=False)
    term = backend.terminals()["main"]
    async with app.run_test(size=(80, 24)):
        pane = app.query_one("#pane-main")
        await until(
            lambda: bool(term.sizes) and term.sizes[-1][0] == pane.scrollable_content_region.width
        )
        assert pane.scrollable_content_region.width >= 40
        assert term.sizes[-1][0] >= 40
        assert app.query_one("#sidebar").outer_size.width >= 30  # the queue stays readable


async def test_zoomed_pane_is_wide_at_80_columns() -> None:
    backend, terms = build()
    app = AgentShellApp(backend, clock=lambda: T0 + 60, notify_new=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("z")
        grid = app.query_one(TerminalGrid)
        await until(lambda: grid.zoomed)
        pane = grid.current
        assert pane is not None
        term = terms[pane.terminal_name]
        await until(lambda: bool(term.sizes) and term.sizes[-1][0] >= 40)
        assert pane.scrollable_content_region.width >= 40


async def test_two_panes_stack_when_side_by_side_would_be_too_narrow() -> None:
    """Two terminals side by side at 80x24 left each 22 columns (each a 22-column
    shell); the grid stacks them instead, and puts them side by side again when wide."""
    backend, terms = build()
    app = AgentShellApp(backend, clock=lambda: T0 + 60, notify_new=False)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.query_one(TerminalGrid)
        await until(lambda: len(grid.panes) == 2)
        await until(lambda: all(t.sizes and t.sizes[-1][0] >= 40 for t in terms.values()))
        main, tests = grid.panes
        assert main.region.x == tests.region.x and main.region.y < tests.region.y  # stacked
        await pilot.resize_terminal(160, 48)
        await until(lambda: main.region.y == tests.region.y and main.region.x < tests.region.x)
        await until(lambda: all(t.sizes[-1][0] >= 40 for t in terms.values()))


async def test_a_layout_change_resizes_each_terminal_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """160 -> 80 columns moves the grid and the sidebar in steps; each shell gets the
    size it settles at, not the in-between one (22 columns, then 47 before)."""
    from agentshell.tui.widgets.terminal import pane as pane_mod

    monkeypatch.setattr(pane_mod, "RESIZE_SETTLE", 0.5)  # steps this close collapse
    backend, terms = build()
    app = AgentShellApp(backend, clock=lambda: T0 + 60, notify_new=False)
    async with app.run_test(size=(160, 48)) as pilot:
        grid = app.query_one(TerminalGrid)

        def settled() -> bool:  # each terminal has the size of its pane now
            for name, t in terms.items():
                pane = grid.pane(name)
                if pane is None or not t.sizes:
                    return False
                region = pane.scrollable_content_region
                if t.sizes[-1] != (region.width, region.height):
                    return False
            return True

        def side_by_side() -> bool:  # the grid laid out with both panes in it
            regions = [p.region for p in grid.panes]
            return (
                len(regions) == 2 and regions[0].x != regions[1].x and all(r.width for r in regions)
            )

        # the start's own layout first (a pane added beside the first moves it)
        await until(lambda: side_by_side() and settled())
        before = {n: len(t.sizes) for n, t in terms.items()}
        await pilot.resize_terminal(80, 24)
        await until(lambda: all(len(t.sizes) > before[n] for n, t in terms.items()))
        await pilot.pause(0.7)  # past the settle time: nothing more arrives
        for name, t in terms.items():
            pane = grid.pane(name)
            assert pane is not None
            region = pane.scrollable_content_region
            assert t.sizes[before[name] :] == [(region.width, region.height)], t.sizes
