"""A byte-level scanner for shell-integration marks in a PTY's output.

It finds ``OSC 133 ; A|B|C|D[;status]`` (prompt start, command start, output start,
command finished) and ``OSC 7 ; file://host/path`` (working directory), terminated by
BEL or ST, and tolerates a sequence split across reads (an unfinished ``ESC ]`` at
the end of a chunk is held back until the next one). Everything else comes out as
plain ``bytes`` pieces, in order, so a caller can capture what a command printed
between its C and D marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

_MARK = re.compile(rb"\x1b\](?:133;([ABCD])((?:;[^\x07\x1b]*)?)|7;([^\x07\x1b]*))(?:\x07|\x1b\\)")
_HOLD_MAX = 4096


@dataclass(frozen=True, slots=True)
class Mark:
    """``kind`` is ``"A"``, ``"B"``, ``"C"``, ``"D"`` or ``"cwd"``.

    For D, ``exit_code`` is the status the shell reported (None when absent); for
    cwd, ``path`` is the decoded directory.
    """

    kind: str
    exit_code: int | None = None
    path: str = ""


def parse_osc7(url: str) -> str:
    """``file://host/some%20dir`` -> ``/some dir`` (anything else: the text as is)."""
    if url.startswith("file://"):
        return unquote(urlsplit(url).path) or "/"
    return unquote(url)


class MarkScanner:
    def __init__(self) -> None:
        self._held = b""

    def feed(self, data: bytes) -> list[bytes | Mark]:
        """Split ``data`` into plain pieces and marks, in stream order."""
        if self._held:
            data = self._held + data
            self._held = b""
        out: list[bytes | Mark] = []
        if b"\x1b" not in data:
            if data:
                out.append(data)
            return out
        pos = 0
        for m in _MARK.finditer(data):
            if m.start() > pos:
                out.append(data[pos : m.start()])
            pos = m.end()
            kind = m.group(1)
            if kind is None:
                out.append(Mark("cwd", path=parse_osc7(m.group(3).decode("utf-8", "replace"))))
                continue
            k = kind.decode()
            code: int | None = None
            if k == "D":
                arg = m.group(2)[1:].split(b";")[0].strip()
                try:
                    code = int(arg) if arg else None
                except ValueError:
                    code = None
            out.append(Mark(k, exit_code=code))
        rest = data[pos:]
        osc = rest.rfind(b"\x1b]")
        if osc >= 0 and len(rest) - osc < _HOLD_MAX:
            tail = rest[osc:]
            if b"\x07" not in tail and b"\x1b\\" not in tail:
                self._held = tail
                rest = rest[:osc]
        if not self._held and rest.endswith(b"\x1b"):
            self._held = b"\x1b"
            rest = rest[:-1]
        if rest:
            out.append(rest)
        return out

    def flush(self) -> bytes:
        """Bytes held back waiting for the end of a sequence (given up on)."""
        held, self._held = self._held, b""
        return held
