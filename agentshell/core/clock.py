"""Vector clocks: who had seen what.

Two forms of one thing. The functions (:func:`tick`, :func:`merge`,
:func:`dominates`, :func:`happened_before`, :func:`concurrent`) work on plain
``dict[str, int]`` maps, which is what events carry and what the hot paths use.
:class:`VectorClock` is the same rules as an immutable value with methods
(``increment``, ``merge``, ``compare``, ``happens_before``, ``concurrent``); it is a
``Mapping[str, int]``, so it can be passed wherever a plain clock is taken.

An agent missing from a clock counts 0. Clock ``a`` *has seen* ``b`` (``a``
dominates ``b``) when ``a[k] >= b[k]`` for every agent ``k``; ``a`` happened before
``b`` when ``b`` has seen ``a`` and they differ; they are concurrent when neither
has seen the other.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum


def tick(clock: Mapping[str, int], agent: str) -> dict[str, int]:
    """Return a copy of ``clock`` with ``agent``'s entry advanced by one."""
    out = dict(clock)
    out[agent] = out.get(agent, 0) + 1
    return out


def merge(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    """Pointwise maximum of two clocks."""
    out = dict(a)
    for k, v in b.items():
        if v > out.get(k, 0):
            out[k] = v
    return out


def dominates(a: Mapping[str, int], b: Mapping[str, int]) -> bool:
    """True when ``a`` has seen everything ``b`` has (a >= b pointwise)."""
    return all(a.get(k, 0) >= v for k, v in b.items())


def happened_before(a: Mapping[str, int], b: Mapping[str, int]) -> bool:
    """True when ``a`` -> ``b``: b has seen a, and they differ."""
    return dominates(b, a) and not dominates(a, b)


def concurrent(a: Mapping[str, int], b: Mapping[str, int]) -> bool:
    """True when neither clock has seen the other."""
    return not dominates(a, b) and not dominates(b, a)


class ClockOrder(StrEnum):
    """How two clocks are ordered (:meth:`VectorClock.compare`)."""

    BEFORE = "before"  # happened before the other
    AFTER = "after"  # happened after the other (has seen it, and differs)
    EQUAL = "equal"
    CONCURRENT = "concurrent"  # neither has seen the other


def compare(a: Mapping[str, int], b: Mapping[str, int]) -> ClockOrder:
    """The order of ``a`` relative to ``b``."""
    a_seen_b, b_seen_a = dominates(a, b), dominates(b, a)
    if a_seen_b and b_seen_a:
        return ClockOrder.EQUAL
    if b_seen_a:
        return ClockOrder.BEFORE
    if a_seen_b:
        return ClockOrder.AFTER
    return ClockOrder.CONCURRENT


class VectorClock(Mapping[str, int]):
    """An immutable vector clock: ``agent -> count``.

    ``VectorClock()`` is the empty clock; ``VectorClock({"a": 2, "b": 1})`` one with
    counts. Counts are ints >= 0 and agents non-empty strings (else ValueError /
    TypeError); zero counts are dropped, so ``VectorClock({"a": 0}) ==
    VectorClock()``. Equal to a plain mapping with the same non-zero counts;
    hashable. ``<=``/``<``/``>=``/``>`` are the partial order (``a <= b``: b has
    seen a), so two concurrent clocks are neither ``<=`` nor ``>=`` each other.
    """

    __slots__ = ("_counts",)

    def __init__(self, counts: Mapping[str, int] | None = None) -> None:
        clean: dict[str, int] = {}
        for agent, n in (counts or {}).items():
            if not isinstance(agent, str) or not agent:
                raise TypeError(f"a vector clock's agent must be a non-empty string: {agent!r}")
            if not isinstance(n, int) or isinstance(n, bool):
                raise TypeError(f"the count of {agent!r} must be an int, not {n!r}")
            if n < 0:
                raise ValueError(f"the count of {agent!r} must be >= 0, not {n}")
            if n:
                clean[agent] = n
        self._counts = clean

    # Mapping
    def __getitem__(self, agent: str) -> int:
        return self._counts[agent]

    def __iter__(self) -> Iterator[str]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    # the clock rules
    def increment(self, agent: str) -> VectorClock:
        """A new clock with ``agent``'s count advanced by one (its next event)."""
        return VectorClock(tick(self._counts, agent))

    def merge(self, other: Mapping[str, int]) -> VectorClock:
        """A new clock that has seen everything either has (pointwise maximum)."""
        return VectorClock(merge(self._counts, other))

    def compare(self, other: Mapping[str, int]) -> ClockOrder:
        """``BEFORE``, ``AFTER``, ``EQUAL`` or ``CONCURRENT`` relative to ``other``."""
        return compare(self._counts, other)

    def has_seen(self, other: Mapping[str, int]) -> bool:
        """True when this clock dominates ``other`` (equal clocks included)."""
        return dominates(self._counts, other)

    def happens_before(self, other: Mapping[str, int]) -> bool:
        """True when ``other`` has seen this clock and differs from it."""
        return happened_before(self._counts, other)

    def concurrent(self, other: Mapping[str, int]) -> bool:
        """True when neither this clock nor ``other`` has seen the other."""
        return concurrent(self._counts, other)

    def to_dict(self) -> dict[str, int]:
        """A plain ``dict`` (what events carry)."""
        return dict(self._counts)

    # value semantics
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return self._counts == {k: v for k, v in other.items() if v != 0}

    def __hash__(self) -> int:
        return hash(frozenset(self._counts.items()))

    def __le__(self, other: Mapping[str, int]) -> bool:
        return dominates(other, self._counts)

    def __lt__(self, other: Mapping[str, int]) -> bool:
        return happened_before(self._counts, other)

    def __ge__(self, other: Mapping[str, int]) -> bool:
        return dominates(self._counts, other)

    def __gt__(self, other: Mapping[str, int]) -> bool:
        return happened_before(other, self._counts)

    def __repr__(self) -> str:
        return f"VectorClock({self._counts!r})"
