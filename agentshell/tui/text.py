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

from textual.content import Content

from agentshell.core.text import printable

__all__ = ["printable", "safe", "shorten"]


def shorten(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` characters, ending in ``…`` when cut."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


def safe(text: object, style: str = "") -> Content:
    """:func:`printable` ``text`` as Content: shown as is, never parsed as markup."""
    return Content.styled(printable(text), style) if style else Content(printable(text))
