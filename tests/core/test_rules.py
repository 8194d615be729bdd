"""Rules: matching kinds, scopes, precedence, compound commands, suggestions."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentshell.core.rules import (
    RuleError,
    check_rule,
    decide,
    glob_match,
    matches,
    suggest_rule,
)
from agentshell.core.state import RuleInfo


def rule(
    action: str,
    kind: str,
    pattern: str,
    scope: str = "session",
    scope_value: str = "",
    rule_id: str = "",
    seq: int = 0,
) -> RuleInfo:
    return RuleInfo(
        rule_id=rule_id or f"{action}-{kind}-{pattern}",
        action=action,
        kind=kind,
        pattern=pattern,
        scope=scope,
        scope_value=scope_value,
        by="human",
        created_at=0.0,
        seq=seq,
    )


@pytest.mark.parametrize(
    ("kind", "pattern", "command", "expected"),
    [
        ("exact", "git status", "git status", True),
        ("exact", "git status", "  git status ", True),
        ("exact", "git status", "git status -s", False),
        ("exact", "ls && rm x", "ls && rm x", True),
        ("prefix", "git", "git status", True),
        ("prefix", "git", "gitk", False),
        ("prefix", "git st", "git status", False),
        ("prefix", "git status", "git status -s", True),
        ("prefix", "pytest 'a b'", 'pytest "a b" -x', True),
        ("glob", "pytest *", "pytest", True),
        ("glob", "pytest *", "pytest -x tests/a.py", True),
        ("glob", "pytest *", "pytestx", False),
        ("glob", "pytest tests/*.py", "pytest tests/a.py", True),
        ("glob", "pytest tests/*.py", "pytest tests/a.py -x", False),
        ("glob", "pytest * -x", "pytest a -x", True),
        ("glob", "pytest * -x", "pytest a b -x", False),
        ("glob", "cat *.txt", "cat notes.TXT", False),
        ("glob", "ls -?", "ls -l", True),
    ],
)
def test_matching_kinds(kind: str, pattern: str, command: str, expected: bool) -> None:
    assert matches(rule("allow", kind, pattern), command) is expected


@pytest.mark.parametrize(
    "command",
    [
        "git status && rm -rf ~",
        "git status; curl x | sh",
        "git status > /etc/passwd",
        "git status $(rm -rf ~)",
        "git status `id`",
        "git status\nrm -rf ~",
        "git status 'unbalanced",
    ],
)
def test_allow_never_matches_compound(command: str) -> None:
    assert not matches(rule("allow", "prefix", "git status"), command)
    assert not matches(rule("allow", "glob", "git *"), command)
    assert decide([rule("allow", "glob", "git *")], command, "a", "main") == (None, None)


def test_deny_matches_any_part() -> None:
    deny = rule("deny", "prefix", "rm -rf")
    assert matches(deny, "ls && rm -rf /")
    assert matches(deny, "ls\nrm -rf /")
    assert matches(rule("ask", "glob", "curl *"), "echo hi; curl x | sh")
    assert not matches(deny, "rm -r x")


def test_precedence_deny_ask_allow() -> None:
    allow = rule("allow", "glob", "git *", rule_id="r1", seq=1)
    ask = rule("ask", "prefix", "git push", rule_id="r2", seq=2)
    deny = rule("deny", "glob", "git push --force *", rule_id="r3", seq=3)
    rules = [deny, allow, ask]
    assert decide(rules, "git status", "a", "main") == ("allow", "r1")
    assert decide(rules, "git push origin", "a", "main") == ("ask", "r2")
    assert decide(rules, "git push --force origin", "a", "main") == ("deny", "r3")
    assert decide(rules, "ls", "a", "main") == (None, None)
    assert decide([], "ls", "a", "main") == (None, None)


def test_oldest_rule_of_winning_action_reported() -> None:
    r_new = rule("allow", "prefix", "ls", rule_id="b", seq=9)
    r_old = rule("allow", "glob", "ls *", rule_id="z", seq=2)
    assert decide([r_new, r_old], "ls -la", "a", "main") == ("allow", "z")
    assert decide([r_old, r_new], "ls -la", "a", "main") == ("allow", "z")


def test_scopes() -> None:
    for_agent = rule("allow", "exact", "make", scope="agent", scope_value="coder", rule_id="ra")
    for_term = rule("deny", "exact", "make", scope="terminal", scope_value="prod", rule_id="rt")
    rules = [for_agent, for_term]
    assert decide(rules, "make", "coder", "main") == ("allow", "ra")
    assert decide(rules, "make", "other", "main") == (None, None)
    assert decide(rules, "make", "coder", "prod") == ("deny", "rt")


def test_check_rule() -> None:
    check_rule("allow", "glob", "pytest *", "session")
    check_rule("deny", "exact", "rm -rf /", "agent", "coder")
    for bad in (
        ("permit", "glob", "x", "session", ""),
        ("allow", "regex", "x", "session", ""),
        ("allow", "glob", "x", "world", ""),
        ("allow", "glob", "x", "agent", ""),
        ("allow", "glob", "   ", "session", ""),
        ("allow", "glob", "'open", "session", ""),
    ):
        with pytest.raises(RuleError):
            check_rule(*bad)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("pytest tests/foo.py -x", ("glob", "pytest *")),
        ("git status", ("exact", "git status")),
        ("git commit -m 'fix it'", ("glob", "git commit *")),
        ("python -m pytest -q", ("glob", "python -m pytest *")),
        ("ls", ("exact", "ls")),
        ("ls -la", ("glob", "ls *")),
        ("rm -rf build", ("exact", "rm -rf build")),
        ("ls && rm x", ("exact", "ls && rm x")),
        ("npm test", ("exact", "npm test")),
        ("npm run build --prod", ("glob", "npm run *")),
    ],
)
def test_suggest_rule(command: str, expected: tuple[str, str]) -> None:
    assert suggest_rule(command) == expected


def test_suggest_escapes_glob_characters() -> None:
    kind, pattern = suggest_rule("./run[1].sh --fast")
    assert kind == "glob"
    assert matches(rule("allow", kind, pattern), "./run[1].sh --slow")
    assert not matches(rule("allow", kind, pattern), "./run1.sh --slow")


word = st.text(alphabet="abcxyz-./_=", min_size=1, max_size=6)


@given(st.lists(word, min_size=1, max_size=5))
def test_suggested_rule_matches_its_command(words: list[str]) -> None:
    command = shlex.join(words)
    kind, pattern = suggest_rule(command)
    check_rule("allow", kind, pattern, "session")
    assert matches(rule("allow", kind, pattern), command)


@given(st.lists(word, max_size=5), st.lists(word, max_size=5))
def test_glob_star_tail(head: list[str], tail: list[str]) -> None:
    """A trailing lone * matches any tail; literal words match only themselves."""
    literal = [w for w in head if not any(c in w for c in "*?[")]
    assert glob_match([*literal, "*"], [*literal, *tail])
    assert glob_match(literal, literal)
    assert not glob_match(literal, [*literal, "extra"])
