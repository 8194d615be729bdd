"""The line diff places hunks exactly where git's default diff does."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentshell.core import linediff
from agentshell.core.linediff import diff_hunks
from tests.core.git_oracle import GIT, STRESS, git_hunks

needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


def lines(text: str) -> list[str]:
    return [f"{c}\n" for c in text]


def test_examples() -> None:
    assert diff_hunks([], []) == []
    assert diff_hunks(lines("abc"), lines("abc")) == []
    assert diff_hunks([], lines("ab")) == [(0, 0, 0, 2)]
    assert diff_hunks(lines("ab"), []) == [(0, 2, 0, 0)]
    assert diff_hunks(lines("abc"), lines("aBc")) == [(1, 1, 1, 1)]
    assert diff_hunks(lines("ab"), lines("axb")) == [(1, 0, 1, 1)]
    assert diff_hunks(lines("abcdef"), lines("Abcdeg")) == [(0, 1, 0, 1), (5, 1, 5, 1)]


def test_repeated_lines_land_where_git_puts_them() -> None:
    # Deleting one of two equal lines: difflib takes the first, git the last one
    # it can slide to.
    assert diff_hunks(lines("yyx"), lines("yx")) == [(1, 1, 1, 0)]
    # An inserted copy of a repeated line goes after the run.
    assert diff_hunks(lines("abba"), lines("abbba")) == [(3, 0, 3, 1)]
    # A group that can slide lines up with a change on the other side.
    assert diff_hunks(lines("xaax"), lines("Xaaxa")) == [(0, 1, 0, 1), (4, 0, 4, 1)]


def test_a_line_matching_too_often_inside_new_text_is_left_out() -> None:
    # "x" occurs 4 times in a (>= ~sqrt(len(b))) and sits among lines a never had:
    # git leaves it out of the search, so the whole block is one replacement.
    b = ["n1\n", "n2\n", "y\n", "x\n", "y\n", "y\n", "n3\n", "n4\n"]
    assert diff_hunks(lines("xxxx"), b) == [(0, 4, 0, 8)]


def apply_hunks(a: list[str], b: list[str], hunks: list[tuple[int, int, int, int]]) -> list[str]:
    out: list[str] = []
    at = 0
    for i, n, j, m in hunks:
        out += a[at:i] + b[j : j + m]
        at = i + n
    return out + a[at:]


line_lists = st.lists(st.sampled_from(["x\n", "y\n", "\n", "}\n", "a", "x"]), max_size=30)


@given(line_lists, line_lists)
def test_hunks_rebuild_b_and_are_ordered_and_maximal(a: list[str], b: list[str]) -> None:
    hunks = diff_hunks(a, b)
    assert apply_hunks(a, b, hunks) == b
    for (i, n, j, m), (i2, _, j2, _) in itertools.pairwise(hunks):
        assert i + n < i2 and j + m < j2  # apart: at least one equal line between
    for i, n, j, m in hunks:
        assert n or m
        assert j == i + sum(h[3] - h[1] for h in hunks if h[0] < i)  # in step


@st.composite
def edited_pair(draw: st.DrawFn) -> tuple[str, str]:
    """An old and new text with repeated lines: a random edit of a random file, or
    a rewrite sharing only a few repeated lines with the old one (where git leaves
    too-often-matching lines among new text out of its search)."""
    if draw(st.booleans()):
        common = st.sampled_from(["x", "y"])
        own_a = st.integers(0, 99).map(lambda i: f"a{i}")
        own_b = st.integers(0, 99).map(lambda i: f"b{i}")
        old = draw(st.lists(common | own_a, min_size=4, max_size=24))
        new = draw(st.lists(st.one_of(common, own_b, own_b), min_size=4, max_size=24))
    else:
        alphabet = draw(
            st.sampled_from(
                [["x", "y"], ["x", "y", ""], list("abcde"), ["x", "y", "", "}", "z", "l1", "l2"]]
            )
        )
        old = draw(st.lists(st.sampled_from(alphabet), max_size=40))
        runs = draw(st.sampled_from([6, 2]))  # insert before a line with chance 1/7 or 1/3
        new = []
        for line in [*old, None]:
            while draw(st.integers(0, runs)) == runs:  # (0, hypothesis' simplest, keeps)
                new.append(draw(st.sampled_from(alphabet)))
            if line is None:
                break
            action = draw(st.integers(0, 6))
            if action == 6:
                continue
            new.append(draw(st.sampled_from(alphabet)) if action == 5 else line)
    return "".join(f"{s}\n" for s in old), "".join(f"{s}\n" for s in new)


@needs_git
@settings(max_examples=20_000 if STRESS else 1_500, derandomize=not STRESS)
@given(edited_pair())
def test_same_hunks_as_git_diff(pair: tuple[str, str]) -> None:
    a, b = pair
    assert diff_hunks(a.splitlines(True), b.splitlines(True)) == git_hunks(a, b)


def big_case(seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    alphabet = [f"l{i}\n" for i in range(rng.choice([5, 50, 2000]))] + ["\n", "}\n"]
    a = [rng.choice(alphabet) for _ in range(3000)]
    b = [rng.choice(alphabet) for _ in range(rng.randint(1500, 3000))]
    return a, b


@needs_git
@pytest.mark.parametrize("seed", range(3))
def test_costly_diffs_cut_off_as_git_does(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unrelated 3,000-line files cost far past 256 edits: git stops searching for
    the shortest script there and so must we, the same way."""
    a, b = big_case(seed)
    ours = diff_hunks(a, b)
    assert ours == git_hunks("".join(a), "".join(b))
    monkeypatch.setattr(linediff, "_MAX_COST_MIN", 1 << 30)
    monkeypatch.setattr(linediff, "_HEUR_MIN_COST", 1 << 30)
    assert diff_hunks(a, b) != ours  # the cut-off really decided this case


@needs_git
@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3, 40 if STRESS else 5))
def test_costly_diffs_more_seeds(seed: int) -> None:
    a, b = big_case(seed)
    assert diff_hunks(a, b) == git_hunks("".join(a), "".join(b))
