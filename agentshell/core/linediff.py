"""A line diff that places its hunks where git's default (Myers) diff does (pure).

Why not :mod:`difflib`: where lines repeat (blank lines, ``}``, ``end``) many
alignments are equally good, and two diff programs may put a deleted or inserted
line on different copies. Conflict detection compares the hunks of two edits of one
base, so it must place them where ``git merge-file`` does, or it misses conflicts
git sees. This module follows the same steps as git's xdiff, written here from the
algorithm descriptions:

1. Lines are compared by content (with their line endings). The common prefix and
   suffix are set aside.
2. Lines of one side that never occur in the other are changed for certain and are
   left out of the search. Lines that occur "too often" in the other side (at least
   ``~sqrt(len)`` times) are left out too when they sit inside a run of such
   left-out lines (:func:`_keep_multimatch`); this is git's speed-up, and it
   decides where ambiguous hunks land.
3. The remaining lines are diffed with Myers' linear-space divide and conquer: find
   the middle snake of a shortest edit script searching forward and backward at
   once, split there, recurse. Past a cost of ``max(256, ~sqrt(n))`` edits the
   search settles for the furthest-reaching path (so the worst case stays near
   linear), as git does.
4. Every group of changed lines is slid as far up and then down as equal lines
   allow, merging with groups it meets, and left at the lowest position unless it
   can be lined up with a change on the other side.

:func:`diff_hunks` returns ``(a_start, a_len, b_start, b_len)`` hunks, 0-based.
``tests/core/test_linediff.py`` checks them against ``git diff`` on thousands of
random inputs with repeated lines.
"""

from __future__ import annotations

from collections.abc import Sequence

Hunk = tuple[int, int, int, int]

_MAX_EQ_LIMIT = 1024  # cap on the "occurs too often" threshold
_SIMSCAN_WINDOW = 100  # how far _keep_multimatch looks either way
_KEEP_RUN = 4  # a multimatch line is left out when < 1/4 of its run is multimatch
_MAX_COST_MIN = 256  # never give up the exact search below this cost
_HEUR_MIN_COST = 256  # snake heuristic only past this cost
_SNAKE_CNT = 20  # a "good" snake is longer than this
_K_HEUR = 4
_FAR = 1 << 62  # "no value yet" on backward diagonals


def _isqrt_approx(n: int) -> int:
    """A power of two near sqrt(n) (git's shift-based approximation)."""
    i = 1
    while n > 0:
        i <<= 1
        n >>= 2
    return i


def _keep_multimatch(dis: bytearray, i: int, start: int, end: int) -> bool:
    """Whether line ``i`` (which matches too often) stays in the search.

    ``dis`` holds 0 (no match), 1 (kept) or 2 (too many matches) per line. The line
    is left out only inside a run of left-out lines with no kept line on either
    side within the window, and only when multimatch lines make up less than a
    quarter of that run.
    """
    start = max(start, i - _SIMSCAN_WINDOW)
    end = min(end, i + _SIMSCAN_WINDOW)
    none_before, multi_before = 0, 1
    j = i - 1
    while j >= start:
        if dis[j] == 0:
            none_before += 1
        elif dis[j] == 2:
            multi_before += 1
        else:
            break
        j -= 1
    if none_before == 0:
        return True
    none_after, multi_after = 0, 1
    j = i + 1
    while j <= end:
        if dis[j] == 0:
            none_after += 1
        elif dis[j] == 2:
            multi_after += 1
        else:
            break
        j += 1
    if none_after == 0:
        return True
    nones = none_before + none_after
    multis = multi_before + multi_after
    return not (multis * _KEEP_RUN < multis + nones)


class _Search:
    """Myers' middle-snake divide and conquer over the kept lines of both sides."""

    def __init__(self, ha: list[int], hb: list[int]) -> None:
        self.ha = ha
        self.hb = hb
        size = len(ha) + len(hb) + 3
        self.off = len(hb) + 1  # diagonal d lives at index d + off
        self.fwd = [0] * size
        self.bwd = [0] * size
        self.max_cost = max(_MAX_COST_MIN, _isqrt_approx(size))
        self.changed_a: list[int] = []  # indexes into ha
        self.changed_b: list[int] = []

    def run(self) -> None:
        stack = [(0, len(self.ha), 0, len(self.hb), False)]
        ha, hb = self.ha, self.hb
        while stack:
            lo1, hi1, lo2, hi2, need_min = stack.pop()
            while lo1 < hi1 and lo2 < hi2 and ha[lo1] == hb[lo2]:
                lo1 += 1
                lo2 += 1
            while lo1 < hi1 and lo2 < hi2 and ha[hi1 - 1] == hb[hi2 - 1]:
                hi1 -= 1
                hi2 -= 1
            if lo1 == hi1:
                self.changed_b.extend(range(lo2, hi2))
            elif lo2 == hi2:
                self.changed_a.extend(range(lo1, hi1))
            else:
                m1, m2, min_lo, min_hi = self._split(lo1, hi1, lo2, hi2, need_min)
                stack.append((m1, hi1, m2, hi2, min_hi))
                stack.append((lo1, m1, lo2, m2, min_lo))

    def _split(
        self, off1: int, lim1: int, off2: int, lim2: int, need_min: bool
    ) -> tuple[int, int, bool, bool]:
        ha, hb, o = self.ha, self.hb, self.off
        fwd, bwd = self.fwd, self.bwd
        dmin, dmax = off1 - lim2, lim1 - off2
        fmid, bmid = off1 - off2, lim1 - lim2
        odd = (fmid - bmid) & 1
        fmin = fmax = fmid
        bmin = bmax = bmid
        fwd[fmid + o] = off1
        bwd[bmid + o] = lim1
        cost = 0
        while True:
            cost += 1
            got_snake = False
            # one more edit forward
            if fmin > dmin:
                fmin -= 1
                fwd[fmin - 1 + o] = -1
            else:
                fmin += 1
            if fmax < dmax:
                fmax += 1
                fwd[fmax + 1 + o] = -1
            else:
                fmax -= 1
            for d in range(fmax, fmin - 1, -2):
                left, right = fwd[d - 1 + o], fwd[d + 1 + o]
                i1 = left + 1 if left >= right else right
                start = i1
                i2 = i1 - d
                while i1 < lim1 and i2 < lim2 and ha[i1] == hb[i2]:
                    i1 += 1
                    i2 += 1
                if i1 - start > _SNAKE_CNT:
                    got_snake = True
                fwd[d + o] = i1
                if odd and bmin <= d <= bmax and bwd[d + o] <= i1:
                    return i1, i2, True, True
            # one more edit backward
            if bmin > dmin:
                bmin -= 1
                bwd[bmin - 1 + o] = _FAR
            else:
                bmin += 1
            if bmax < dmax:
                bmax += 1
                bwd[bmax + 1 + o] = _FAR
            else:
                bmax -= 1
            for d in range(bmax, bmin - 1, -2):
                left, right = bwd[d - 1 + o], bwd[d + 1 + o]
                i1 = left if left < right else right - 1
                start = i1
                i2 = i1 - d
                while i1 > off1 and i2 > off2 and ha[i1 - 1] == hb[i2 - 1]:
                    i1 -= 1
                    i2 -= 1
                if start - i1 > _SNAKE_CNT:
                    got_snake = True
                bwd[d + o] = i1
                if not odd and fmin <= d <= fmax and i1 <= fwd[d + o]:
                    return i1, i2, True, True
            if need_min:
                continue
            if got_snake and cost > _HEUR_MIN_COST:
                found = self._good_snake(off1, lim1, off2, lim2, cost, fmin, fmax, bmin, bmax)
                if found is not None:
                    return found
            if cost >= self.max_cost:
                return self._furthest(off1, lim1, off2, lim2, fmin, fmax, bmin, bmax)

    def _good_snake(
        self,
        off1: int,
        lim1: int,
        off2: int,
        lim2: int,
        cost: int,
        fmin: int,
        fmax: int,
        bmin: int,
        bmax: int,
    ) -> tuple[int, int, bool, bool] | None:
        """A long diagonal that made good progress: split there (git's heuristic)."""
        ha, hb, o = self.ha, self.hb, self.off
        fmid, bmid = off1 - off2, lim1 - lim2
        best, split = 0, (0, 0)
        for d in range(fmax, fmin - 1, -2):
            i1 = self.fwd[d + o]
            i2 = i1 - d
            v = (i1 - off1) + (i2 - off2) - abs(d - fmid)
            if (
                v > _K_HEUR * cost
                and v > best
                and off1 + _SNAKE_CNT <= i1 < lim1
                and off2 + _SNAKE_CNT <= i2 < lim2
                and all(ha[i1 - k] == hb[i2 - k] for k in range(1, _SNAKE_CNT + 1))
            ):
                best, split = v, (i1, i2)
        if best > 0:
            return split[0], split[1], True, False
        best = 0
        for d in range(bmax, bmin - 1, -2):
            i1 = self.bwd[d + o]
            i2 = i1 - d
            v = (lim1 - i1) + (lim2 - i2) - abs(d - bmid)
            if (
                v > _K_HEUR * cost
                and v > best
                and off1 < i1 <= lim1 - _SNAKE_CNT
                and off2 < i2 <= lim2 - _SNAKE_CNT
                and all(ha[i1 + k] == hb[i2 + k] for k in range(_SNAKE_CNT))
            ):
                best, split = v, (i1, i2)
        if best > 0:
            return split[0], split[1], False, True
        return None

    def _furthest(
        self, off1: int, lim1: int, off2: int, lim2: int, fmin: int, fmax: int, bmin: int, bmax: int
    ) -> tuple[int, int, bool, bool]:
        """Too costly: split at the path that reached furthest (by i1 + i2)."""
        o = self.off
        fbest, fbest1 = -1, -1
        for d in range(fmax, fmin - 1, -2):
            i1 = min(self.fwd[d + o], lim1)
            i2 = i1 - d
            if lim2 < i2:
                i1, i2 = lim2 + d, lim2
            if fbest < i1 + i2:
                fbest, fbest1 = i1 + i2, i1
        bbest, bbest1 = _FAR, _FAR
        for d in range(bmax, bmin - 1, -2):
            i1 = max(off1, self.bwd[d + o])
            i2 = i1 - d
            if i2 < off2:
                i1, i2 = off2 + d, off2
            if i1 + i2 < bbest:
                bbest, bbest1 = i1 + i2, i1
        if (lim1 + lim2) - bbest < fbest - (off1 + off2):
            return fbest1, fbest - fbest1, True, False
        return bbest1, bbest - bbest1, False, True


def _mark_changes(ids_a: list[int], ids_b: list[int]) -> tuple[bytearray, bytearray]:
    """Steps 1-3: which lines of each side are changed (1) or kept (0)."""
    n, m = len(ids_a), len(ids_b)
    prefix = 0
    limit = min(n, m)
    while prefix < limit and ids_a[prefix] == ids_b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and ids_a[n - 1 - suffix] == ids_b[m - 1 - suffix]:
        suffix += 1
    count_a: dict[int, int] = {}
    count_b: dict[int, int] = {}
    for c in ids_a:
        count_a[c] = count_a.get(c, 0) + 1
    for c in ids_b:
        count_b[c] = count_b.get(c, 0) + 1

    changed_a, changed_b = bytearray(n), bytearray(m)
    kept: list[tuple[list[int], list[int]]] = []
    for ids, other_count, changed, size in (
        (ids_a, count_b, changed_a, n),
        (ids_b, count_a, changed_b, m),
    ):
        end = size - suffix - 1
        too_many = min(_isqrt_approx(size), _MAX_EQ_LIMIT)
        dis = bytearray(size)
        for i in range(prefix, end + 1):
            found = other_count.get(ids[i], 0)
            dis[i] = 0 if found == 0 else (2 if found >= too_many else 1)
        rows: list[int] = []
        hashes: list[int] = []
        for i in range(prefix, end + 1):
            if dis[i] == 1 or (dis[i] == 2 and _keep_multimatch(dis, i, prefix, end)):
                rows.append(i)
                hashes.append(ids[i])
            else:
                changed[i] = 1
        kept.append((rows, hashes))

    (rows_a, ha), (rows_b, hb) = kept
    search = _Search(ha, hb)
    search.run()
    for k in search.changed_a:
        changed_a[rows_a[k]] = 1
    for k in search.changed_b:
        changed_b[rows_b[k]] = 1
    return changed_a, changed_b


class _Groups:
    """Runs of changed lines in one side, walked in step with the other side."""

    def __init__(self, ids: list[int], changed: bytearray) -> None:
        self.ids = ids
        self.n = len(ids)
        self.ch = bytearray(1) + changed + bytearray(1)  # sentinels: line i at i + 1
        self.start = self.end = 0
        while self.ch[self.end + 1]:
            self.end += 1

    def next(self) -> bool:
        if self.end == self.n:
            return False
        self.start = self.end + 1
        self.end = self.start
        while self.ch[self.end + 1]:
            self.end += 1
        return True

    def previous(self) -> bool:
        if self.start == 0:
            return False
        self.end = self.start - 1
        self.start = self.end
        while self.ch[self.start]:  # line start - 1
            self.start -= 1
        return True

    def slide_up(self) -> bool:
        if self.start > 0 and self.ids[self.start - 1] == self.ids[self.end - 1]:
            self.start -= 1
            self.end -= 1
            self.ch[self.start + 1] = 1
            self.ch[self.end + 1] = 0
            while self.ch[self.start]:
                self.start -= 1
            return True
        return False

    def slide_down(self) -> bool:
        if self.end < self.n and self.ids[self.start] == self.ids[self.end]:
            self.ch[self.start + 1] = 0
            self.ch[self.end + 1] = 1
            self.start += 1
            self.end += 1
            while self.ch[self.end + 1]:
                self.end += 1
            return True
        return False

    def empty(self) -> bool:
        return self.start == self.end

    def changed(self) -> bytearray:
        return self.ch[1:-1]


def _compact(g: _Groups, other: _Groups) -> None:
    """Step 4: slide each group of ``g``; ``other`` walks the matching gaps."""
    while True:
        if not g.empty():
            while True:
                size = g.end - g.start
                end_matching_other = -1
                while g.slide_up():
                    other.previous()
                earliest_end = g.end
                if not other.empty():
                    end_matching_other = g.end
                while g.slide_down():
                    other.next()
                    if not other.empty():
                        end_matching_other = g.end
                if size == g.end - g.start:
                    break
            if g.end != earliest_end and end_matching_other != -1:
                while other.empty():
                    g.slide_up()
                    other.previous()
        if not g.next():
            return
        other.next()


def diff_hunks(a: Sequence[str], b: Sequence[str]) -> list[Hunk]:
    """The hunks turning lines ``a`` into lines ``b``, placed as git places them.

    Each hunk is ``(a_start, a_len, b_start, b_len)``: ``a[a_start:a_start+a_len]``
    is replaced by ``b[b_start:b_start+b_len]``; a pure insertion has ``a_len == 0``
    (before line ``a_start``), a pure deletion ``b_len == 0``. In order, maximal.

    >>> diff_hunks(["a\\n", "b\\n", "c\\n"], ["a\\n", "c\\n"])
    [(1, 1, 1, 0)]
    >>> diff_hunks(["y\\n", "y\\n", "x\\n"], ["y\\n", "x\\n"])
    [(1, 1, 1, 0)]
    """
    classes: dict[str, int] = {}
    ids_a = [classes.setdefault(line, len(classes)) for line in a]
    ids_b = [classes.setdefault(line, len(classes)) for line in b]
    changed_a, changed_b = _mark_changes(ids_a, ids_b)
    ga, gb = _Groups(ids_a, changed_a), _Groups(ids_b, changed_b)
    _compact(ga, gb)
    gb, ga = _Groups(ids_b, gb.changed()), _Groups(ids_a, ga.changed())
    _compact(gb, ga)
    ch_a, ch_b = ga.changed(), gb.changed()

    hunks: list[Hunk] = []
    i, j = len(a), len(b)
    while i > 0 or j > 0:
        if (i > 0 and ch_a[i - 1]) or (j > 0 and ch_b[j - 1]):
            end_i, end_j = i, j
            while i > 0 and ch_a[i - 1]:
                i -= 1
            while j > 0 and ch_b[j - 1]:
                j -= 1
            hunks.append((i, end_i - i, j, end_j - j))
        i -= 1
        j -= 1
    hunks.reverse()
    return hunks
