"""Stored event records read as events, without building the event dataclasses."""

from __future__ import annotations

import dataclasses
from typing import Any

from agentshell.core import events as ev


class RecordView:
    """Attribute access to a stored record, for the reducer's handlers.

    Replay folds records without building event dataclasses: the record's payload
    map becomes the view's ``__dict__`` with the header added (``event_type``,
    ``seq``, ``event_id``, ``timestamp``, ``agent_id``, ``clock``). A payload field
    missing from an older record reads as the event class's default.
    """

    event_type: str
    seq: int
    event_id: str
    timestamp: float
    agent_id: str
    clock: dict[str, int]

    def __getattr__(self, name: str) -> Any:
        cls = ev.EVENT_TYPES[self.__dict__["event_type"]]
        for f in dataclasses.fields(cls):
            if f.name == name:
                if f.default is not dataclasses.MISSING:
                    return f.default
                if f.default_factory is not dataclasses.MISSING:
                    return f.default_factory()
        raise AttributeError(name)


def record_view(record: dict[str, Any]) -> RecordView:
    """A :class:`RecordView` of ``record`` (takes over ``record["p"]``)."""
    p = record["p"]
    p["event_type"] = record["t"]
    p["seq"] = record["s"]
    p["event_id"] = record["i"]
    p["timestamp"] = record["ts"]
    p["agent_id"] = record["a"]
    p["clock"] = record["c"]
    v = object.__new__(RecordView)
    v.__dict__ = p
    return v
