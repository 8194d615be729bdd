"""The plain-name rule for new terminals."""

from __future__ import annotations

import pytest

from agentshell.core.errors import InvalidNameError
from agentshell.core.names import TERMINAL_NAME_MAX, check_terminal_name, is_terminal_name

GOOD = ["main", "tests", "web.server", "build-2", "_x", "-dash", "a" * TERMINAL_NAME_MAX, "7"]
BAD = [
    "",
    "a\nb",
    "\x1b[31mred",
    "a" * 5000,
    "a" * (TERMINAL_NAME_MAX + 1),
    "bad/name",
    ".hidden",
    "..",
    "with space",
    "naïve",
    "a\x00b",
    None,
    3,
]


@pytest.mark.parametrize("name", GOOD, ids=[n[:14] for n in GOOD])
def test_plain_names_pass(name: str) -> None:
    assert is_terminal_name(name) and check_terminal_name(name) == name


@pytest.mark.parametrize("name", BAD, ids=[repr(n)[:14] for n in BAD])
def test_others_are_refused_with_a_clear_message(name: object) -> None:
    assert not is_terminal_name(name)
    with pytest.raises(InvalidNameError, match="is not a plain name") as info:
        check_terminal_name(name)
    assert len(str(info.value)) < 300  # a 5000-character name is not echoed whole
