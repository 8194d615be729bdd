"""`agentshell agent add/list/remove` on a session no server holds (the log directly)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from agentshell.cli import commands  # noqa: F401  (registers subcommands)
from agentshell.cli.main import cli
from agentshell.store.session import SessionManager


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_adding_an_existing_agent_needs_replace(tmp_path: Path) -> None:
    where = ["--dir", str(tmp_path), "--session", "s"]
    code, token, _ = run("agent", "add", "claude", "-c", "run,read,python", *where)
    assert code == 0 and token.strip()
    code, out, err = run("agent", "add", "claude", "-c", "read", *where)
    assert code == 1 and not out and "exists (capabilities run,read,python)" in err
    with SessionManager("s", tmp_path) as sm:  # nothing changed: same token, same skills
        (a,) = sm.state["agents"].values()
        assert a.capabilities == ("run", "read", "python")
        first_hash = a.token_hash
    code, token2, _ = run("agent", "add", "claude", "-c", "read", "--replace", *where)
    assert code == 0 and token2.strip() and token2 != token
    with SessionManager("s", tmp_path) as sm:
        (a,) = sm.state["agents"].values()
        assert a.capabilities == ("read",) and a.token_hash != first_hash
    code, out, _ = run("agent", "remove", "claude", *where)
    assert code == 0
    code, _, _ = run("agent", "add", "claude", *where)  # removed: a plain add again
    assert code == 0
