"""Line ranges of file edits (pure).

A range is ``[start, end)``: 0-based, half-open line numbers. A pure insertion
before line ``k`` is the empty range ``[k, k)``.

Lines end after each ``"\\n"`` only (as git counts them; ``str.splitlines`` would
also split at ``\\r``, form feeds and U+2028 and so disagree with git and editors).

Conflict rule (git's rule, what ``git merge-file`` does): two changes of the same
base conflict when their ranges *overlap or touch*::

    ranges_conflict((s1, e1), (s2, e2))  <=>  s1 <= e2 and s2 <= e1

So ``[0, 2)`` and ``[2, 4)`` (adjacent) conflict, an insertion ``[k, k)`` conflicts
with any range starting or ending at ``k`` and with another insertion at ``k``, and
``[0, 2)`` / ``[3, 4)`` (one untouched line between) do not. The property test in
``tests/core/test_ranges.py`` checks against ``git merge-file`` that whenever git
reports a conflict, this rule reports one too, on thousands of random edits with
repeated lines. That needs the hunks where git puts them: where lines repeat (blank
lines, ``}``) a deleted or inserted line can sit on any of several equal copies,
so the ranges come from :mod:`agentshell.core.linediff` (git's Myers diff and hunk
placement), not :mod:`difflib`.

Two *edits* (``EditInfo``) conflict when they are by different agents, of the same
file, concurrent by their vector clocks (neither had seen the other) and some range
of one conflicts with some range of the other (see :func:`find_conflicts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agentshell.core.clock import concurrent
from agentshell.core.linediff import diff_hunks
from agentshell.core.state import EditInfo

Range = tuple[int, int]


def split_lines(text: str) -> list[str]:
    """Split after each ``\\n``, keeping it (``"a\\nb"`` -> ``["a\\n", "b"]``)."""
    if not text:
        return []
    parts = text.split("\n")
    out = [line + "\n" for line in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def changed_line_ranges(old: str, new: str) -> tuple[list[list[int]], list[list[int]]]:
    """The changed line ranges of an edit from ``old`` to ``new``: ``(old_side, new_side)``.

    Both contents are split into lines (keeping line endings, so a changed or added
    final newline is a change of the last line) and diffed as git diffs them
    (:func:`agentshell.core.linediff.diff_hunks`). Every hunk gives one range on each
    side, in order: ``old_side[i]`` is the ``[start, end)`` of the replaced/deleted
    old lines (empty ``[k, k)`` for a pure insertion before old line ``k``) and
    ``new_side[i]`` the lines that took their place (empty for a pure deletion).
    Equal contents give ``([], [])``.

    >>> changed_line_ranges("a\\nb\\nc\\n", "a\\nB\\nc\\n")
    ([[1, 2]], [[1, 2]])
    >>> changed_line_ranges("a\\n", "a\\nb\\n")
    ([[1, 1]], [[1, 2]])
    """
    hunks = diff_hunks(split_lines(old), split_lines(new))
    old_side = [[i, i + n] for i, n, _, _ in hunks]
    new_side = [[j, j + m] for _, _, j, m in hunks]
    return old_side, new_side


def ranges_conflict(a: Sequence[int], b: Sequence[int]) -> bool:
    """True when ranges ``a`` and ``b`` overlap or touch (see the module docstring)."""
    return a[0] <= b[1] and b[0] <= a[1]


def overlap(a: Sequence[int], b: Sequence[int]) -> Range:
    """The shared part ``[max(starts), min(ends))`` of two conflicting ranges.

    Empty (``start == end``) when they only touch. Raises ValueError when they
    neither overlap nor touch.
    """
    if not ranges_conflict(a, b):
        raise ValueError(f"ranges {tuple(a)} and {tuple(b)} neither overlap nor touch")
    return (max(a[0], b[0]), min(a[1], b[1]))


Conflict = tuple[EditInfo, Range, Range, Range]


def find_conflicts(new_edit: EditInfo, recent: Iterable[EditInfo]) -> list[Conflict]:
    """The recent edits ``new_edit`` conflicts with.

    Returns ``(other_edit, my_range, other_range, overlap)`` for every pair of
    conflicting ranges, in the order of ``recent`` and then of the ranges. An edit
    never conflicts with itself (same ``edit_id``), with an edit by the same agent,
    of another file, or with one it has seen or that has seen it (vector clocks
    not concurrent).
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
                        (other, (mine[0], mine[1]), (theirs[0], theirs[1]), overlap(mine, theirs))
                    )
    return out
