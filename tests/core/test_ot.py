"""The OT algebra: apply, normalize, compose, transform (TP1), invert, helpers."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentshell.core import ot
from tests.core.ot_strategies import doc_and_op, doc_and_two_ops, ops_on, texts


def naive_apply(text: str, op: ot.Op) -> str:
    """Reference interpreter, written independently of ot.apply (char by char)."""
    out: list[str] = []
    chars = list(text)
    for c in op:
        if isinstance(c, str):
            out.extend(c)
        elif c > 0:
            out.extend(chars[:c])
            del chars[:c]
        else:
            assert len(chars) >= -c
            del chars[:-c]
    assert not chars
    return "".join(out)


# ------------------------------------------------------------------- examples


def test_apply_examples() -> None:
    assert ot.apply("hello", (5, " world")) == "hello world"
    assert ot.apply("hello", (1, -3, "ipp", 1)) == "hippo"
    assert ot.apply("", ("x",)) == "x"
    assert ot.apply("abc", (-3,)) == ""
    with pytest.raises(ot.OTError):
        ot.apply("abc", (2,))


def test_normalize_examples() -> None:
    assert ot.normalize((1, 2, "a", "b", -1, -2, 0, "")) == (3, "ab", -3)
    assert ot.normalize((-2, "x", 3)) == ("x", -2, 3)
    assert ot.normalize(("a", -1, "b", -1)) == ("ab", -2)
    assert ot.normalize((2, -1, "x", "y", 1)) == (2, "xy", -1, 1)
    assert ot.normalize(()) == ()
    # a trailing retain is kept: it says how long the document is
    assert ot.normalize(("x", 4)) == ("x", 4)


def test_helpers() -> None:
    assert ot.insert_op(5, 0, "ab") == ("ab", 5)
    assert ot.insert_op(5, 5, "ab") == (5, "ab")
    assert ot.insert_op(5, 2, "ab") == (2, "ab", 3)
    assert ot.delete_op(5, 1, 2) == (1, -2, 2)
    assert ot.delete_op(3, 0, 3) == (-3,)
    for bad in ((5, 6, "x"), (5, -1, "x")):
        with pytest.raises(ot.OTError):
            ot.insert_op(*bad)  # type: ignore[arg-type]
    with pytest.raises(ot.OTError):
        ot.delete_op(5, 4, 2)
    assert ot.identity(0) == () and ot.identity(3) == (3,)


def test_transform_tie_breaking() -> None:
    a, b = ot.insert_op(2, 1, "A"), ot.insert_op(2, 1, "B")
    a2, b2 = ot.transform(a, b, "left")
    assert ot.apply(ot.apply("xy", a), b2) == "xABy" == ot.apply(ot.apply("xy", b), a2)
    a2, b2 = ot.transform(a, b, "right")
    assert ot.apply(ot.apply("xy", a), b2) == "xBAy" == ot.apply(ot.apply("xy", b), a2)
    with pytest.raises(ot.OTError):
        ot.transform(a, b, "middle")
    with pytest.raises(ot.OTError):
        ot.transform(a, ot.insert_op(3, 0, "x"))


def test_transform_delete_delete_and_insert_inside_delete() -> None:
    s = "abcdef"
    a = ot.delete_op(6, 1, 3)  # deletes bcd
    b = ot.delete_op(6, 2, 3)  # deletes cde
    a2, b2 = ot.transform(a, b)
    assert ot.apply(ot.apply(s, a), b2) == "af" == ot.apply(ot.apply(s, b), a2)
    c = ot.insert_op(6, 3, "X")  # inside the deleted span: the insert survives
    a2, c2 = ot.transform(a, c)
    assert ot.apply(ot.apply(s, a), c2) == "aXef" == ot.apply(ot.apply(s, c), a2)


def test_compose_length_mismatch() -> None:
    with pytest.raises(ot.OTError):
        ot.compose((3,), (4,))


def test_wire_roundtrip_and_validation() -> None:
    op = (2, "x", -1)
    assert ot.from_wire(ot.to_wire(op)) == op
    for bad in ([0], [""], [True], [1.5], "abc", [None]):
        with pytest.raises(ot.OTError):
            ot.from_wire(bad)  # type: ignore[arg-type]


def test_replace_op_examples() -> None:
    assert ot.replace_op("hello", "help!") == (3, "p!", -2)
    assert ot.replace_op("same", "same") == (4,)
    assert ot.replace_op("", "new") == ("new",)
    assert ot.replace_op("aaa", "aa") == (2, -1) or ot.apply("aaa", ot.replace_op("aaa", "aa"))


# ------------------------------------------------------------------ properties


@given(doc_and_op())
def test_apply_matches_reference(case: tuple[str, ot.Op]) -> None:
    text, op = case
    assert ot.apply(text, op) == naive_apply(text, op)
    assert len(ot.apply(text, op)) == ot.target_length(op)


@given(st.lists(st.one_of(st.integers(-5, 5), st.text("ab", max_size=3)), max_size=12))
def test_normalize_is_canonical(comps: list[ot.Component]) -> None:
    n = ot.normalize(comps)
    assert ot.normalize(n) == n
    assert 0 not in n and "" not in n
    for x, y in itertools.pairwise(n):
        assert type(x) is not type(y) or (isinstance(x, int) and (x > 0) != (y > 0))  # type: ignore[operator]
        assert not (isinstance(x, int) and x < 0 and isinstance(y, str))
    # same effect on any document it fits
    length = ot.base_length(n)
    text = "q" * length
    assert ot.apply(text, n) == naive_apply(text, tuple(c for c in comps if c not in (0, "")))


@given(doc_and_two_ops(), st.sampled_from(["left", "right"]))
def test_tp1(case: tuple[str, ot.Op, ot.Op], side: str) -> None:
    s, a, b = case
    a2, b2 = ot.transform(a, b, side)
    assert ot.apply(ot.apply(s, a), b2) == ot.apply(ot.apply(s, b), a2)
    assert ot.is_normal(a2) and ot.is_normal(b2)
    # the pair is symmetric: T(a, b, left) == swapped T(b, a, right)
    other = "right" if side == "left" else "left"
    assert ot.transform(b, a, other) == (b2, a2)


@given(doc_and_two_ops())
def test_tp1_in_compose_form(case: tuple[str, ot.Op, ot.Op]) -> None:
    s, a, b = case
    a2, b2 = ot.transform(a, b)
    assert ot.apply(s, ot.compose(a, b2)) == ot.apply(s, ot.compose(b, a2))


@given(st.data())
def test_compose_equals_sequential(data: st.DataObject) -> None:
    s = data.draw(texts)
    a = data.draw(ops_on(len(s)))
    mid = ot.apply(s, a)
    b = data.draw(ops_on(len(mid)))
    c = ot.compose(a, b)
    assert ot.apply(s, c) == ot.apply(mid, b)
    assert ot.is_normal(c)
    assert ot.base_length(c) == len(s)


@given(st.data())
def test_compose_is_associative(data: st.DataObject) -> None:
    s = data.draw(texts)
    a = data.draw(ops_on(len(s)))
    b = data.draw(ops_on(ot.target_length(a)))
    c = data.draw(ops_on(ot.target_length(b)))
    left = ot.compose(ot.compose(a, b), c)
    right = ot.compose(a, ot.compose(b, c))
    assert ot.apply(s, left) == ot.apply(s, right)


@given(st.data(), st.sampled_from(["left", "right"]))
def test_transform_compose_consistency(data: st.DataObject, side: str) -> None:
    """Transforming against a composition and step by step both converge (TP1 holds
    for the composite and for the chain), and give the same text unless ``a`` or
    ``b`` deletes: a delete can merge two positions, and then the insert-tie order of
    the two routes may differ (e.g. x = insert at the end, a = delete all, b =
    insert) -- a known property of OT, harmless because the server and every
    client transform against the very same sequence of ops."""
    s = data.draw(texts)
    x = data.draw(ops_on(len(s)))
    a = data.draw(ops_on(len(s)))
    b = data.draw(ops_on(ot.target_length(a)))
    ab = ot.compose(a, b)
    x_ab, ab_x = ot.transform(x, ab, side)
    x_a, a_x = ot.transform(x, a, side)
    x_a_b, b_x = ot.transform(x_a, b, side)
    sab = ot.apply(s, ab)
    sx = ot.apply(s, x)
    assert ot.apply(sab, x_ab) == ot.apply(sx, ab_x)
    assert ot.apply(sab, x_a_b) == ot.apply(sx, ot.compose(a_x, b_x))
    if not any(isinstance(c, int) and c < 0 for c in (*a, *b)):
        assert ot.apply(sab, x_ab) == ot.apply(sab, x_a_b)


@given(doc_and_op())
def test_invert_undoes(case: tuple[str, ot.Op]) -> None:
    s, op = case
    inv = ot.invert(op, s)
    after = ot.apply(s, op)
    assert ot.apply(after, inv) == s
    assert ot.apply(s, ot.compose(op, inv)) == s
    assert ot.invert(inv, after) == op


@given(texts, texts)
def test_replace_op(old: str, new: str) -> None:
    op = ot.replace_op(old, new)
    assert ot.apply(old, op) == new
    assert ot.is_normal(op)


@given(texts, st.data())
def test_insert_delete_helpers(text: str, data: st.DataObject) -> None:
    pos = data.draw(st.integers(0, len(text)))
    assert ot.apply(text, ot.insert_op(len(text), pos, "Z")) == text[:pos] + "Z" + text[pos:]
    n = data.draw(st.integers(0, len(text) - pos))
    assert ot.apply(text, ot.delete_op(len(text), pos, n)) == text[:pos] + text[pos + n :]


@given(doc_and_op())
def test_identity_is_neutral(case: tuple[str, ot.Op]) -> None:
    s, op = case
    ident = ot.identity(len(s))
    assert ot.transform(op, ident) == (op, ot.identity(ot.target_length(op)))
    assert ot.compose(ident, op) == op
    assert ot.compose(op, ot.identity(ot.target_length(op))) == op
