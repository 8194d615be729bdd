"""Every operator action driven through a Pilot against a fixed in-memory session."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.widgets import Input, Select, Static, TabbedContent, TextArea

from agentshell.core import events as ev
from agentshell.tui.app import AgentShellApp
from agentshell.tui.screens.dialogs import (
    EditApprovalScreen,
    QuitScreen,
    RejectScreen,
    SimilarRuleScreen,
)
from agentshell.tui.screens.help import HelpScreen
from agentshell.tui.widgets.conflicts.panel import ConflictPanel
from agentshell.tui.widgets.sidebar.approvals import ApprovalQueue
from agentshell.tui.widgets.terminal.grid import TerminalGrid
from tests.tui.fakes import T0, FakeBackend

SIZE = (160, 48)


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll a condition (never sleep for it blindly)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def pending_ids(b: FakeBackend) -> set[str]:
    return {a for a, i in b.state["pending_approvals"].items() if i.status == "queued"}


async def test_queue_focused_oldest_first_and_count_visible(app: AgentShellApp) -> None:
    async with app.run_test(size=SIZE):
        queue = app.query_one(ApprovalQueue)
        assert app.focused is queue
        assert [a.approval_id for a in queue.items] == ["ap-1", "ap-2", "ap-3"]
        assert "3 pending" in str(queue.border_title)
        assert "3 agents waiting" in str(queue.border_subtitle)
        assert "3 waiting" in app.title


async def test_approve_acts_on_oldest_then_selected(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await until(lambda: ("approve", "ap-1", None) in backend.calls)
        await until(
            lambda: "ap-1" not in {a.approval_id for a in app.query_one(ApprovalQueue).items}
        )
        queue = app.query_one(ApprovalQueue)
        await pilot.press("down")  # select ap-3 (second row now)
        await pilot.press("a")
        await until(lambda: len([c for c in backend.calls if c[0] == "approve"]) == 2)
        assert backend.calls[-1] == ("approve", "ap-3", None)
        assert "1 pending" in str(queue.border_title)


async def test_edit_then_approve(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await until(lambda: isinstance(app.screen, EditApprovalScreen))
        area = app.screen.query_one(TextArea)
        assert area.text == "pytest -q tests/test_parser.py"
        await pilot.press(*" -x")
        await pilot.press("ctrl+s")
        await until(lambda: bool(backend.calls))
        assert backend.calls == [("approve", "ap-1", "pytest -q tests/test_parser.py -x")]


async def test_edit_cancel_decides_nothing(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await until(lambda: isinstance(app.screen, EditApprovalScreen))
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, EditApprovalScreen))
        assert backend.calls == []
        assert pending_ids(backend) == {"ap-1", "ap-2", "ap-3"}


async def test_reject_with_reason(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "r")  # ap-2, the risky one
        await until(lambda: isinstance(app.screen, RejectScreen))
        await pilot.press(*"too risky")
        await pilot.press("enter")
        await until(lambda: bool(backend.calls))
        assert backend.calls == [("reject", "ap-2", "too risky")]
        await until(lambda: pending_ids(backend) == {"ap-1", "ap-3"})


async def test_approve_similar_shows_editable_rule(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await until(lambda: isinstance(app.screen, SimilarRuleScreen))
        screen = app.screen
        pattern = screen.query_one("#pattern", Input)
        assert pattern.value == "pytest -q"
        assert screen.query_one("#kind", Select).value == "prefix"
        pattern.value = "pytest"
        screen.query_one("#scope", Select).value = "agent"
        await pilot.pause()
        preview = str(screen.query_one("#rule-preview").render())
        assert "pytest" in preview and "agent claude" in preview
        await pilot.press("ctrl+s")
        await until(lambda: len(backend.calls) >= 2)
        kind, call = backend.calls[0][0], backend.calls[0][2]
        assert kind == "similar"
        assert (call.kind, call.pattern, call.scope, call.scope_value) == (
            "prefix",
            "pytest",
            "agent",
            "claude",
        )
        assert "r1" in backend.state["rules"]


async def test_new_request_notifies_and_updates(backend: FakeBackend) -> None:
    app = AgentShellApp(backend, clock=lambda: T0 + 60, notify_new=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        backend.propose("ap-9", "codex", "make docs", T0 + 50)
        await until(
            lambda: any(a.approval_id == "ap-9" for a in app.query_one(ApprovalQueue).items)
        )
        assert any("make docs" in str(n.message) for n in app._notifications)
        assert "4 pending" in str(app.query_one(ApprovalQueue).border_title)


async def test_resolve_conflict_keys_and_manual(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        assert app.query_one(TabbedContent).active == "tab-conflicts"
        panel = app.query_one(ConflictPanel)
        assert panel.selected() is not None and panel.selected().file_path == "src/parser.py"
        detail = panel.query_one("#conflict-detail", Static).visual
        text = "".join(s.text for s in app.console.render(detail._renderable))  # type: ignore[union-attr]
        assert "return Tree(tokens)" in text and "return Tree(lex(text))" in text
        await pilot.press("4")
        await until(lambda: app.screen.__class__.__name__ == "ManualResolveScreen")
        await pilot.press(*"kept aider's types")
        await pilot.press("enter")
        await until(lambda: bool(backend.calls))
        assert backend.calls == [("resolve", "c-1", "manual", "kept aider's types")]
        await until(lambda: not backend.state["active_conflicts"])


async def test_resolve_conflict_keep_second(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3", "2")
        await until(lambda: bool(backend.calls))
        assert backend.calls == [("resolve", "c-1", "keep_second", "")]


async def test_switch_and_zoom_panes(app: AgentShellApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        grid = app.query_one(TerminalGrid)
        assert grid.current is not None and grid.current.terminal_name == "main"
        await pilot.press("ctrl+pagedown")
        assert grid.current.terminal_name == "tests"
        assert app.focused is grid.current
        await pilot.press("ctrl+pageup")
        assert grid.current.terminal_name == "main"
        await pilot.press("alt+2")
        assert grid.current.terminal_name == "tests"
        await pilot.press("z")
        await pilot.pause()
        assert grid.zoomed
        main = grid.pane("main")
        assert main is not None and not main.display
        await pilot.press("z")
        await pilot.pause()
        assert main.display


async def test_type_into_pane_and_leave(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        term = backend.terminals()["main"]
        await pilot.press("ctrl+t")
        pane = app.query_one(TerminalGrid).current
        assert pane is not None and pane.typing and app.focused is pane
        assert "human typing" in str(pane.border_subtitle)
        # keys meant for the shell never approve anything
        await pilot.press("a", "l", "s", "enter", "up", "ctrl+c", "ctrl+q")
        await until(lambda: len(term.sent) == 7)
        assert b"".join(term.sent) == b"als\r\x1b[A\x03\x11"
        assert not [c for c in backend.calls if c[0] == "approve"]
        assert app.is_running
        await pilot.press("ctrl+right_square_bracket")
        assert not pane.typing
        assert app.focused is app.query_one(ApprovalQueue)
        await pilot.press("a")
        await until(lambda: any(c[0] == "approve" for c in backend.calls))


async def test_click_takes_over_and_paste_is_bracketed(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        term = backend.terminals()["tests"]
        term.feed(b"\x1b[?2004h")
        await pilot.click("#pane-tests")
        pane = app.query_one("#pane-tests")
        assert getattr(pane, "typing", False)
        from textual import events

        pane.post_message(events.Paste("echo 1\necho 2"))
        await until(lambda: bool(term.sent))
        assert term.sent[-1] == b"\x1b[200~echo 1\recho 2\x1b[201~"


async def test_pane_resize_follows_widget(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        term = backend.terminals()["main"]
        pane = app.query_one("#pane-main")
        await until(lambda: bool(term.sizes) and term.sizes[-1][0] == pane.size.width)
        w, h = term.sizes[-1]
        assert h == pane.size.height
        await pilot.press("z")
        await until(lambda: term.sizes[-1][0] > w)
        assert term.emulator.columns == term.sizes[-1][0]


async def test_output_repaints_only_changed_rows(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        term = backend.terminals()["main"]
        pane = app.query_one(TerminalGrid).current
        assert pane is not None
        await pilot.pause()
        before = pane.repaints
        term.feed(b"echo hi\r\nhi\r\n")
        await until(lambda: pane.repaints > before)
        assert "hi" in "\n".join(pane.screen_text())
        # a flood of listener calls costs at most ~30 repaints a second
        start = pane.repaints
        for _ in range(500):
            term.feed(b"x")
        await pilot.pause(0.2)
        assert pane.repaints - start <= 10


async def test_help_palette_and_quit(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await until(lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, HelpScreen))
        # a running command makes quitting ask
        backend.emit(ev.ApprovalDecided(approval_id="ap-2", decision="approved", timestamp=T0))
        await pilot.press("q")
        await until(lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, QuitScreen))
        assert app.is_running
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"approve selected")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(lambda: any(c[0] == "approve" for c in backend.calls))
        await pilot.press("q")
        await until(lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("y")
        await until(lambda: not app.is_running)


async def test_event_log_filters(app: AgentShellApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        log = app.query_one("#log")
        all_events = log.shown_events  # type: ignore[attr-defined]
        assert any(e.event_type == "approval_queued" for e in all_events)
        app.query_one("#log-agent", Input).value = "codex"
        await pilot.pause()
        shown = log.shown_events  # type: ignore[attr-defined]
        assert shown and all("codex" in e.agent_id for e in shown)
        app.query_one("#log-type", Input).value = "approval"
        await pilot.pause()
        shown = log.shown_events  # type: ignore[attr-defined]
        assert [e.event_type for e in shown] == ["approval_queued"]


async def test_agents_panel_states(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        table = app.query_one("#agents-table")
        rows = [table.get_row(k) for k in ("claude", "codex")]  # type: ignore[attr-defined]
        assert str(rows[0][1]) == "waiting"
        await pilot.press("f2")
        app.query_one(ApprovalQueue).focus()
        await pilot.press("a")  # claude's request approved -> no longer waiting
        await until(lambda: str(table.get_row("claude")[1]) != "waiting")  # type: ignore[attr-defined]
        tasks = app.query_one("#tasks-table")
        assert "claude (0.90)" in str(tasks.get_row("t1")[3])  # type: ignore[attr-defined]
