"""Reducers of the file edit events and of the conflicts found between them."""

from __future__ import annotations

from typing import Any

from .model import RECENT_EDITS_PER_FILE, ConflictInfo, EditInfo, SessionState


def edit_info(e: Any) -> EditInfo:
    return EditInfo(
        edit_id=e.event_id,
        agent_id=e.agent_id,
        file_path=e.file_path,
        ranges=tuple((int(a), int(b)) for a, b in e.ranges),
        clock=dict(e.clock),
        old_hash=e.old_hash,
        new_hash=e.new_hash,
        seq=e.seq,
        timestamp=e.timestamp,
    )


def file_edited(s: SessionState, e: Any) -> None:
    edits = s["file_edits"].setdefault(e.file_path, [])
    edits.append(edit_info(e))
    if len(edits) > RECENT_EDITS_PER_FILE:
        del edits[: len(edits) - RECENT_EDITS_PER_FILE]


def conflict_detected(s: SessionState, e: Any) -> None:
    s["active_conflicts"][e.conflict_id] = ConflictInfo(
        conflict_id=e.conflict_id,
        file_path=e.file_path,
        agents=tuple(e.agents),
        ranges=tuple((int(a), int(b)) for a, b in e.ranges),
        overlap=(int(e.overlap[0]), int(e.overlap[1])),
        edit_ids=tuple(e.edit_ids),
        detected_at=e.timestamp,
        seq=e.seq,
    )


def conflict_resolved(s: SessionState, e: Any) -> None:
    s["active_conflicts"].pop(e.conflict_id, None)
