"""Hypothesis strategies and a plain random generator for OT operations (shared by tests)."""

from __future__ import annotations

import random

from hypothesis import strategies as st

from agentshell.core import ot

ALPHABET = "abcxyz é\n😀"
texts = st.text(alphabet=ALPHABET, max_size=24)


@st.composite
def ops_on(draw: st.DrawFn, length: int) -> ot.Op:
    """A normalized operation spanning a document of ``length`` characters."""
    comps: list[ot.Component] = []
    left = length
    kinds = draw(st.lists(st.sampled_from(["retain", "insert", "delete"]), max_size=8))
    for choice in kinds:
        if choice == "insert":
            comps.append(draw(st.text(alphabet=ALPHABET, min_size=1, max_size=4)))
        elif left > 0:
            n = draw(st.integers(1, left))
            comps.append(n if choice == "retain" else -n)
            left -= n
    if left:
        comps.append(draw(st.sampled_from([left, -left])))
    return ot.normalize(comps)


@st.composite
def doc_and_op(draw: st.DrawFn) -> tuple[str, ot.Op]:
    text = draw(texts)
    return text, draw(ops_on(len(text)))


@st.composite
def doc_and_two_ops(draw: st.DrawFn) -> tuple[str, ot.Op, ot.Op]:
    text = draw(texts)
    return text, draw(ops_on(len(text))), draw(ops_on(len(text)))


def random_op(rng: random.Random, length: int) -> ot.Op:
    """A small random edit (what a typist does): insert, delete or replace a few chars."""
    kind = rng.random()
    if length == 0 or kind < 0.5:
        pos = rng.randint(0, length)
        s = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 3)))
        return ot.insert_op(length, pos, s)
    pos = rng.randrange(length)
    n = rng.randint(1, min(3, length - pos))
    op = ot.delete_op(length, pos, n)
    if kind > 0.85:
        op = ot.compose(op, ot.insert_op(length - n, pos, rng.choice(ALPHABET)))
    return op
