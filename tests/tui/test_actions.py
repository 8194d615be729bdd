"""Every operator action driven through a Pilot against a fixed in-memory session."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from textual.command import CommandList, CommandPalette
from textual.geometry import Region
from textual.widgets import Footer, Input, Select, Static, TabbedContent, TextArea

from agentshell.core import events as ev
from agentshell.core import ot
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
from tests.tui.fakes import T0, FakeBackend, FakeDoc, RecordedTerminal

SIZE = (160, 48)


async def until(cond: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll a condition until it holds; fail after ``timeout`` (never sleep blindly).

    Messages, focus changes and workers land asynchronously after a key press, and
    later still on a loaded machine: every such effect is awaited through this.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"condition not met in {timeout} s")
        await asyncio.sleep(0.01)


def pending_ids(b: FakeBackend) -> set[str]:
    return {a for a, i in b.state["pending_approvals"].items() if i.status == "queued"}


async def test_queue_focused_oldest_first_and_count_visible(app: AgentShellApp) -> None:
    async with app.run_test(size=SIZE):
        queue = app.query_one(ApprovalQueue)
        await until(lambda: app.focused is queue)
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

        def preview() -> str:
            return str(screen.query_one("#rule-preview").render())

        await until(lambda: "agent claude" in preview())
        assert "pytest" in preview() and "pytest -q" not in preview()
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
    async with app.run_test(size=SIZE):
        # no waiting first: the app subscribed before it read the state
        backend.propose("ap-9", "codex", "make docs", T0 + 50)
        await until(
            lambda: any(a.approval_id == "ap-9" for a in app.query_one(ApprovalQueue).items)
        )
        # App.notify posts a message: the notification lands when that message is handled
        await until(lambda: any("make docs" in str(n.message) for n in app._notifications))
        assert "4 pending" in str(app.query_one(ApprovalQueue).border_title)


async def test_requests_arriving_together_share_a_toast(
    backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentshell.tui import app as app_mod

    monkeypatch.setattr(app_mod, "APPROVAL_TOAST_SECONDS", 1.0)
    app = AgentShellApp(backend, clock=lambda: T0 + 60, notify_new=True)

    def toasts() -> list[tuple[str, str]]:
        return [(n.title, str(n.message)) for n in app._notifications if "pproval" in n.title]

    async with app.run_test(size=SIZE):
        backend.propose("ap-10", "alpha", "make one", T0 + 50)
        await until(lambda: toasts() == [("Approval needed", "alpha waits: $ make one")])
        # six more while that toast shows: they wait for it, then share one
        for i, agent in enumerate(["beta", "gamma", "delta", "eps", "zeta", "eta"]):
            backend.propose(f"ap-{11 + i}", agent, f"make {agent}", T0 + 51)
        queue = app.query_one(ApprovalQueue)
        await until(lambda: len(queue.items) == 10)
        assert len(toasts()) == 1
        await until(lambda: any(t == "6 approvals needed" for t, _ in toasts()), timeout=5)
        (summary,) = [m for t, m in toasts() if t == "6 approvals needed"]
        assert summary.splitlines() == [
            "beta $ make beta",
            "gamma $ make gamma",
            "delta $ make delta",
            "eps $ make eps",
            "and 2 more",
        ]
        assert len(toasts()) <= 2  # the first may still be going


async def test_resolve_conflict_keys_and_manual(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        assert app.query_one(TabbedContent).active == "tab-conflicts"
        panel = app.query_one(ConflictPanel)
        selected = panel.selected()
        assert selected is not None and selected.file_path == "src/parser.py"
        detail = panel.query_one("#conflict-detail", Static).visual
        text = "".join(s.text for s in app.console.render(detail._renderable))  # type: ignore[attr-defined]
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
        await until(lambda: grid.current.terminal_name == "tests")  # type: ignore[union-attr]
        await until(lambda: app.focused is grid.current)
        await pilot.press("ctrl+pageup")
        await until(lambda: grid.current.terminal_name == "main")  # type: ignore[union-attr]
        await pilot.press("alt+2")
        await until(lambda: grid.current.terminal_name == "tests")  # type: ignore[union-attr]
        main = grid.pane("main")
        assert main is not None
        await pilot.press("z")
        await until(lambda: grid.zoomed and not main.display)
        await pilot.press("z")
        await until(lambda: main.display)


async def test_type_into_pane_and_leave(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        term = backend.terminals()["main"]
        await pilot.press("ctrl+t")
        pane = app.query_one(TerminalGrid).current
        assert pane is not None
        await until(lambda: pane.typing and app.focused is pane)
        assert pane.marker == "human" and "⌨ human" in str(pane.border_title)
        # keys meant for the shell never approve anything
        await pilot.press("a", "l", "s", "enter", "up", "ctrl+c", "ctrl+q")
        await until(lambda: len(term.sent) == 7)
        assert b"".join(term.sent) == b"als\r\x1b[A\x03\x11"
        assert not [c for c in backend.calls if c[0] == "approve"]
        assert app.is_running
        await pilot.press("ctrl+right_square_bracket")
        await until(lambda: not pane.typing and app.focused is app.query_one(ApprovalQueue))
        assert pane.marker == "idle" and "idle" in str(pane.border_title)
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
        await until(lambda: getattr(pane, "typing", False))
        from textual import events

        pane.post_message(events.Paste("echo 1\necho 2"))
        await until(lambda: bool(term.sent))
        assert term.sent[-1] == b"\x1b[200~echo 1\recho 2\x1b[201~"


async def test_pane_resize_follows_widget(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        term = backend.terminals()["main"]
        pane = app.query_one("#pane-main")

        def region() -> Region:  # inside the border and the scrollbar
            return pane.scrollable_content_region

        await until(lambda: bool(term.sizes) and term.sizes[-1][0] == region().width)
        w, h = term.sizes[-1]
        assert h == region().height
        await pilot.press("z")
        await until(lambda: term.sizes[-1][0] > w)
        assert term.emulator.columns == term.sizes[-1][0]


async def test_output_repaints_only_changed_rows(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        term = backend.terminals()["main"]
        pane = app.query_one(TerminalGrid).current
        assert pane is not None
        before = pane.repaints
        term.feed(b"echo hi\r\nhi\r\n")
        await until(lambda: pane.repaints > before)
        assert "hi" in "\n".join(pane.screen_text())
        # a flood of listener calls costs at most ~30 repaints a second
        loop = asyncio.get_running_loop()
        start, t0 = pane.repaints, loop.time()
        for _ in range(500):
            term.feed(b"x")
        await until(lambda: "xxxxx" in "\n".join(pane.screen_text()))
        await until(lambda: pane.repaints > start)  # the flood is drawn ...
        await pilot.pause(0.2)  # ... and the rate is measured over a window
        elapsed = loop.time() - t0
        assert pane.repaints - start <= elapsed * pane.FPS + 2


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
        await until(lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"approve selected")
        results = app.screen.query_one(CommandList)

        def highlighted() -> str:
            i = results.highlighted
            return "" if i is None else str(results.get_option_at_index(i).prompt)

        await until(lambda: "Approve selected request" in highlighted())
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
        await until(lambda: all("codex" in e.agent_id for e in log.shown_events))  # type: ignore[attr-defined]
        assert log.shown_events  # type: ignore[attr-defined]
        app.query_one("#log-type", Input).value = "approval"
        await until(
            lambda: [e.event_type for e in log.shown_events] == ["approval_queued"]  # type: ignore[attr-defined]
        )


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


async def test_edit_is_coedited_live_and_approves_that_revision(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    doc = backend.docs["ap-1"] = FakeDoc("pytest -q tests/test_parser.py")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await until(lambda: isinstance(app.screen, EditApprovalScreen))
        area = app.screen.query_one(TextArea)
        # the agent amends the command while the dialog is open: the editor shows it
        doc.agent_insert(len("pytest"), " -x")
        await until(lambda: area.text == "pytest -x -q tests/test_parser.py")
        # the operator's own keys go to the shared text as ops
        await pilot.press("end", *" -k parse")
        await until(lambda: doc.text == "pytest -x -q tests/test_parser.py -k parse")
        assert ("human", len(doc.text) - 1, "e") in doc.ops
        await pilot.press("ctrl+s")
        await until(lambda: bool(backend.calls))
        # approval names the revision seen: what runs is exactly that text
        text = "pytest -x -q tests/test_parser.py -k parse"
        assert backend.calls == [("approve", "ap-1", text, doc.revision)]
        assert backend.state["pending_approvals"]["ap-1"].status == "approved"


async def test_edit_refuses_text_the_operator_has_not_seen(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    doc = backend.docs["ap-1"] = FakeDoc("make")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await until(lambda: isinstance(app.screen, EditApprovalScreen))
        area = app.screen.query_one(TextArea)
        # an agent op lands after the last look and before ctrl+s is handled
        dialog = app.screen
        assert isinstance(dialog, EditApprovalScreen)
        doc.agent_insert(4, " && rm -rf /")
        await dialog.action_approve()
        assert backend.calls == [] and app.screen is dialog
        assert area.text == "make && rm -rf /"  # shown now, to be reviewed
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, EditApprovalScreen))
        assert backend.calls == []


async def test_pane_marker_says_who_types(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        grid = app.query_one(TerminalGrid)
        main, tests = grid.pane("main"), grid.pane("tests")
        assert main is not None and tests is not None
        await until(lambda: main.marker == tests.marker == "idle")
        backend.emit(ev.ApprovalDecided(approval_id="ap-1", decision="approved", timestamp=T0))
        await until(lambda: main.marker == "agent")
        assert "⚙ claude" in str(main.border_title)
        assert "pytest -q tests/test_parser.py" in str(main.border_subtitle)
        assert main.has_class("-agent") and tests.marker == "idle"
        # an agent typing the shared command draft of a terminal is shown too
        op = list(ot.to_wire(ot.insert_op(0, 0, "make lint")))
        backend.emit(
            ev.DocOp(agent_id="aider", doc="draft:tests", revision=1, op=op, clock={"aider": 1})
        )
        await until(lambda: tests.marker == "agent")
        assert "✎ aider" in str(tests.border_title) and "make lint" in str(tests.border_subtitle)
        assert "types a draft" in str(tests.border_subtitle)
        # the draft outlives its author's connection: then it was left, not typed now
        backend.emit(ev.AgentStatusChanged(agent_id="aider", status="disconnected"))
        await until(lambda: "left a draft: make lint" in str(tests.border_subtitle))
        await pilot.press("alt+2", "enter")  # take over that pane: the human types now
        await until(lambda: tests.marker == "human")
        assert "⌨ human" in str(tests.border_title) and main.marker == "agent"


async def test_quit_without_running_commands_does_not_ask(app: AgentShellApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await until(lambda: not app.is_running)
        assert not isinstance(app.screen, QuitScreen)


async def test_quit_asks_while_a_command_typed_in_a_pane_runs(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    """Not only approved commands: one the human typed into a pane (no approval
    behind it) is interrupted by quitting too, so q asks and names its terminal."""
    backend.busy = ["tests"]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await until(lambda: isinstance(app.screen, QuitScreen))
        assert isinstance(app.screen, QuitScreen)
        assert app.screen.running_lines() == ["in tests: a command typed in the pane"]
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, QuitScreen))
        assert app.is_running
        backend.busy = []
        await pilot.press("q")
        await until(lambda: not app.is_running)


async def test_in_place_changes_are_drawn_with_scrollback(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    """A row rewritten in place (a `\\r` progress counter, the line being typed) is
    repainted while the pane has scrollback above the screen, not only on a full
    redraw (the repaint used to refresh the row one scroll offset too high)."""
    async with app.run_test(size=SIZE):
        term = backend.terminals()["main"]
        pane = app.query_one(TerminalGrid).current
        assert pane is not None
        term.feed(b"".join(b"line %d\r\n" % i for i in range(200)) + b"COUNTA")
        await until(lambda: "COUNTA" in app.export_screenshot())
        assert pane.scroll_offset.y > 0  # the screen sits below its scrollback
        for mark in ("COUNTB", "COUNTC"):
            term.feed(b"\r" + mark.encode())
            await until(lambda m=mark: m in app.export_screenshot())


async def test_palette_has_one_quit_and_it_asks(app: AgentShellApp, backend: FakeBackend) -> None:
    """Textual's own "Quit" (exits at once) is not offered beside ours, which asks
    while commands run; `app.quit` from anywhere asks too."""
    async with app.run_test(size=SIZE) as pilot:
        assert "Quit" not in [c.title for c in app.get_system_commands(app.screen)]
        backend.emit(ev.ApprovalDecided(approval_id="ap-2", decision="approved", timestamp=T0))
        await until(lambda: backend.running_commands() > 0)
        await pilot.press("ctrl+p")
        await until(lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"quit")
        results = app.screen.query_one(CommandList)

        def prompts() -> list[str]:
            return [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]

        def searched() -> bool:  # every provider has answered the search
            gathering = [w for w in app.workers if w.node is app.screen and not w.is_finished]
            return not gathering and any("Quit" in p for p in prompts())

        await until(searched)
        quits = [p for p in prompts() if p.split("\n")[0].strip().lower().startswith("quit")]
        assert len(quits) == 1, prompts()
        assert "asks" in quits[0]
        await until(lambda: results.highlighted is not None)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, QuitScreen))
        assert app.is_running
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, QuitScreen))
        await app.run_action("quit")  # Textual's action, e.g. from a keymap: asks as well
        await until(lambda: isinstance(app.screen, QuitScreen))
        assert app.is_running


async def test_footer_shows_only_live_keys_while_typing(app: AgentShellApp) -> None:
    """While a pane has the keys, every key goes to the shell except ctrl+]: the footer
    shows that one, not the approval keys it used to show."""

    def shown() -> set[str]:
        return {
            b.binding.action
            for b in app.screen.active_bindings.values()
            if b.binding.show and b.enabled
        }

    async with app.run_test(size=SIZE) as pilot:
        assert {"approve", "edit", "reject", "similar", "zoom"} <= shown()
        assert "leave" not in shown()
        await pilot.press("ctrl+t")
        pane = app.query_one(TerminalGrid).current
        assert pane is not None
        await until(lambda: pane.typing and app.focused is pane)
        await until(lambda: "leave" in shown())
        assert not shown() & {"approve", "edit", "reject", "similar", "zoom", "request_quit"}
        assert "take_over" not in shown()  # enter goes to the shell now
        sent = len(pane.terminal.sent)
        await pilot.press("enter")
        await until(lambda: b"\r" in b"".join(pane.terminal.sent[sent:]))
        assert not any(a.startswith("show_tab") for a in shown())
        footer = app.screen.query_one(Footer)
        await until(lambda: "Give keys back" in "".join(str(k.render()) for k in footer.children))
        await pilot.press("ctrl+right_square_bracket")
        await until(lambda: not pane.typing and "approve" in shown())
        assert "leave" not in shown()


def recording_app(columns: int, lines: int) -> tuple[RecordedTerminal, AgentShellApp]:
    """An app showing one terminal at a recording's own size (as in a replay: the
    pane's size does not resize it)."""
    term = RecordedTerminal("main", b"", columns=columns, lines=lines)
    term.resizable = False
    backend = FakeBackend({"main": term})
    backend.emit(ev.TerminalOpened(terminal="main", cwd="/w", timestamp=T0))
    return term, AgentShellApp(backend, clock=lambda: T0 + 60, notify_new=False)


async def test_a_screen_taller_than_its_pane_keeps_its_cursor_in_view() -> None:
    """Replay shows a recording at its own size, which may be taller than the pane:
    the view follows the cursor, so a fresh screen's first rows (the prompt) are not
    scrolled off to show blank rows at its bottom, and later output still shows."""
    tall, app = recording_app(80, 60)
    async with app.run_test(size=SIZE):
        pane = app.query_one(TerminalGrid).current
        assert pane is not None
        tall.feed(b"FIRST-ROW\r\nSECOND-ROW$ ")
        await until(lambda: "SECOND-ROW$" in app.export_screenshot())
        assert pane.size.height < 60 and "FIRST-ROW" in app.export_screenshot()
        tall.feed(b"".join(b"\r\nrow %d" % i for i in range(2, 59)) + b"\r\nLAST-ROW$ ")
        await until(lambda: "LAST-ROW$" in app.export_screenshot())
        assert "FIRST-ROW" not in app.export_screenshot()  # scrolled as the cursor needs


async def test_a_shorter_screen_swapped_in_is_shown_not_scrolled_past(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    """Replay swaps in a fresh emulator when a terminal is reopened: its scrollback is
    shorter, and the pane must not stay scrolled past the end of it (it showed blank)."""
    from agentshell.terminal.emulator import Emulator

    async with app.run_test(size=SIZE):
        term = backend.terminals()["main"]
        pane = app.query_one(TerminalGrid).current
        assert pane is not None
        term.feed(b"".join(b"old %d\r\n" % i for i in range(300)))
        await until(lambda: pane.scroll_offset.y > 200)
        fresh = Emulator(term.emulator.columns, term.emulator.lines)
        fresh.feed(b"REOPENED-PROMPT$ ")
        term.emulator = fresh
        term.feed(b"")  # tell the pane, as ReplayTerminal.show does
        await until(lambda: "REOPENED-PROMPT$" in app.export_screenshot())
        assert pane.scroll_offset.y <= pane.max_scroll_y


async def test_scrollback_rows_above_a_short_screen_follow_it() -> None:
    """A recording shorter than its pane shows the newest scrollback rows above the
    screen. With the scrollback full, its length stays while its rows move on (more
    output, or replay swapping in the screen of another moment): those rows must be
    redrawn too, not only the screen's (they kept showing the old moment)."""
    from agentshell.terminal.emulator import Emulator

    short, app = recording_app(80, 8)
    short.emulator = Emulator(80, 8, scrollback=40)
    async with app.run_test(size=SIZE):
        pane = app.query_one(TerminalGrid).current
        assert pane is not None
        short.feed(b"".join(b"first-%d\r\n" % i for i in range(100)))
        await until(lambda: "first-99" in app.export_screenshot())
        assert pane.size.height > 8 + 2 and "first-90" in app.export_screenshot()
        short.feed(b"".join(b"second-%d\r\n" % i for i in range(100)))  # scrollback stays full
        await until(lambda: "second-99" in app.export_screenshot())
        await until(lambda: "first-" not in app.export_screenshot(), timeout=3)
        later = Emulator(80, 8, scrollback=40)
        later.feed(b"".join(b"third-%d\r\n" % i for i in range(100)))
        short.emulator = later
        short.feed(b"")  # tell the pane, as ReplayTerminal.show does
        await until(lambda: "third-99" in app.export_screenshot())
        await until(lambda: "second-" not in app.export_screenshot(), timeout=3)


async def test_reading_back_in_a_full_scrollback_keeps_the_lines_in_view(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    """Scrolled back while output goes on, with the scrollback full: rows fall off its
    front, and the view follows the lines it shows (as terminals do) instead of the
    text moving under the reader."""
    from agentshell.terminal.emulator import Emulator

    async with app.run_test(size=SIZE) as pilot:
        term = backend.terminals()["main"]
        pane = app.query_one(TerminalGrid).current
        assert pane is not None
        term.emulator = Emulator(term.emulator.columns, term.emulator.lines, scrollback=200)
        term.feed(b"".join(b"line-%03d\r\n" % i for i in range(400)))
        await until(lambda: "line-399" in app.export_screenshot())
        pane.scroll_to(y=50, animate=False, immediate=True)  # the operator reads back
        await pilot.pause()
        shown = [pane.render_line(y).text for y in range(4)]
        assert all(text.startswith("line-") for text in shown) and not pane._follow
        term.feed(b"".join(b"more-%03d\r\n" % i for i in range(30)))  # 30 rows drop off
        await until(lambda: pane.scroll_offset.y == 20)
        await pilot.pause()
        assert [pane.render_line(y).text for y in range(4)] == shown
        term.feed(b"".join(b"much-more-%03d\r\n" % i for i in range(100)))  # past the top
        await until(lambda: pane.scroll_offset.y == 0)
        assert not pane._follow  # still reading back, at the oldest line kept
