"""Changed line ranges of a file edit and the rule for when two edits conflict.

A *range* is ``[start, end)`` over 0-based line numbers, half-open. A pure insertion
before line ``k`` is the empty range ``[k, k)`` (``k == len(lines)`` appends).

Lines are split after every ``"\\n"`` (the newline stays with its line, as git sees
them); a last line without a newline is a line too, and differs from the same text
with a newline.

Conflict rule (git's rule, also what ``git merge-file`` does): two changes of the
same base conflict when their ranges *overlap or touch*::

    ranges_conflict((s1, e1), (s2, e2))  <=>  s1 <= e2 and s2 <= e1

So ``[0, 2)`` and ``[2, 4)`` (adjacent) conflict, an insertion ``[k, k)`` conflicts
with any range starting or ending at ``k`` and with another insertion at ``k``, and
``[0, 2)`` / ``[3, 4)`` (one untouched line between) do not. The property test in
``tests/core/test_ranges.py`` checks against ``git merge-file`` that whenever git
reports a conflict, this rule reports one too.

Two *edits* (``EditInfo``) conflict when they are by different agents, of the same
file, concurrent by their vector clocks (neither had seen the other) and some range
of one conflicts with some range of the other (see :func:`find_conflicts`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from agentshell.core.clock import concurrent
from agentshell.core.state import EditInfo

Range = tuple[int, int]


def split_lines(text: str) -> list[str]:
    """Split after each ``\\n``, keeping it (``"a\\nb"`` -> ``["a\\n", "b"]``)."""
    if not text:
        return []
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def changed_line_ranges(old: str, new: str) -> tuple[list[Range], list[Range]]:
    """Diff ``old`` -> ``new`` by lines.

    Returns ``(old_side, new_side)``: for each change (replace, delete, insert) in
    order, its ``[start, end)`` range in the old lines and in the new lines. A pure
    deletion is empty on the new side, a pure insertion empty on the old side. The
    two lists have the same length. Identical texts give ``([], [])``.
    """
    a = split_lines(old)
    b = split_lines(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    old_side: list[Range] = []
    new_side: list[Range] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old_side.append((i1, i2))
        new_side.append((j1, j2))
    return old_side, new_side


def ranges_conflict(a: Sequence[int], b: Sequence[int]) -> bool:
    """True when ranges ``a`` and ``b`` overlap or touch (see the module docstring)."""
    return a[0] <= b[1] and b[0] <= a[1]


def overlap(a: Sequence[int], b: Sequence[int]) -> Range:
    """The shared part ``[max(starts), min(ends))`` of two conflicting ranges.

    Empty (``start == end``) when they only touch. Raises ValueError when they do
    not conflict at all.
    """
    if not ranges_conflict(a, b):
        raise ValueError(f"ranges {tuple(a)} and {tuple(b)} neither overlap nor touch")
    return (max(a[0], b[0]), min(a[1], b[1]))


Conflict = tuple[EditInfo, Range, Range, Range]


def find_conflicts(new_edit: EditInfo, recent: Iterable[EditInfo]) -> list[Conflict]:
    """The recent edits ``new_edit`` conflicts with.

    Returns ``(other_edit, my_range, other_range, overlap)`` for every pair of
    conflicting ranges, in the order of ``recent`` and then of the ranges. An edit
    never conflicts with itself (same ``edit_id``), with an edit of the same agent,
    of another file, or with one whose clock it has seen (or that has seen it).
    """
    out: list[Conflict] = []
    for other in recent:
        if (
            other.edit_id == new_edit.edit_id
            or other.agent_id == new_edit.agent_id
            or other.file_path != new_edit.file_path
            or not concurrent(new_edit.clock, other.clock)
        ):
            continue
        for mine in new_edit.ranges:
            for theirs in other.ranges:
                if ranges_conflict(mine, theirs):
                    out.append(
                        (
                            other,
                            (mine[0], mine[1]),
                            (theirs[0], theirs[1]),
                            overlap(mine, theirs),
                        )
                    )
    return out
