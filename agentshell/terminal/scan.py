"""Text scanning for the emulator's fast paths: no screen state here.

The tokenizer's regular expressions, the search for how far a chunk is *plain*
(printable text, SGR, CR LF, TAB, BS, BEL), SGR transition tables (params -> next
style and its cell getter), character widths, trimming trailing blanks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from wcwidth import wcwidth

from agentshell.terminal.style import BLANK, DEFAULT, Cell, Style, cells_for, sgr

TOKEN = re.compile(
    r"([^\x00-\x1f\x7f-\x9f]+)"  # 1: printable run
    r"|(\r\n)"  # 2
    r"|\x1b\[([<=>?]?)([0-9;:]*)([ -/]*)([@-~])"  # 3 prefix, 4 params, 5 intermediates, 6 final
    r"|\x1b\]([0-9]*)(?:;([^\x07\x1b\x9c]*))?(?:\x07|\x1b\\|\x9c)"  # 7 code, 8 text
    r"|\x1b([()])([0-9A-Za-z<>=%])"  # 9 G0/G1, 10 charset
    r"|([\r\n\x08\x07\t])"  # 11
)

# TOKEN's tokens other than text, to split a span into [text, token, text, ...]
SPLIT = re.compile(
    r"(\r\n"
    r"|\x1b\[[<=>?]?[0-9;:]*[ -/]*[@-~]"
    r"|\x1b\][0-9]*(?:;[^\x07\x1b\x9c]*)?(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[()][0-9A-Za-z<>=%]"
    r"|[\r\n\x08\x07\t])"
)
CSI_PARTS = re.compile(r"\x1b\[([<=>?]?)([0-9;:]*)([ -/]*)([@-~])")
OSC_PARTS = re.compile(r"\x1b\]([0-9]*)(?:;([^\x07\x1b\x9c]*))?")
# what only the per-token loop handles: other control characters, ESC starting
# anything but CSI, OSC or a charset designation
ODD = re.compile(r"[\x00-\x06\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]|\x1b(?![\[\]()])")

# The beginning of a sequence TOKEN would match, cut off by the end of the chunk.
PARTIAL = re.compile(
    r"\x1b(?:\[[<=>?]?[0-9;:]*[ -/]*|\]([0-9]*(;[^\x07\x1b\x9c]*)?\x1b?)?|[()])?\Z"
)

# Plain "log output" is text, SGR colours, CR LF, tab, backspace and bell only.
BAD_CHARS = re.compile(r"[\x00-\x06\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]")


# BAD_CHARS for ASCII text as a bytes.translate table: bad characters become 0
_BAD_ASCII = bytes(0 if BAD_CHARS.match(chr(i)) else 1 for i in range(256))
# ESC starting anything but SGR, erase in line or a move along the row (CUB/CUF/CHA)
ESC_NOT_SGR = re.compile(r"\x1b(?!\[[0-9;:]*m|\[[0-9]*[KDCG])")
# the tokens of a plain line (see Screen._draw_line), split out with their text
LINE_SPLIT = re.compile(r"(\x1b\[[0-9;:]*m|\x1b\[[0-9]*[KDCG]|[\t\r\x08\x07])")
# ESC starting anything but SGR
NOT_SGR = re.compile(r"\x1b(?!\[[0-9;:]*m)")
CRS_LF = re.compile(r"\r+\n")
# cursor moves to the right inside plain lines: a line holding one may wrap
MOVES_RIGHT = re.compile(r"\x1b\[[0-9]*[CG]")
_LONE_LF = re.compile(r"\n(?<!\r\n)")


def plain_until(text: str, pos: int, end: int) -> tuple[int, int]:
    """``(stop, bad)``: ``text[pos:stop]`` is plain (printable text, SGR sequences,
    erase in line, CUB/CUF/CHA, TAB/BS/BEL/CR, every LF after a CR), ``stop`` is the start of the line holding the
    first other character, at ``bad`` (both ``end`` if none).

    Three searches, each bounded by what the previous found (three literal-led
    patterns run far faster than one alternation)."""
    bad = end
    m = ESC_NOT_SGR.search(text, pos, bad)
    if m is not None:
        bad = m.start()
    sub = text[pos:bad]
    if sub.isascii():  # bytes.translate + find run at memory speed, the regex does not
        k = sub.encode("ascii").translate(_BAD_ASCII).find(0)
        if k >= 0:
            bad = pos + k
    else:
        m = BAD_CHARS.search(text, pos, bad)
        if m is not None:
            bad = m.start()
    m = _LONE_LF.search(text, pos, bad)
    if m is not None:
        bad = m.start()
    if bad == end:
        return end, end
    return text.rfind("\n", pos, bad) + 1 or pos, bad


SGR = re.compile(r"\x1b\[([0-9;:]*)m")
TRANSITIONS: dict[
    tuple[Any, ...], tuple[Style, Callable[[str], Cell], tuple[Callable[[str], Cell], ...]]
] = {}
# control characters other than TAB
TAB_CTRL = re.compile(r"[\x00-\x08\x0a-\x1a\x1c-\x1f\x7f]")
LINE_CTRL = re.compile(r"[\x00-\x1a\x1c-\x1f\x7f]")

WIDTHS: dict[str, int] = {}


NEXT: dict[Style, dict[str, tuple[Style, Callable[[str], Cell], dict[str, Any]]]] = {}


def sgr_step(style: Style, params: str) -> tuple[Style, Callable[[str], Cell], dict[str, Any]]:
    """What ``CSI params m`` does in ``style``: the new style, its cell getter, and
    its own transition table."""
    nxt = sgr(style, params)
    table = NEXT.get(nxt)
    if table is None:
        if len(NEXT) > 4096:
            NEXT.clear()
        table = NEXT.setdefault(nxt, {})
    return nxt, cells_for(nxt).__getitem__, table


def trim(row: list[Cell], tails: list[list[Cell]]) -> list[Cell]:
    """``row`` (at most ``len(tails) - 1`` cells) without its trailing blank cells,
    as :meth:`Emulator._push_history` trims; ``tails[k]`` is ``len(tails) - 1 - k``
    blank cells."""
    n = len(row)
    if not n or row[-1] is not BLANK:
        return row
    off = len(tails) - 1 - n  # tails[off + k] has n - k blanks
    lo, hi = 0, n
    while lo < hi:  # binary search on "row[k:] is all blank" (C-speed compares)
        mid = (lo + hi) // 2
        if row[mid:] == tails[off + mid]:
            hi = mid
        else:
            lo = mid + 1
    return row[:lo]


def char_width(char: str) -> int:
    w = WIDTHS.get(char)
    if w is None:
        w = wcwidth(char)
        WIDTHS[char] = w
        if w == 0 and len(char) == 1:
            _ZERO_SEEN.add(char)
    return w


class Marks:
    """Regular expressions over the characters of no width (combining marks...) that
    :func:`char_width` has met so far: exact for any text whose characters have all
    been through it (a character of no width is added when it is first met).

    ``seen`` counts the characters known; a caller that measured a text first and
    looked for marks after knows that the patterns are up to date for it when
    ``seen`` did not change in between."""

    seen = -1
    #: one character of no width
    ONE: re.Pattern[str]
    #: split a text at its runs of marks (kept)
    SPLIT: Callable[[str], list[str]]

    @classmethod
    def update(cls) -> type[Marks]:
        if cls.seen != len(_ZERO_SEEN):
            chars = "".join(sorted(_ZERO_SEEN))
            marks = f"[{re.escape(chars)}]"
            cls.ONE = re.compile(marks)
            cls.SPLIT = re.compile(f"({marks}+)").split
            cls.seen = len(_ZERO_SEEN)
        return cls


# the combining diacritical marks, known from the start (so the patterns are never
# empty); others join as met
_ZERO_SEEN: set[str] = set()
for _code in range(0x300, 0x370):
    char_width(chr(_code))


def style_after(style: Style, text: str, start: int, end: int) -> Style:
    """The style after the SGR sequences in ``text[start:end]`` (which holds no other escapes)."""
    reset = max(
        text.rfind("\x1b[0m", start, end),
        text.rfind("\x1b[m", start, end),
        text.rfind("\x1b[0;", start, end),
    )
    if reset >= 0:
        start = reset
        style = DEFAULT
    for m in SGR.finditer(text, start, end):
        style = sgr(style, m.group(1))
    return style


SGR_SEQ = re.compile(r"\x1b\[[0-9;:]*m")


def _narrow(text: str) -> bool:
    """Whether every character of ``text`` is printable and one column wide."""
    if text.isascii():
        return text.isprintable()
    widths = set(map(WIDTHS.get, text))
    if None in widths:
        widths = set(map(char_width, text))
    return widths == {1} and text.isprintable()


def _reach(seg: str, cols: int) -> int:
    """How much of the row a redraw of a line (after a CR, from column 0) sets, if
    it sets columns 0..reach-1 and nothing else, whatever the row held: printable
    characters one column wide and SGR, moves back (BS, CUB) over what it wrote,
    never wrapping; an erase to the end of the line (after which it has set the
    whole row). -1 otherwise."""
    if "\x1b" not in seg and "\x08" not in seg:
        return len(seg) if len(seg) <= cols and _narrow(seg) else -1
    parts = LINE_SPLIT.split(seg)
    x = hi = 0
    whole = False
    for k in range(0, len(parts), 2):
        text = parts[k]
        if text:
            if not _narrow(text):
                return -1
            x += len(text)
            if x > cols:  # it wraps
                return -1
            if x > hi:
                hi = x
        if k + 1 == len(parts):
            break
        token = parts[k + 1]
        if token == "\x08":  # as the line drawer moves
            x = max(0, min(x - 1 if x < cols else cols - 2, cols - 1))
        elif token[-1] == "m" or token == "\x07":
            pass
        elif token == "\x1b[K" or token == "\x1b[0K":
            whole = True  # from x (<= hi) to the end: with the text, the whole row
        elif token[-1] == "D" and token[0] == "\x1b":
            if x == cols:
                x -= 1
            x = max(0, min(x - (min(int(token[2:-1] or 0), 9999) or 1), cols - 1))
        else:
            return -1
    return cols if whole else hi


def drop_overdrawn(line: str, columns: int) -> str:
    """``line`` (a plain line holding CR redraws, progress-bar style) without the
    text of the redraws that the next one writes over entirely: such a redraw
    starts at column 0 after a CR, writes only characters one column wide and no
    more than ``columns`` of them (a longer one wraps: the rows below change),
    perhaps moving back over them or erasing to the end of the line, and the next
    one sets at least as much of the row (see :func:`_reach`); its SGR sequences
    stay (the style they leave counts). Drawing the result gives the same screen, cursor and style as
    drawing ``line``."""
    segs = line.split("\r")
    if len(segs) < 4:
        return line
    reach = [_reach(seg, columns) for seg in segs]
    last = len(segs) - 1
    changed = False
    for i in range(1, last):
        r = reach[i]
        if 0 <= r <= reach[i + 1]:
            segs[i] = "".join(SGR_SEQ.findall(segs[i])) if "\x1b" in segs[i] else ""
            changed = True
    return "\r".join(segs) if changed else line
