"""A fixed scenario (recorded bytes + events) shared by the Pilot and snapshot tests."""

from __future__ import annotations

from agentshell.core import events as ev
from agentshell.tui.backend import ConflictSides
from tests.tui.fakes import T0, FakeBackend, RecordedTerminal

MAIN_BYTES = (
    b"\x1b[1;32muser@box\x1b[0m:\x1b[1;34m~/demo\x1b[0m$ ls --color\r\n"
    b"\x1b[0m\x1b[01;34msrc\x1b[0m  \x1b[01;34mtests\x1b[0m  README.md  \x1b[01;32mrun.sh\x1b[0m\r\n"
    b"\x1b[1;32muser@box\x1b[0m:\x1b[1;34m~/demo\x1b[0m$ pytest -q\r\n"
    b"\x1b[32m....\x1b[0m\x1b[31mF\x1b[0m\x1b[32m...\x1b[0m\r\n"
    b"\x1b[31m1 failed\x1b[0m, \x1b[32m7 passed\x1b[0m in 0.42s\r\n"
    b"\x1b[1;32muser@box\x1b[0m:\x1b[1;34m~/demo\x1b[0m$ "
)
TESTS_BYTES = (
    b"$ make lint\r\nruff check .\r\n\x1b[1mAll checks passed!\x1b[0m\r\n"
    b"$ \x1b[7m reverse \x1b[0m \x1b[4munderline\x1b[0m \x1b[38;5;208m256-colour\x1b[0m "
    b"\x1b[38;2;0;200;255mtruecolour\x1b[0m\r\n$ "
)


def build(conflict: bool = True) -> tuple[FakeBackend, dict[str, RecordedTerminal]]:
    terms = {
        "main": RecordedTerminal("main", MAIN_BYTES),
        "tests": RecordedTerminal("tests", TESTS_BYTES),
    }
    b = FakeBackend(terms)
    b.emit(ev.TerminalOpened(terminal="main", cwd="/work/demo", timestamp=T0))
    b.emit(ev.TerminalOpened(terminal="tests", cwd="/work/demo", timestamp=T0))
    b.agent("claude", ["run", "type", "edit", "read", "python"], T0)
    b.agent("codex", ["run", "read", "testing"], T0 + 1)
    b.agent("aider", ["run", "edit", "docs"], T0 + 2)
    b.propose("ap-1", "claude", "pytest -q tests/test_parser.py", T0 + 10)
    b.propose("ap-2", "codex", "rm -rf build/ && make", T0 + 20, risk=["rm -rf"])
    b.propose("ap-3", "aider", "git commit -am 'docs: usage'", T0 + 30)
    b.emit(
        ev.TaskCreated(
            task_id="t1",
            description="Fix the failing parser test",
            suggested_agents=[["claude", 0.9], ["codex", 0.6]],
            timestamp=T0 + 5,
        )
    )
    if conflict:
        b.emit(
            ev.ConflictDetected(
                agent_id="system",
                conflict_id="c-1",
                file_path="src/parser.py",
                agents=["claude", "aider"],
                ranges=[[11, 14], [12, 15]],
                overlap=[12, 14],
                timestamp=T0 + 40,
            )
        )
        b.sides["c-1"] = ConflictSides(
            "claude",
            ("def parse(text):", "    tokens = lex(text)", "    return Tree(tokens)"),
            "aider",
            (
                "def parse(text: str) -> Tree:",
                '    """Parse text."""',
                "    return Tree(lex(text))",
            ),
            11,
            12,
        )
    return b, terms
