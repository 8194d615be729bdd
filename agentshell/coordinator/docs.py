"""Shared documents (central-server OT): ``draft:<terminal>`` and ``approval:<id>``."""

from __future__ import annotations

from typing import Any

from agentshell.core import events as ev
from agentshell.core import ot

from .agents import TYPE
from .approvals import ApprovalsMixin
from .results import (
    InvalidRequestError,
    InvalidStateError,
)


class DocsMixin(ApprovalsMixin):
    """OT documents: open, apply ops, submit a draft."""

    def _doc(self, doc: str) -> ot.OTServerDoc:
        sd = self._docs.get(doc)
        if sd is None:
            if doc.startswith("draft:"):
                self._slot(doc[len("draft:") :])
            elif (approval_id := ev.approval_of_doc(doc)) is not None:
                self.approval(approval_id)
            else:
                raise InvalidRequestError(
                    f"unknown document {doc!r}: use draft:<terminal> or approval:<id>"
                )
            info = self.session.state["docs"].get(doc)
            if info is None:
                sd = ot.OTServerDoc()
            else:  # logged before this coordinator started: rebuild its history
                sd = self._histories().pop(doc, None) or ot.OTServerDoc(info.text, info.revision)
            self._docs[doc] = sd
        return sd

    def _histories(self) -> dict[str, ot.OTServerDoc]:
        """The documents of the log, each rebuilt from its ``doc_op`` events (read once).

        A rebuilt document has its whole history and its dedup table, so a client
        based on a revision from before a restart is transformed as usual and a resend
        of an op it made then is acknowledged, not applied twice. A document whose
        ops do not replay to the state's text and revision (a log that no longer
        starts at its first op) is left out: it starts from the state's text with no
        history, and clients based on older revisions get ``bad_request`` (resync).
        """
        if self._doc_histories is None:
            known = self.session.state["docs"]
            docs: dict[str, ot.OTServerDoc] = {}
            broken: set[str] = set()
            if known:
                for e in self.session.iter_events(types=("doc_op",)):
                    if not isinstance(e, ev.DocOp) or e.doc not in known or e.doc in broken:
                        continue
                    sd = docs.setdefault(e.doc, ot.OTServerDoc())
                    try:
                        if e.revision != sd.revision + 1:
                            raise ot.OTError("revision gap")
                        author = "" if e.agent_id == ev.SYSTEM else e.agent_id
                        sd.restore(ot.from_wire(e.op), author, e.client_seq)
                    except ot.OTError:
                        broken.add(e.doc)
            self._doc_histories = {
                name: sd
                for name, sd in docs.items()
                if name not in broken
                and (sd.text, sd.revision) == (known[name].text, known[name].revision)
            }
        return self._doc_histories

    async def doc_open(self, doc: str) -> tuple[str, int]:
        """``(text, revision)`` of a shared document, creating it when new.

        ``draft:<terminal>`` starts empty; ``approval:<id>`` starts as the pending
        command's text (one system op, so the log replays to the same text).
        """
        sd = self._doc(doc)
        approval_id = ev.approval_of_doc(doc)
        if approval_id is not None and sd.revision == 0:
            text = self.approval(approval_id).command
            op, rev = sd.receive(0, ot.insert_op(0, 0, text), ev.SYSTEM, self._next_system_seq())
            await self._emit(
                ev.DocOp(agent_id=ev.SYSTEM, doc=doc, revision=rev, op=ot.to_wire(op), client_seq=0)
            )
        return sd.text, sd.revision

    def doc_state(self, doc: str) -> tuple[str, int]:
        """``(text, revision)`` of a document as it is now (no event)."""
        sd = self._doc(doc)
        return sd.text, sd.revision

    async def doc_op(
        self,
        agent_id: str,
        doc: str,
        base_revision: int,
        op: Any,
        client_seq: int,
        clock: dict[str, int] | None = None,
    ) -> tuple[list[Any], int]:
        """Apply ``agent_id``'s op made at ``base_revision``: transform it against the
        ops since, log it (``doc_op``), broadcast it. Returns ``(op', revision)``.
        A resend of an applied ``(agent, client_seq)`` returns the first result."""
        if agent_id != ev.HUMAN:
            self.require(agent_id, TYPE)
        approval_id = ev.approval_of_doc(doc)
        if approval_id is not None and doc not in self._docs:
            await self.doc_open(doc)
        sd = self._doc(doc)
        try:
            parsed = ot.from_wire(op)
            if sd.is_duplicate(agent_id, client_seq):
                done, rev = sd.receive(base_revision, parsed, agent_id, client_seq)
                return ot.to_wire(done), rev
            if approval_id is not None:
                info = self.approval(approval_id)
                if info.status != "queued":
                    raise InvalidStateError(f"approval {info.approval_id} is {info.status}")
            applied, rev = sd.receive(base_revision, parsed, agent_id, client_seq)
        except ot.OTError as exc:
            raise InvalidRequestError(f"{doc}: {exc}") from None
        await self._emit(
            ev.DocOp(
                agent_id=agent_id,
                doc=doc,
                revision=rev,
                op=ot.to_wire(applied),
                client_seq=client_seq,
                clock=self._clock_for(agent_id, clock),
            )
        )
        return ot.to_wire(applied), rev

    async def submit_draft(
        self, agent_id: str, terminal: str = "main", timeout: float | None = None
    ) -> str:
        """Queue the text of ``draft:<terminal>`` as ``agent_id``'s command, then clear the draft."""
        doc = f"draft:{terminal}"
        sd = self._doc(doc)
        command = sd.text.strip()
        approval_id = await self.propose(agent_id, command, terminal, timeout)
        if sd.text:
            op, rev = sd.receive(
                sd.revision,
                ot.delete_op(len(sd.text), 0, len(sd.text)),
                ev.SYSTEM,
                self._next_system_seq(),
            )
            await self._emit(
                ev.DocOp(agent_id=ev.SYSTEM, doc=doc, revision=rev, op=ot.to_wire(op), client_seq=0)
            )
        return approval_id

    def _next_system_seq(self) -> int:
        self._system_seq -= 1  # negative: never collides with a client's own counter
        return self._system_seq
