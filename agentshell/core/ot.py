"""Text operations for operational transformation (retain / insert / delete).

An operation is a tuple of components walked left to right over the document:

* ``int n > 0``  retain n characters,
* ``str s``      insert s,
* ``int n < 0``  delete -n characters.

Lengths count Unicode code points. The wire form (``to_wire``/``from_wire``) is the
same list, which msgpack carries as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentshell.core.errors import AgentShellError

Component = int | str
Op = tuple[Component, ...]


class OTError(AgentShellError, ValueError):
    """An operation does not fit the document (or another operation) it meets."""


def from_wire(data: Sequence[Any]) -> Op:
    """Validate a wire operation and return it as a tuple of components."""
    if not isinstance(data, list | tuple):
        raise OTError(f"an operation is a list of components, got {type(data).__name__}")
    out: list[Component] = []
    for c in data:
        if isinstance(c, bool) or not isinstance(c, int | str):
            raise OTError(f"bad component {c!r}: use int (retain/delete) or str (insert)")
        if c == 0 or c == "":
            raise OTError("empty component in operation")
        out.append(c)
    return tuple(out)


def to_wire(op: Op) -> list[Component]:
    return list(op)


def base_length(op: Op) -> int:
    """Length of the document the operation applies to."""
    return sum(abs(c) for c in op if isinstance(c, int))


def target_length(op: Op) -> int:
    """Length of the document after the operation."""
    return sum(
        c if isinstance(c, int) and c > 0 else len(c) if isinstance(c, str) else 0 for c in op
    )


def apply(text: str, op: Op) -> str:
    """Apply ``op`` to ``text``; raises OTError when the lengths do not match."""
    if base_length(op) != len(text):
        raise OTError(f"operation spans {base_length(op)} characters, document has {len(text)}")
    parts: list[str] = []
    pos = 0
    for c in op:
        if isinstance(c, str):
            parts.append(c)
        elif c > 0:
            parts.append(text[pos : pos + c])
            pos += c
        else:
            pos -= c
    return "".join(parts)
