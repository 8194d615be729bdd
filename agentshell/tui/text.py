"""Names and commands as the operator's UI shows them: printable, never markup.

Terminal names in recordings from before names were checked, agent ids and command
texts may hold control characters and escape codes. Drawn raw, an ``ESC`` would be
a box or nothing and a newline would split a title. :func:`printable` shows each
such character as a visible escape (``\\x1b``, ``\\n``), so the operator sees that
the name is odd rather than being fooled by it. Textual parses plain strings given
to ``Static``, ``Label`` and border titles as markup (escaping ``[`` is not enough
after an escape code's ``[``): :func:`safe` makes a :class:`Content` instead, which
is never parsed.
"""

from __future__ import annotations

import re

from textual.content import Content

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


def shorten(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` characters, ending in ``…`` when cut."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


def safe(text: object, style: str = "") -> Content:
    """:func:`printable` ``text`` as Content: shown as is, never parsed as markup."""
    return Content.styled(printable(text), style) if style else Content(printable(text))
