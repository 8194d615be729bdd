"""The conflict panel's labels and keys (Pilot)."""

from __future__ import annotations

from textual.widgets import Footer, OptionList, Static

from agentshell.core import events as ev
from agentshell.tui.app import AgentShellApp
from agentshell.tui.backend import ConflictSides
from agentshell.tui.widgets.conflicts.panel import ConflictPanel
from tests.tui.fakes import T0, FakeBackend
from tests.tui.scenario import build
from tests.tui.test_actions import SIZE, until


def rendered(app: AgentShellApp, widget: Static) -> str:
    return "\n".join(
        "".join(s.text for s in line)
        for line in app.console.render_lines(
            widget.visual._renderable,  # type: ignore[attr-defined]
            app.console.options.update_width(150),
        )
    )


def add_conflict(
    b: FakeBackend, conflict_id: str, ranges: list[list[int]], sides: ConflictSides
) -> None:
    """A conflict between claude and aider in app.py, with what each side shows."""
    (a0, a1), (b0, b1) = ranges
    b.emit(
        ev.ConflictDetected(
            agent_id="system",
            conflict_id=conflict_id,
            file_path="app.py",
            agents=["claude", "aider"],
            ranges=ranges,
            overlap=[max(a0, b0), min(a1, b1)],
            timestamp=T0 + 50,
        )
    )
    b.sides[conflict_id] = sides


async def shown_conflict(b: FakeBackend) -> tuple[str, str]:
    """(detail text, list item) of the only conflict, as the F3 tab shows them."""
    app = AgentShellApp(b, clock=lambda: T0 + 60, notify_new=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f3")
        panel = app.query_one(ConflictPanel)
        await until(lambda: panel.selected() is not None)
        text = rendered(app, panel.query_one("#conflict-detail", Static))
        ol = panel.query_one("#conflict-list", OptionList)
        return text, str(ol.get_option_at_index(0).prompt)


async def test_side_labels_name_the_lines_each_side_shows() -> None:
    b, _ = build(conflict=False)
    # both agents replaced base line 9; claude wrote two lines (9-10) in its place
    add_conflict(
        b,
        "c-9",
        [[8, 9], [8, 9]],
        ConflictSides(
            "claude", ("x = 1", "y = 2"), "aider", ("x = 10",), first_start=8, second_start=8
        ),
    )
    text, item = await shown_conflict(b)
    assert "claude L9-10" in text  # what that column shows: its new lines 9 and 10
    assert "aider L9 " in text and "aider L9-" not in text
    assert "both changed base lines L9" in text
    assert "base L9 vs L9; overlap L9" in item


async def test_labels_for_touching_ranges_and_a_deleting_side() -> None:
    b, _ = build(conflict=False)
    add_conflict(
        b, "c-2", [[0, 2], [2, 4]], ConflictSides("claude", ("a", "b", "c"), "aider", (), 0, 2)
    )
    text, item = await shown_conflict(b)
    assert "claude L1-3" in text
    assert "aider deleted L3-4" in text and "(lines deleted)" in text
    assert "adjacent base lines (touching between L2 and L3)" in text
    assert "base L1-2 vs L3-4; overlap touching between L2 and L3" in item


async def test_resolve_keys_hidden_without_conflicts(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    def shown() -> set[str]:
        return {
            b.binding.action
            for b in app.screen.active_bindings.values()
            if b.binding.show and b.enabled
        }

    def footer_text() -> str:
        return " ".join(str(k.render()) for k in app.screen.query_one(Footer).children)

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        panel = app.query_one(ConflictPanel)
        await until(lambda: "resolve('keep_first')" in shown())
        await until(lambda: "Keep first" in footer_text())
        await pilot.press("1")
        await until(lambda: not backend.state["active_conflicts"])
        await until(lambda: not panel.conflicts)
        await until(lambda: not {a for a in shown() if a.startswith("resolve")})
        await until(lambda: "Keep first" not in footer_text() and "Manual" not in footer_text())
        calls = len(backend.calls)
        await pilot.press("2")  # nothing to resolve: the key does nothing
        assert len(backend.calls) == calls
