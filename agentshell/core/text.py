"""Text from agents (names, commands, descriptions) shown to the operator: control
and invisible characters as visible escapes, never raw.

An agent's command may hold escape codes: printed raw to the operator's terminal
(`agentshell approvals`) they would be obeyed (colours, cursor moves, a cleared line,
a new window title), so what is shown could differ from what would run. The TUI and
the CLI both show text from agents through :func:`printable`.
"""

from __future__ import annotations

import re

#: C0 controls, DEL, C1 controls, and the invisible characters that reorder or hide
#: text (bidi embeddings, overrides and isolates, zero-width marks, BOM).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` with every control or invisible character as a visible escape
    (``"a\\x1b[31mb"`` shows as ``a\\x1b[31mb`` with a literal backslash)."""
    s = text if isinstance(text, str) else str(text)
    return _UNSAFE.sub(_escape_char, s)
