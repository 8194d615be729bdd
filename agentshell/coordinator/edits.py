"""File edits and conflicts: reported edits, concurrent overlapping ones, resolutions."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from agentshell.core import events as ev
from agentshell.core.conflicts import sides_of
from agentshell.core.ranges import changed_line_ranges, find_conflicts
from agentshell.core.state import EditInfo

from .agents import EDIT
from .results import InvalidRequestError, NotFoundError

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager

    from .agents import AgentDirectory
    from .clocks import Clocks
    from .writer import EventWriter

#: Reported edits kept in memory for conflict side-by-sides (each holds its new
#: lines); an older one is read from the log when a conflict needs it.
EDIT_CACHE_KEEP = 4096


class EditLog:
    """Reported edits, conflict detection and resolution."""

    def __init__(
        self,
        session: SessionManager,
        writer: EventWriter,
        directory: AgentDirectory,
        clocks: Clocks,
    ) -> None:
        self.session = session
        self._writer = writer
        self._directory = directory
        self._clocks = clocks
        #: file_edited events reported since start, by event id (conflict side-by-side)
        self._edit_event_cache: dict[str, ev.FileEdited] = {}

    async def report(
        self,
        agent_id: str,
        path: str,
        old: str,
        new: str,
        clock: dict[str, int] | None = None,
    ) -> tuple[ev.FileEdited, list[ev.ConflictDetected]]:
        """Log ``agent_id``'s edit of ``path`` and the conflicts it makes (pushed to both)."""
        if agent_id != ev.HUMAN:
            self._directory.require(agent_id, EDIT)
        if not path:
            raise InvalidRequestError("path must be non-empty")
        old_r, new_r = changed_line_ranges(old, new)
        e = await self._writer.record(
            ev.FileEdited(
                agent_id=agent_id,
                file_path=path,
                old_hash=hashlib.sha256(old.encode()).hexdigest(),
                new_hash=hashlib.sha256(new.encode()).hexdigest(),
                ranges=old_r,
                new_ranges=new_r,
                lines_added=sum(b - a for a, b in new_r),
                lines_removed=sum(b - a for a, b in old_r),
                new_lines=ev.range_excerpts(new, new_r),
                clock=self._clocks.clock_for(agent_id, clock),
            )
        )
        assert isinstance(e, ev.FileEdited)
        cache = self._edit_event_cache
        cache[e.event_id] = e
        while len(cache) > EDIT_CACHE_KEEP:  # the oldest go (found in the log again)
            del cache[next(iter(cache))]
        self._clocks.saw(agent_id, e)
        edits = self.session.state["file_edits"].get(path, [])
        mine = next((x for x in reversed(edits) if x.edit_id == e.event_id), None)
        conflicts: list[ev.ConflictDetected] = []
        if mine is None:
            return e, conflicts
        seen_pairs: set[tuple[str, tuple[int, int], tuple[int, int]]] = set()
        for other, my_range, their_range, overlap in find_conflicts(mine, edits):
            key = (other.edit_id, my_range, their_range)
            if key in seen_pairs:
                continue
            seen_pairs.add(key)
            c = await self._writer.record(
                ev.ConflictDetected(
                    conflict_id="c-" + uuid.uuid4().hex[:10],
                    file_path=path,
                    agents=[other.agent_id, agent_id],
                    ranges=[list(their_range), list(my_range)],
                    overlap=list(overlap),
                    edit_ids=[other.edit_id, mine.edit_id],
                )
            )
            assert isinstance(c, ev.ConflictDetected)
            conflicts.append(c)
        return e, conflicts

    def check(
        self,
        agent_id: str,
        path: str,
        ranges: Iterable[tuple[int, int]],
        clock: dict[str, int] | None = None,
    ) -> list[EditInfo]:
        """The logged edits of ``path`` that an edit of ``ranges`` by ``agent_id`` would
        conflict with. The agent is then counted as having seen every edit of ``path``."""
        edits = self.session.state["file_edits"].get(path, [])
        probe = EditInfo(
            edit_id="",
            agent_id=agent_id,
            file_path=path,
            ranges=tuple((int(a), int(b)) for a, b in ranges),
            clock=self._clocks.clock_for(agent_id, clock),
            old_hash="",
            new_hash="",
            seq=0,
            timestamp=time.time(),
        )
        out: dict[str, EditInfo] = {}
        for other, *_ in find_conflicts(probe, edits):
            out.setdefault(other.edit_id, other)
        for x in edits:
            self._clocks.saw_clock(agent_id, x.clock)
        return list(out.values())

    def sides(
        self, conflict_id: str
    ) -> tuple[str, tuple[str, ...], str, tuple[str, ...], int, int] | None:
        """Each side of an active conflict as its agent wrote it, for a side-by-side view:
        ``(first_agent, first_lines, second_agent, second_lines, first_start,
        second_start)``, from the two ``file_edited`` events (found in the log once,
        then cached). None when the conflict or its edits are unknown."""
        c = self.session.state["active_conflicts"].get(conflict_id)
        if c is None or len(c.edit_ids) < 2 or len(c.ranges) < 2:
            return None
        cache = self._edit_event_cache
        missing = {i for i in c.edit_ids if i not in cache}
        if missing:
            # read from the first of the edits when the state still knows its seq
            # (the log is read from near there), else from well before the conflict
            edits = self.session.state["file_edits"].get(c.file_path, [])
            seqs = [x.seq for x in edits if x.edit_id in missing]
            after = min(seqs) - 1 if len(seqs) == len(missing) else max(0, c.seq - 100_000)
            for e in self.session.iter_events(after_seq=after, types=("file_edited",)):
                if e.seq > c.seq:
                    break  # a conflict is detected after both of its edits
                if isinstance(e, ev.FileEdited) and e.event_id in missing:
                    cache[e.event_id] = e
                    missing.discard(e.event_id)
                    if not missing:
                        break
        return sides_of(c.edit_ids, c.ranges, cache)

    async def resolve(
        self, conflict_id: str, resolution: str, *, by: str = ev.HUMAN, note: str = ""
    ) -> None:
        """Resolve a conflict: keep_first, keep_second, keep_both or manual."""
        if conflict_id not in self.session.state["active_conflicts"]:
            raise NotFoundError(f"no active conflict {conflict_id!r}")
        if resolution not in ("keep_first", "keep_second", "keep_both", "manual"):
            raise InvalidRequestError("resolution: keep_first, keep_second, keep_both or manual")
        await self._writer.record(
            ev.ConflictResolved(
                agent_id=ev.HUMAN, conflict_id=conflict_id, resolution=resolution, by=by, note=note
            )
        )
