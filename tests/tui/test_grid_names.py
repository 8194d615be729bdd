"""Pane ids: any terminal name (recordings may hold `web.server`, `a\\nb`) gets a valid,
distinct widget id; a plain name keeps `pane-NAME`; panes are found by name."""

from __future__ import annotations

from textual.app import App, ComposeResult

from agentshell.tui.widgets.terminal.grid import TerminalGrid, pane_id

from .fakes import RecordedTerminal

ODD = ["web.server", "bad/name", "a\nb", "\x1b[31mred", "x" * 300, "bad_name", ""]


def test_pane_ids_are_valid_and_distinct_and_plain_names_keep_theirs() -> None:
    assert pane_id("main") == "pane-main" and pane_id("bad_name") == "pane-bad_name"
    ids = {pane_id(n) for n in ["main", *ODD]}
    assert len(ids) == 1 + len(ODD)
    assert pane_id("web.server").startswith("pane-web_server-")


class _GridApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TerminalGrid(id="grid")


async def test_the_grid_mounts_any_name_and_finds_it_by_name() -> None:
    app = _GridApp()
    # a plain name that is exactly the id another name's pane would take
    crafted = pane_id("web.server").removeprefix("pane-")
    async with app.run_test() as pilot:
        grid = app.query_one(TerminalGrid)
        for name in ["main", "web.server", crafted, "a\nb"]:
            await grid.add_terminal(name, RecordedTerminal(name, b"hi\r\n"), None)
        await pilot.pause()
        assert [p.terminal_name for p in grid.panes] == ["main", "web.server", crafted, "a\nb"]
        assert len({p.id for p in grid.panes}) == 4
        assert app.query_one("#pane-main") is grid.pane("main")
        web = grid.pane("web.server")
        assert web is not None and web.terminal_name == "web.server"
        await grid.remove_terminal("web.server")
        assert grid.pane("web.server") is None and grid.pane(crafted) is not None
