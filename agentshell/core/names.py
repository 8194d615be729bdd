"""Which names a new terminal may take (pure: the coordinator and the server ask here).

A terminal name ends up in widget ids, file names of exported recordings, rule
scopes and command lines (``--terminal NAME``), so a new terminal gets a plain name:
1-64 letters, digits, ``_``, ``.`` or ``-``, not starting with a dot. Recordings
made before this rule may hold other names; whatever shows or exports them derives
a safe form from the name rather than trusting it.
"""

from __future__ import annotations

import re
from typing import Final

from agentshell.core.errors import InvalidNameError

TERMINAL_NAME_MAX: Final = 64
_TERMINAL_NAME: Final = re.compile(rf"[A-Za-z0-9_-][A-Za-z0-9_.-]{{0,{TERMINAL_NAME_MAX - 1}}}")


def is_terminal_name(name: object) -> bool:
    """True when ``name`` may name a new terminal."""
    return isinstance(name, str) and _TERMINAL_NAME.fullmatch(name) is not None


def check_terminal_name(name: object) -> str:
    """``name`` when it is a plain terminal name, else :class:`InvalidNameError`."""
    if is_terminal_name(name):
        assert isinstance(name, str)
        return name
    raise InvalidNameError(
        f"terminal name {_shown(name)} is not a plain name: use 1-{TERMINAL_NAME_MAX} "
        "letters, digits, '_', '.', '-' (not starting with a dot)"
    )


def _shown(name: object) -> str:
    """``repr(name)``, cut short for a long one (an error frame is no place for 5000 chars)."""
    if isinstance(name, str) and len(name) > TERMINAL_NAME_MAX:
        return f"{name[:TERMINAL_NAME_MAX]!r}... ({len(name)} characters)"
    return repr(name)
