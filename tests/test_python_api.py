"""The documented Python API: the README's example run as written, and docs/api.md's
table checked against the code (every call exists where it says, every named test exists)."""

from __future__ import annotations

import ast
import importlib
import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_example() -> str:
    """The code block of the README's "Python API" section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m is not None, "README.md's Python API section has no ```python block"
    return m.group(1)


def _expectations(code: str) -> dict[int, Any]:
    """``line -> value`` for each expression statement whose comment starts with a
    Python literal (``session.get_cwd("coder")  # '/'``): what the README promises."""
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string[1:].strip()
    out: dict[int, Any] = {}
    for node in ast.parse(code).body:
        comment = comments.get(node.end_lineno or node.lineno)
        if not isinstance(node, ast.Expr) or comment is None:
            continue
        head = comment.split(":", 1)[0]  # "[]: CommandRecords, oldest first"
        for candidate in (comment, head):
            try:
                out[node.lineno] = ast.literal_eval(candidate)
                break
            except (ValueError, SyntaxError):
                continue
    return out


def _env() -> dict[str, str]:
    """The environment for a child Python: this checkout first, no session dir set."""
    env = {k: v for k, v in os.environ.items() if k != "AGENTSHELL_DIR"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


_RUNNER = """
import ast, sys
code = sys.stdin.read()
expect = eval(sys.argv[1])
ns = {"__name__": "__main__"}
checked = 0
for node in ast.parse(code).body:
    if isinstance(node, ast.Expr):
        got = eval(compile(ast.Expression(node.value), "<README>", "eval"), ns)
        if node.lineno in expect:
            want = expect[node.lineno]
            assert got == want, f"README line {node.lineno}: got {got!r}, the comment says {want!r}"
            checked += 1
    else:
        exec(compile(ast.Module([node], []), "<README>", "exec"), ns)
print("ran", checked)
"""


def test_the_readme_python_example_runs_as_written(tmp_path: Path) -> None:
    code = readme_example()
    expect = _expectations(code)
    # what the comments promise (so a wrong comment fails, not only a crash)
    assert len(expect) >= 8, expect
    env = _env()
    p = subprocess.run(
        [sys.executable, "-c", _RUNNER, repr(expect)],
        input=code,
        cwd=tmp_path,  # the example writes ./sessions
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"ran {len(expect)}"
    assert (tmp_path / "sessions" / "my_session" / "events.log").is_file()
    assert list((tmp_path / "sessions" / "my_session" / "snapshots").glob("snapshot-*.bin"))


def test_the_readme_comments_are_read() -> None:
    code = "x = 1\nx + 1   # 2\nx      # [1]: a list\nx   # not a literal\n\"a\"  # 'a'\n"
    assert _expectations(code) == {2: 2, 3: [1], 5: "a"}


# ---------------------------------------------------------------- docs/api.md

_ROW = re.compile(r"^\|\s*`(?P<call>[^`]+)`.*?\|\s*`(?P<where>[^`]+)`\s*\|\s*(?P<tests>.+?)\s*\|$")


def api_rows() -> list[tuple[str, str, list[str]]]:
    rows = []
    for line in (ROOT / "docs" / "api.md").read_text().splitlines():
        m = _ROW.match(line)
        if m:
            tests = re.findall(r"`(tests/[^`]+)`", m["tests"])
            rows.append((m["call"], m["where"], tests))
    return rows


def _resolve(where: str) -> object:
    """``agentshell.store.session.SessionManager.list_agents`` -> the object."""
    parts = where.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise AssertionError(f"{where}: no such module")


def test_the_api_table_names_real_code_and_real_tests() -> None:
    rows = api_rows()
    assert len(rows) >= 20, "docs/api.md: the table is missing or unreadable"
    for call, where, tests in rows:
        assert tests, f"{call}: no test named"
        _resolve(where)  # raises when the call does not live there
        for t in tests:
            path, _, name = t.partition("::")
            source = (ROOT / path).read_text()
            assert re.search(rf"^(async )?def {re.escape(name)}\(", source, re.M), (
                f"{call}: {t} does not exist"
            )


def test_every_public_name_is_in_the_api_table() -> None:
    import agentshell

    documented = {where for _, where, _ in api_rows()}
    for name in ("SessionManager", "CapabilityRegistry", "ConflictResolver", "VectorClock"):
        cls = getattr(agentshell, name)
        assert any(w.startswith(f"{cls.__module__}.{cls.__qualname__}") for w in documented), name
    assert any(w.endswith("coordinator.coordinator.Coordinator") for w in documented)


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("SessionManager", "agentshell.store.session"),
        ("CapabilityRegistry", "agentshell.core.capabilities"),
        ("ConflictResolver", "agentshell.core.conflicts"),
        ("EditConflict", "agentshell.core.conflicts"),
        ("VectorClock", "agentshell.core.clock"),
        ("ClockOrder", "agentshell.core.clock"),
        ("AgentInfo", "agentshell.core.state"),
        ("SessionState", "agentshell.core.state"),
    ],
)
def test_the_package_exports(name: str, where: str) -> None:
    import agentshell

    assert getattr(agentshell, name) is getattr(importlib.import_module(where), name)
    assert name in agentshell.__all__


def test_terminal_coordinator_is_the_coordinator_and_loads_lazily() -> None:
    # a fresh interpreter: importing the package does not import the coordinator
    probe = (
        "import sys, agentshell; lazy = 'agentshell.coordinator' not in sys.modules;"
        " from agentshell import TerminalCoordinator;"
        " from agentshell.coordinator.coordinator import Coordinator;"
        " print(lazy, TerminalCoordinator is Coordinator)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.split() == ["True", "True"]
    import agentshell

    assert "TerminalCoordinator" in agentshell.__all__
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        agentshell.Nope  # noqa: B018


async def test_the_coordinator_and_the_conflict_resolver_find_the_same_conflicts(
    tmp_path: Path,
) -> None:
    """One rule: a real TerminalCoordinator's conflicts for a run of concurrent and
    sequential edits are exactly those a ConflictResolver finds for the same edits."""
    import random

    from agentshell import ConflictResolver, SessionManager, TerminalCoordinator

    base = "".join(f"line {i}\n" for i in range(12))
    rng = random.Random(17)
    sm = SessionManager("t", tmp_path / "data")
    co = TerminalCoordinator(sm, project_dir=tmp_path, user_rc=False)
    await co.start()
    try:
        for agent in "abc":
            await co.add_agent(agent, ["read", "edit"])
        reported = []
        for n in range(40):
            agent = rng.choice("abc")
            rows = base.splitlines(keepends=True)
            start = rng.randrange(12)
            for i in range(start, min(12, start + rng.randrange(1, 4))):
                rows[i] = f"{agent}{n} {i}\n"
            # sometimes the agent says it has seen everything so far (sequential edits)
            clock = dict(sm.state["clock"]) if rng.random() < 0.3 else None
            path = rng.choice(["f.py", "g.py"])
            _, conflicts = await co.report_edit(agent, path, base, "".join(rows), clock)
            reported += [
                (tuple(c.edit_ids), tuple(map(tuple, c.ranges)), tuple(c.overlap))
                for c in conflicts
            ]
        edits = sorted(
            (e for es in sm.state["file_edits"].values() for e in es), key=lambda e: e.seq
        )
        assert len(edits) == 40
        resolver = ConflictResolver()
        found = [(c.edit_ids, c.ranges, c.overlap) for e in edits for c in resolver.record(e)]
        assert sorted(found) == sorted(reported)
        assert len(reported) >= 5  # the run made conflicts to compare
        assert len(sm.state["active_conflicts"]) == len(resolver.active_conflicts)
    finally:
        await co.stop()
        sm.close()
