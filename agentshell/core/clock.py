"""Vector clocks: who had seen what. Pure functions over ``dict[str, int]``."""

from __future__ import annotations

from collections.abc import Mapping

VectorClock = dict[str, int]


def tick(clock: Mapping[str, int], agent: str) -> VectorClock:
    """Return a copy of ``clock`` with ``agent``'s entry advanced by one."""
    out = dict(clock)
    out[agent] = out.get(agent, 0) + 1
    return out


def merge(a: Mapping[str, int], b: Mapping[str, int]) -> VectorClock:
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
