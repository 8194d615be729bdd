"""`agentshell approve --similar` over a real socket: it says which rule it added."""

from __future__ import annotations

from .conftest import Served
from .test_tasks_cli import cli


async def test_approve_similar_prints_the_rule_it_added(served: Served) -> None:
    a = await served.agent("py")
    try:
        aid = await a.propose("python3 -c 'print(1)'")
        code, out, err = await cli(served, "approve", aid, "--similar")
        assert code == 0, err
        (rule,) = served.coordinator.rules()
        assert out.strip() == (
            f"approved {aid}; added rule {rule.rule_id}: allow {rule.kind} {rule.pattern!r}"
        )
        assert (rule.action, rule.kind, rule.pattern) == ("allow", "glob", "python3 *")
    finally:
        await a.close()


def test_describe_rule_names_a_narrow_scope() -> None:
    from agentshell.cli.cmd_operator import describe_rule

    rule = {"action": "allow", "kind": "prefix", "pattern": "git status", "scope": "agent"}
    assert describe_rule("r-1", {**rule, "scope_value": "bob"}) == (
        "r-1: allow prefix 'git status' (only agent 'bob')"
    )
    assert describe_rule("r-1", {}) == "r-1"  # a server that does not send the rule


async def test_approving_a_removed_agents_command_is_a_clear_error(served: Served) -> None:
    a = await served.agent("bob")
    try:
        aid = await a.propose("ls")
        code, _, err = await cli(served, "agent", "remove", "bob")
        assert code == 0, err
        code, _, err = await cli(served, "approve", aid)
        assert code == 1
        assert f"approval {aid!r} is no longer pending" in err and "agent removed" in err
    finally:
        await a.close()
    assert [e for e in served.session.iter_events() if e.event_type == "command_executed"] == []


async def test_rules_add_warns_about_an_unknown_agent_or_terminal(served: Served) -> None:
    await served.coordinator.add_agent("bob", ["run"])
    code, out, err = await cli(served, "rules", "add", "allow", "prefix", "ls", "--agent", "nobody")
    assert code == 0, err
    assert "warning: no agent 'nobody' in this session (agents: bob)" in err
    code, out, err = await cli(
        served, "rules", "add", "deny", "exact", "make", "--terminal", "nosuch"
    )
    assert code == 0, err
    assert "warning: no terminal 'nosuch' in this session (terminals: main)" in err
    # the rules are kept all the same (a rule may come before its agent)
    scoped = {(r.scope, r.scope_value) for r in served.coordinator.rules()}
    assert scoped == {("agent", "nobody"), ("terminal", "nosuch")}
    for args in (["--agent", "bob"], ["--terminal", "main"], []):
        code, out, err = await cli(served, "rules", "add", "allow", "exact", "pwd", *args)
        assert code == 0 and out.strip().startswith("r"), err
        assert "warning" not in err, args


async def test_listings_show_an_agents_escape_codes_instead_of_obeying_them(
    served: Served,
) -> None:
    """A command (or task) from an agent may hold escape codes (a command is one line,
    but ESC is allowed in it): printed raw they recolour, move or erase what the
    operator reads (and a pipe got them silently stripped, showing another command);
    the listings show them as visible escapes."""
    a = await served.agent("bob")
    try:
        await a.propose("rm -rf ~ \x1b[2K\x1b[1Gls")  # erase the line, then show "ls"
        code, out, err = await cli(served, "approvals")
        assert code == 0, err
        assert "rm -rf ~ \\x1b[2K\\x1b[1Gls" in out and "\x1b" not in out
        await served.coordinator.create_task("fix \x1b]0;owned\x07 the build")
        code, out, err = await cli(served, "tasks")
        assert code == 0, err
        assert "fix \\x1b]0;owned\\x07 the build" in out and "\x1b" not in out
    finally:
        await a.close()
