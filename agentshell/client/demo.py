"""The `--demo` scenario: three example agents working on a scratch project.

Each agent is an ordinary :class:`AgentClient` talking to the real socket, so the
demo exercises exactly what a real agent would. Within about a minute a newcomer
sees: a command that a rule allows at once, commands waiting for approval (one of
them risky), an agent amending its pending command while the operator may edit it,
two agents co-editing the shared draft of terminal ``main``, a task with suggested
agents, and two overlapping edits of one file that become a conflict.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from agentshell.client.client import AgentClient
from agentshell.core.events import approval_doc

#: (agent id, capabilities) of the demo agents.
DEMO_AGENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("claude", ("run", "type", "edit", "read", "python", "debugging")),
    ("codex", ("run", "type", "edit", "read", "testing", "build")),
    ("aider", ("run", "type", "edit", "read", "docs", "refactoring")),
)
#: Rules the demo operator made beforehand (action, kind, pattern).
DEMO_RULES: tuple[tuple[str, str, str], ...] = (("allow", "prefix", "ls"),)

APP = "\n".join(
    [
        '"""A tiny calculator (the demo project)."""',
        "",
        "",
        "def add(a, b):",
        "    return a + b",
        "",
        "",
        "def div(a, b):",
        "    return a / b",
        "",
        "",
        'if __name__ == "__main__":',
        "    print(add(2, 3), div(10, 4))",
        "",
    ]
)


def make_project(root: Path) -> None:
    """Write the scratch project the agents work on."""
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (root / "src" / "calc.py").write_text(APP)
    (root / "tests" / "test_calc.py").write_text(
        "import sys\nsys.path.insert(0, 'src')\nfrom calc import add, div\n\n\n"
        "def test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_div():\n    assert div(1, 0) == 0  # fails: ZeroDivisionError\n"
    )
    (root / "README.md").write_text("# calc\n\nA tiny calculator.\n")


async def _run(c: AgentClient, command: str) -> None:
    with contextlib.suppress(Exception):  # rejected, expired: the agent moves on
        await c.run(command, timeout=600)


async def _claude(c: AgentClient, root: Path) -> None:
    await _run(c, "ls src tests")  # allowed by the rule: runs at once
    draft = await c.draft("main")
    draft.insert(0, "python3 src/calc.py")
    await draft.sync()
    await asyncio.sleep(0.5)
    await _run(c, "python3 -m pytest -q tests")


async def _codex(c: AgentClient, root: Path) -> None:
    await asyncio.sleep(0.3)
    approval_id = await c.propose("rm -rf build/ dist/ && python3 -m build")  # risky
    await asyncio.sleep(0.4)
    doc = await c.doc(approval_doc(approval_id))  # amend the pending command
    doc.insert(len(doc.text), " --wheel")
    with contextlib.suppress(Exception):
        await doc.sync()
    old = (root / "src" / "calc.py").read_text()
    new = old.replace("    return a / b", "    return a / b if b else 0")
    await c.report_edit("src/calc.py", old, new)
    with contextlib.suppress(Exception):
        await c.result(approval_id)


async def _aider(c: AgentClient, root: Path) -> None:
    await asyncio.sleep(0.6)
    draft = await c.draft("main")
    with contextlib.suppress(Exception):
        await draft.sync()
    draft.insert(len(draft.text), " && echo done")
    with contextlib.suppress(Exception):
        await draft.sync()
    with contextlib.suppress(Exception):
        await c.create_task("Fix the failing division test")
    old = APP
    new = old.replace(
        "def div(a, b):\n    return a / b",
        'def div(a, b):\n    """Divide; raises on zero."""\n    return a / b  # may raise',
    )
    await c.report_edit("src/calc.py", old, new)  # overlaps codex's edit: a conflict
    await _run(
        c,
        "git init -q && git add -A && git -c user.name=aider -c user.email=aider@demo.invalid commit -qm 'calc: docs'",
    )


async def run_demo(socket_path: str, tokens: dict[str, str], project: Path) -> None:
    """Run the three agents until they are done (or cancelled)."""
    make_project(project)
    scripts = {"claude": _claude, "codex": _codex, "aider": _aider}

    async def one(name: str) -> None:
        async with AgentClient.connect(socket_path, name, tokens[name]) as c:
            await scripts[name](c, project)
            await asyncio.Event().wait()  # stay connected until the demo ends

    await asyncio.gather(*(one(n) for n in scripts if n in tokens), return_exceptions=True)
