"""Names and commands with control characters or markup are shown safely (Pilot)."""

from __future__ import annotations

from textual.widgets import DataTable, RichLog, Static

from agentshell.core import events as ev
from agentshell.tui.app import AgentShellApp
from agentshell.tui.screens.dialogs import QuitScreen, RejectScreen
from agentshell.tui.text import printable, safe
from agentshell.tui.widgets.sidebar.agents_mini import AgentsMini
from agentshell.tui.widgets.sidebar.approvals import ApprovalQueue
from agentshell.tui.widgets.terminal.grid import TerminalGrid
from agentshell.tui.widgets.terminal.pane import TerminalPane
from tests.tui.fakes import T0, FakeBackend, RecordedTerminal
from tests.tui.scenario import build
from tests.tui.test_actions import SIZE, until

BAD_TERM = "ev\x1b[31mil\x07"
BAD_AGENT = "ag\x1b]0;x\x07ent"
BAD_COMMAND = "echo \x1b[2J[bold]hi[/bold]\rdone"


def test_printable_and_safe() -> None:
    assert printable("a\x1b[31mb\n\t\x7f\x9b\u202e") == "a\\x1b[31mb\\n\\t\\x7f\\x9b\\u202e"
    assert printable("plain name-1.x") == "plain name-1.x"
    assert safe("echo \x1b[2J[bold]x[/bold]").plain == "echo \\x1b[2J[bold]x[/bold]"


def bad_backend() -> FakeBackend:
    b = FakeBackend({BAD_TERM: RecordedTerminal(BAD_TERM, b"$ ")})
    b.emit(ev.TerminalOpened(terminal=BAD_TERM, cwd="/w", timestamp=T0))
    b.agent(BAD_AGENT, ["run"], T0)
    b.emit(
        ev.ApprovalQueued(
            agent_id=BAD_AGENT,
            approval_id="ap-1",
            command=BAD_COMMAND,
            terminal=BAD_TERM,
            cwd="/w",
            timestamp=T0 + 1,
        )
    )
    return b


def shown_title(pane: TerminalPane, sub: bool = False) -> str:
    """The title as drawn (the public getter gives it back as markup)."""
    content = pane._border_subtitle if sub else pane._border_title
    return content.plain if content is not None else ""


def clean(text: str) -> bool:
    """No raw control character (the escapes show as backslash text)."""
    return not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 for c in text)


async def test_every_label_shows_a_safe_form_of_names_and_commands() -> None:
    b = bad_backend()
    app = AgentShellApp(b, clock=lambda: T0 + 60, notify_new=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(TerminalGrid).panes[0]
        title = shown_title(pane)
        assert title == "ev\\x1b[31mil\\x07 · idle"
        queue = app.query_one(ApprovalQueue)
        await until(lambda: len(queue.items) == 1)
        prompt = str(queue.get_option_at_index(0).prompt)
        assert clean(prompt)
        assert "ag\\x1b]0;x\\x07ent → ev\\x1b[31mil\\x07" in prompt
        assert "echo \\x1b[2J[bold]hi[/bold]\\rdone" in prompt
        mini = app.query_one(AgentsMini)
        assert all(clean(line.plain) for line in mini.lines(40))
        assert mini.lines(40)[0].plain.startswith("ag\\x1b]")
        await pilot.press("f5")  # a RichLog draws once it has a size
        rich_log = app.query_one("#log-lines", RichLog)
        await until(lambda: len(rich_log.lines) >= 4)
        log_text = "\n".join(line.text for line in rich_log.lines)
        assert clean(log_text) and "ag\\x1b]0;x\\x07ent" in log_text
        assert "ev\\x1b[31mil\\x07" in log_text  # terminal_opened names the terminal
        # a new request arrives: its notification is plain text, not markup
        b.propose("ap-2", BAD_AGENT, "make [red]x[/red]", T0 + 50)
        await until(lambda: any("make" in str(n.message) for n in app._notifications))
        note = next(n for n in app._notifications if "make" in str(n.message))
        assert note.message.endswith("$ make [red]x[/red]") and not note.markup
        # the agent runs its command on that terminal: the pane says who, safely
        b.emit(ev.ApprovalDecided(approval_id="ap-1", decision="approved", timestamp=T0 + 51))
        await until(lambda: pane.marker == "agent")
        title = shown_title(pane)
        assert clean(title) and title.endswith("⚙ ag\\x1b]0;x\\x07ent")
        sub = shown_title(pane, sub=True)
        assert clean(sub) and "runs $ echo \\x1b[2J[bold]hi[/bold]\\rdone" in sub
        await pilot.press("f4")
        table = app.query_one("#agents-table", DataTable)
        row = [str(c) for c in table.get_row_at(0)]
        assert clean(" ".join(row)) and row[0] == "ag\\x1b]0;x\\x07ent"
        # the reject dialog names agent, terminal and command as text
        await pilot.press("f2")
        queue.focus()
        await pilot.press("r")
        await until(lambda: isinstance(app.screen, RejectScreen))
        shown = " ".join(str(s.render()) for s in app.screen.query(Static))
        assert clean(shown)
        assert "ag\\x1b]0;x\\x07ent → main" in shown  # ap-2, the oldest left
        assert "$ make [red]x[/red]" in shown  # not parsed as markup


async def test_quit_dialog_names_the_running_commands() -> None:
    b, _ = build()
    app = AgentShellApp(b, clock=lambda: T0 + 60, notify_new=False)
    long = "pytest -q " + "tests/test_a_very_long_module_name.py " * 4
    async with app.run_test(size=SIZE) as pilot:
        b.emit(ev.ApprovalDecided(approval_id="ap-2", decision="approved", timestamp=T0 + 40))
        b.propose("ap-7", "claude", long, T0 + 41)
        b.emit(ev.ApprovalDecided(approval_id="ap-7", decision="approved", timestamp=T0 + 42))
        await until(lambda: b.running_commands() == 2)
        await pilot.press("q")
        await until(lambda: isinstance(app.screen, QuitScreen))
        screen = app.screen
        assert isinstance(screen, QuitScreen)
        lines = screen.running_lines()
        assert lines[0] == "codex in main: $ rm -rf build/ && make"
        assert lines[1].startswith("claude in main: $ pytest -q tests/test_a_very")
        assert lines[1].endswith("…") and len(lines[1]) == QuitScreen.LINE_WIDTH
        shown = str(screen.query_one("#quit-running", Static).render())
        assert "codex in main: $ rm -rf build/ && make" in shown
        assert "2 commands still running" in " ".join(str(s.render()) for s in screen.query(Static))
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, QuitScreen))
        assert app.is_running
