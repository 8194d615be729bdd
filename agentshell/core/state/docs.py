"""Reducer of the shared documents (OT): one operation applied to its document."""

from __future__ import annotations

from typing import Any

from agentshell.core import ot
from agentshell.core.clock import merge

from .model import DocInfo, SessionState


def doc_op(s: SessionState, e: Any) -> None:
    d = s["docs"].get(e.doc) or DocInfo(doc=e.doc)
    s["docs"][e.doc] = DocInfo(
        doc=e.doc,
        text=ot.apply(d.text, ot.from_wire(e.op)),
        revision=e.revision,
        clock=merge(d.clock, e.clock),
    )
