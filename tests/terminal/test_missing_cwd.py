"""A terminal whose directory is missing: a clear error, and no forked copy of this
process left running on (ptyprocess's own ``cwd=`` changes directory unguarded in the
child)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentshell.terminal import Terminal
from agentshell.terminal.errors import TerminalError


async def test_a_missing_directory_is_refused_before_any_fork(
    tmp_path: Path, shell_env: dict[str, str]
) -> None:
    t = Terminal(shell="/bin/bash", cwd=tmp_path / "gone", env=shell_env, user_rc=False)
    with pytest.raises(TerminalError, match="no such directory"):
        await t.start()
    assert t.closed


async def test_a_directory_gone_at_the_fork_fails_in_the_child_not_on_in_it(
    tmp_path: Path, shell_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "gone"
    t = Terminal(shell="/bin/bash", cwd=gone, env=shell_env, user_rc=False)
    monkeypatch.setattr(os.path, "isdir", lambda _: True)  # it vanished after the check
    pid = os.getpid()
    with pytest.raises(FileNotFoundError):
        await t.start()
    if os.getpid() != pid:  # a forked child got here: stop it before it runs the suite on
        os._exit(3)
    assert t.closed
