"""Rules the human made: allow / ask / deny a command without asking each time.

A rule (``RuleInfo`` in ``core.state``) has an ``action`` (allow, ask, deny), a
``kind`` and ``pattern``, and a ``scope``: ``session`` (everyone), ``agent``
(``scope_value`` = agent id) or ``terminal`` (``scope_value`` = terminal name).

Matching (``matches``), with ``words(x)`` = ``shlex.split(x)``:

* ``exact``: ``command.strip() == pattern.strip()`` -- the very text.
* ``prefix``: ``words(pattern)`` is a prefix of ``words(command)``, argument by
  argument (``git st`` does not match ``git status``).
* ``glob``: ``words(pattern)`` matched against ``words(command)`` argument by
  argument with ``fnmatch.fnmatchcase`` (``*``, ``?``, ``[...]`` inside one
  argument; case-sensitive; ``*`` also matches ``/``). A *last* pattern argument
  that is exactly ``*`` matches any number of remaining arguments, none
  included (``pytest *`` matches ``pytest`` and ``pytest -x tests/a.py``);
  otherwise the counts must be equal.

Compound commands (``;``, ``&&``, ``|``, redirections, ``$(...)``, backticks,
newlines; see ``risk.parse_command``) are treated with suspicion: ``allow`` rules of
kind prefix/glob only match a simple command (so ``git status && rm -rf ~`` is never
allowed by a ``git status`` prefix rule), while ``deny`` and ``ask`` rules of kind
prefix/glob match when *any* simple command in it matches. Exact rules match the
whole text whatever it contains.

:func:`decide`: among the rules in scope that match, deny beats ask beats allow;
among rules of the winning action the oldest (lowest ``seq``, then ``rule_id``)
is reported. No matching rule -> ``(None, None)``: ask the human.
"""

from __future__ import annotations

import fnmatch
import shlex
from collections.abc import Iterable, Sequence

from agentshell.core.errors import AgentShellError
from agentshell.core.risk import parse_command, risk_hints
from agentshell.core.state import RuleInfo

ACTIONS = ("allow", "ask", "deny")
KINDS = ("exact", "prefix", "glob")
SCOPES = ("session", "agent", "terminal")
_SEVERITY = {"allow": 0, "ask": 1, "deny": 2}

#: Tools whose second word is a subcommand (``git status``, ``npm test``).
SUBCOMMAND_TOOLS = frozenset(
    (
        "git",
        "npm",
        "pnpm",
        "yarn",
        "cargo",
        "go",
        "docker",
        "kubectl",
        "pip",
        "uv",
        "poetry",
        "make",
        "gh",
        "apt",
        "brew",
        "systemctl",
    )
)


class RuleError(AgentShellError, ValueError):
    """A rule that cannot be used (unknown action, kind, scope or empty pattern)."""


def check_rule(action: str, kind: str, pattern: str, scope: str, scope_value: str = "") -> None:
    """Raise RuleError when the rule's fields are not usable."""
    if action not in ACTIONS:
        raise RuleError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if kind not in KINDS:
        raise RuleError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if scope not in SCOPES:
        raise RuleError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    if scope != "session" and not scope_value:
        raise RuleError(f"a rule scoped to one {scope} needs its name as scope_value")
    if not pattern.strip():
        raise RuleError("the pattern is empty")
    if kind != "exact":
        try:
            if not shlex.split(pattern):
                raise RuleError("the pattern has no words")
        except ValueError as exc:
            raise RuleError(f"the pattern does not parse: {exc}") from None


def _words(text: str) -> list[str] | None:
    try:
        return shlex.split(text)
    except ValueError:
        return None


def glob_match(pattern_words: Sequence[str], args: Sequence[str]) -> bool:
    """Argument-wise glob match (see the module docstring)."""
    if pattern_words and pattern_words[-1] == "*":
        head = pattern_words[:-1]
        if len(args) < len(head):
            return False
        args = args[: len(head)]
        pattern_words = head
    elif len(args) != len(pattern_words):
        return False
    return all(fnmatch.fnmatchcase(a, p) for a, p in zip(args, pattern_words, strict=True))


def _words_match(kind: str, pattern_words: Sequence[str], args: Sequence[str]) -> bool:
    if not pattern_words:
        return False
    if kind == "prefix":
        return list(args[: len(pattern_words)]) == list(pattern_words)
    return glob_match(pattern_words, args)


def matches(rule: RuleInfo, command: str) -> bool:
    """True when ``rule``'s pattern matches ``command`` (scope not considered)."""
    if rule.kind == "exact":
        return command.strip() == rule.pattern.strip()
    if rule.kind not in ("prefix", "glob"):
        return False
    pattern_words = _words(rule.pattern)
    if not pattern_words:
        return False
    sc = parse_command(command)
    if rule.action == "allow":
        return sc.simple and _words_match(rule.kind, pattern_words, sc.segments[0])
    segments = list(sc.segments)
    whole = _words(command) if sc.parsed else None
    if whole is not None:
        segments.append(tuple(whole))
    return any(_words_match(rule.kind, pattern_words, seg) for seg in segments)


def in_scope(rule: RuleInfo, agent: str, terminal: str) -> bool:
    if rule.scope == "session":
        return True
    if rule.scope == "agent":
        return rule.scope_value == agent
    if rule.scope == "terminal":
        return rule.scope_value == terminal
    return False


def decide(
    rules: Iterable[RuleInfo], command: str, agent: str, terminal: str
) -> tuple[str | None, str | None]:
    """``(action, rule_id)`` of the deciding rule, or ``(None, None)`` (ask the human)."""
    best: RuleInfo | None = None
    for rule in rules:
        if rule.action not in _SEVERITY or not in_scope(rule, agent, terminal):
            continue
        if not matches(rule, command):
            continue
        if best is None:
            best = rule
            continue
        key = (-_SEVERITY[rule.action], rule.seq, rule.rule_id)
        if key < (-_SEVERITY[best.action], best.seq, best.rule_id):
            best = rule
    if best is None:
        return None, None
    return best.action, best.rule_id


def _glob_escape(word: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in word)


def suggest_rule(command: str) -> tuple[str, str]:
    """A rule ``(kind, pattern)`` for "approve similar commands".

    * compound, unparsable or risky commands (any :func:`risk.risk_hints`), and
      commands that are only a tool and its subcommand (``git status``, ``ls``):
      ``exact`` -- the very text;
    * otherwise ``glob``: the tool (plus its subcommand for tools such as git,
      npm, cargo; plus ``-m module`` for ``python -m``) followed by ``*``:
      ``pytest tests/foo.py -x`` -> ``pytest *``, ``git commit -m x`` ->
      ``git commit *``. The human previews and edits it before it is saved.
    """
    text = command.strip()
    sc = parse_command(text)
    if not sc.simple or risk_hints(text):
        return "exact", text
    words = list(sc.segments[0])
    head = [words[0]]
    rest = words[1:]
    tool = words[0].rsplit("/", 1)[-1]
    if tool in SUBCOMMAND_TOOLS and rest and not rest[0].startswith("-"):
        head.append(rest.pop(0))
    elif tool.startswith("python") and len(rest) >= 2 and rest[0] == "-m":
        head.extend(rest[:2])
        rest = rest[2:]
    if not rest:
        return "exact", text
    return "glob", " ".join([*(_glob_escape(shlex.quote(w)) for w in head), "*"])
