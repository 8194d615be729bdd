"""``ConflictResolver``: conflicting concurrent file edits, found and resolved (pure).

The rule is the coordinator's, from :mod:`agentshell.core.ranges` (nothing of it is
restated here): two edits conflict when they are by different agents, of the same
file, concurrent by their vector clocks (neither had seen the other, see
:mod:`agentshell.core.clock`), and a line range of one overlaps or touches a line
range of the other (git's rule; ranges are ``[start, end)`` of the old content).

A resolver keeps the recent edits of each file (as many as the session state keeps,
``RECENT_EDITS_PER_FILE``) and the conflicts still open. :meth:`ConflictResolver.record_edit`
checks a new edit against the earlier ones and keeps it; :meth:`~ConflictResolver.check_edit`
asks without keeping anything; :meth:`~ConflictResolver.resolve` closes a conflict with
one of ``keep_first``, ``keep_second``, ``keep_both``, ``manual``. Each conflict can
become the ``conflict_detected`` event the session log stores
(:meth:`EditConflict.to_event`), and :meth:`ConflictResolver.from_state` picks up a
session's edits and open conflicts, so the resolver works beside a ``SessionManager``::

    resolver = ConflictResolver()
    resolver.record_edit("a", "main.py", [(2, 5)], {"a": 1})
    [c] = resolver.record_edit("b", "main.py", [(4, 6)], {"b": 1})  # concurrent, overlapping
    c.agents, c.ranges, c.overlap        # ('a', 'b'), ((2, 5), (4, 6)), (4, 5)
    resolver.resolve(c.conflict_id, "keep_both")
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from agentshell.core import events as ev
from agentshell.core.ranges import Range, find_conflicts
from agentshell.core.state import RECENT_EDITS_PER_FILE, EditInfo, SessionState

#: How a conflict can be resolved (the ``resolution`` of ``conflict_resolved``).
RESOLUTIONS: tuple[str, ...] = ("keep_first", "keep_second", "keep_both", "manual")


@dataclass(frozen=True, slots=True)
class EditConflict:
    """Two concurrent edits of one file whose line ranges overlap or touch.

    ``first`` is always the earlier recorded edit: ``agents``, ``ranges`` and
    ``edit_ids`` are ``(first, second)``; ``overlap`` is the shared part of the two
    ranges (empty, ``start == end``, when they only touch). ``conflict_id`` is ""
    for the conflicts :meth:`ConflictResolver.check_edit` reports (none is opened).
    """

    file_path: str
    agents: tuple[str, str]
    ranges: tuple[Range, Range]
    overlap: Range
    edit_ids: tuple[str, str]
    conflict_id: str = ""

    def to_event(self) -> ev.ConflictDetected:
        """The ``conflict_detected`` event recording this conflict."""
        return ev.ConflictDetected(
            conflict_id=self.conflict_id,
            file_path=self.file_path,
            agents=list(self.agents),
            ranges=[list(r) for r in self.ranges],
            overlap=list(self.overlap),
            edit_ids=list(self.edit_ids),
        )


def _ranges(ranges: Iterable[Sequence[int]]) -> tuple[Range, ...]:
    out = []
    for r in ranges:
        if len(r) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in r):
            raise TypeError(f"a line range is two ints [start, end), got {r!r}")
        start, end = r
        if not 0 <= start <= end:
            raise ValueError(f"a line range needs 0 <= start <= end, got {tuple(r)}")
        out.append((start, end))
    return tuple(out)


class ConflictResolver:
    """Finds conflicting concurrent edits and tracks them until resolved.

    No I/O and no clock reading (ids are random, ``uuid4``, unless given). Not
    thread-safe: like the session state, it has one writer.
    """

    def __init__(self, keep_per_file: int = RECENT_EDITS_PER_FILE) -> None:
        if keep_per_file < 1:
            raise ValueError("keep_per_file must be at least 1")
        self.keep_per_file = keep_per_file
        self._edits: dict[str, list[EditInfo]] = {}
        self._active: dict[str, EditConflict] = {}

    @classmethod
    def from_state(cls, state: SessionState) -> ConflictResolver:
        """A resolver holding a session's recent edits and its open conflicts (a
        conflict logged without both edit ids, by an old log, is left out)."""
        r = cls()
        for path, edits in state["file_edits"].items():
            r._edits[path] = list(edits[-r.keep_per_file :])
        for cid, c in state["active_conflicts"].items():
            if len(c.agents) >= 2 and len(c.ranges) >= 2 and len(c.edit_ids) >= 2:
                r._active[cid] = EditConflict(
                    file_path=c.file_path,
                    agents=(c.agents[0], c.agents[1]),
                    ranges=(c.ranges[0], c.ranges[1]),
                    overlap=c.overlap,
                    edit_ids=(c.edit_ids[0], c.edit_ids[1]),
                    conflict_id=cid,
                )
        return r

    # ------------------------------------------------------------------ finding

    @staticmethod
    def detect(edit: EditInfo, earlier: Iterable[EditInfo]) -> list[EditConflict]:
        """The conflicts between ``edit`` and each of the ``earlier`` edits, by the rule of
        :func:`agentshell.core.ranges.find_conflicts`; one per pair of conflicting
        ranges, in the order of ``earlier`` and then of the ranges."""
        out: list[EditConflict] = []
        seen: set[tuple[str, Range, Range]] = set()
        for other, mine, theirs, shared in find_conflicts(edit, earlier):
            key = (other.edit_id, mine, theirs)
            if key in seen:  # the same range listed twice in one edit
                continue
            seen.add(key)
            out.append(
                EditConflict(
                    file_path=edit.file_path,
                    agents=(other.agent_id, edit.agent_id),
                    ranges=(theirs, mine),
                    overlap=shared,
                    edit_ids=(other.edit_id, edit.edit_id),
                )
            )
        return out

    def _edit(
        self,
        edit_id: str,
        agent_id: str,
        file_path: str,
        ranges: Iterable[Sequence[int]],
        clock: Mapping[str, int],
    ) -> EditInfo:
        if not isinstance(agent_id, str) or not agent_id:
            raise ValueError(f"agent_id must be a non-empty string, got {agent_id!r}")
        if not isinstance(file_path, str) or not file_path:
            raise ValueError(f"file_path must be a non-empty string, got {file_path!r}")
        return EditInfo(
            edit_id=edit_id,
            agent_id=agent_id,
            file_path=file_path,
            ranges=_ranges(ranges),
            clock=dict(clock),
            old_hash="",
            new_hash="",
            seq=0,
            timestamp=0.0,
        )

    def check_edit(
        self,
        agent_id: str,
        file_path: str,
        ranges: Iterable[Sequence[int]],
        clock: Mapping[str, int],
    ) -> list[EditConflict]:
        """The conflicts an edit would make with the recorded edits; records nothing."""
        probe = self._edit("", agent_id, file_path, ranges, clock)
        return self.detect(probe, self._edits.get(file_path, ()))

    def record_edit(
        self,
        agent_id: str,
        file_path: str,
        ranges: Iterable[Sequence[int]],
        clock: Mapping[str, int],
        *,
        edit_id: str | None = None,
    ) -> list[EditConflict]:
        """Record an edit (``ranges`` of the old content, the agent's vector ``clock``
        when it made it) and open a conflict with every earlier edit it conflicts
        with; return those conflicts (each with its ``conflict_id``)."""
        eid = edit_id if edit_id is not None else "e-" + uuid.uuid4().hex[:12]
        return self.record(self._edit(eid, agent_id, file_path, ranges, clock))

    def record(self, edit: EditInfo) -> list[EditConflict]:
        """:meth:`record_edit` for an :class:`EditInfo` (as the session state holds them)."""
        edits = self._edits.setdefault(edit.file_path, [])
        if any(e.edit_id == edit.edit_id for e in edits):
            raise ValueError(f"edit {edit.edit_id!r} of {edit.file_path} is recorded already")
        opened = []
        for c in self.detect(edit, edits):
            cid = "c-" + uuid.uuid4().hex[:10]
            c = EditConflict(c.file_path, c.agents, c.ranges, c.overlap, c.edit_ids, cid)
            self._active[cid] = c
            opened.append(c)
        edits.append(edit)
        if len(edits) > self.keep_per_file:
            del edits[: len(edits) - self.keep_per_file]
        return opened

    # ---------------------------------------------------------------- resolving

    @property
    def active_conflicts(self) -> dict[str, EditConflict]:
        """The open conflicts by id, oldest first (a copy)."""
        return dict(self._active)

    def recent_edits(self, file_path: str) -> list[EditInfo]:
        """The recorded edits of ``file_path`` still kept, oldest first (a copy)."""
        return list(self._edits.get(file_path, ()))

    def resolve(self, conflict_id: str, resolution: str) -> EditConflict:
        """Close an open conflict and return it. KeyError for an unknown (or already
        resolved) conflict, ValueError for a resolution not in :data:`RESOLUTIONS`."""
        if resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}: {resolution!r}")
        try:
            return self._active.pop(conflict_id)
        except KeyError:
            raise KeyError(conflict_id) from None


def sides_of(
    edit_ids: Sequence[str],
    ranges: Sequence[Sequence[int]],
    edits: Mapping[str, object],
) -> tuple[str, tuple[str, ...], str, tuple[str, ...], int, int] | None:
    """Each side of a conflict as its agent wrote it, for a side-by-side view:
    ``(first_agent, first_lines, second_agent, second_lines, first_start,
    second_start)``, from the conflict's first two edits (``edit_ids`` with their
    conflicting ``ranges``) and the ``file_edited`` events ``edits`` holds by event id.
    None when an edit is missing or does not hold the range's text."""
    if len(edit_ids) < 2 or len(ranges) < 2:
        return None
    sides: list[tuple[str, tuple[str, ...], int]] = []
    for edit_id, rng in zip(edit_ids[:2], ranges[:2], strict=True):
        fe = edits.get(edit_id)
        if fe is None:
            return None
        old: Sequence[Sequence[int]] = getattr(fe, "ranges", ())
        new: Sequence[Sequence[int]] = getattr(fe, "new_ranges", ())
        lines: Sequence[Sequence[str]] = getattr(fe, "new_lines", ())
        j = next((k for k, r in enumerate(old) if tuple(r) == tuple(rng)), None)
        if j is None or j >= len(lines) or j >= len(new):
            return None
        sides.append((str(getattr(fe, "agent_id", "")), tuple(lines[j]), int(new[j][0])))
    (a, a_lines, a0), (b, b_lines, b0) = sides
    return a, a_lines, b, b_lines, a0, b0
