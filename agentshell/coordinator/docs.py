"""Shared documents (central-server OT): ``draft:<terminal>`` and ``approval:<id>``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentshell.core import events as ev
from agentshell.core import ot
from agentshell.core.state import ApprovalInfo

from .agents import TYPE
from .results import InvalidRequestError, InvalidStateError

if TYPE_CHECKING:
    from agentshell.store.session import SessionManager

    from .agents import AgentDirectory
    from .clocks import Clocks
    from .terminals import TerminalSet
    from .writer import EventWriter


class SharedDocs:
    """OT documents: open, apply ops, the text an approval's editor holds.

    ``approval`` looks a pending approval up (NotFoundError when there is none)."""

    def __init__(
        self,
        session: SessionManager,
        writer: EventWriter,
        directory: AgentDirectory,
        clocks: Clocks,
        terminals: TerminalSet,
        approval: Callable[[str], ApprovalInfo],
    ) -> None:
        self.session = session
        self._writer = writer
        self._directory = directory
        self._clocks = clocks
        self._terminals = terminals
        self._approval = approval
        self._docs: dict[str, ot.OTServerDoc] = {}
        self._histories_read: dict[str, ot.OTServerDoc] | None = None
        self._system_seq = 0

    def durable(self, e: ev.Event) -> None:
        """Once an approval has ended, so has its shared text (the state dropped it too)."""
        if isinstance(e, ev.ApprovalDecided | ev.ApprovalExecuted) and (
            e.approval_id not in self.session.state["pending_approvals"]
        ):
            self._docs.pop(ev.approval_doc(e.approval_id), None)

    def _doc(self, doc: str) -> ot.OTServerDoc:
        sd = self._docs.get(doc)
        if sd is None:
            if doc.startswith("draft:"):
                self._terminals.get(doc[len("draft:") :])
            elif (approval_id := ev.approval_of_doc(doc)) is not None:
                self._approval(approval_id)
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
        if self._histories_read is None:
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
            self._histories_read = {
                name: sd
                for name, sd in docs.items()
                if name not in broken
                and (sd.text, sd.revision) == (known[name].text, known[name].revision)
            }
        return self._histories_read

    async def open(self, doc: str) -> tuple[str, int]:
        """``(text, revision)`` of a shared document, creating it when new.

        ``draft:<terminal>`` starts empty; ``approval:<id>`` starts as the pending
        command's text (one system op, so the log replays to the same text).
        """
        sd = self._doc(doc)
        approval_id = ev.approval_of_doc(doc)
        if approval_id is not None and sd.revision == 0:
            text = self._approval(approval_id).command
            op, rev = sd.receive(0, ot.insert_op(0, 0, text), ev.SYSTEM, self._next_system_seq())
            await self._writer.record(
                ev.DocOp(agent_id=ev.SYSTEM, doc=doc, revision=rev, op=ot.to_wire(op), client_seq=0)
            )
        return sd.text, sd.revision

    def state(self, doc: str) -> tuple[str, int]:
        """``(text, revision)`` of a document as it is now (no event)."""
        sd = self._doc(doc)
        return sd.text, sd.revision

    async def apply(
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
            self._directory.require(agent_id, TYPE)
        approval_id = ev.approval_of_doc(doc)
        if approval_id is not None and doc not in self._docs:
            await self.open(doc)
        sd = self._doc(doc)
        try:
            parsed = ot.from_wire(op)
            if sd.is_duplicate(agent_id, client_seq):
                done, rev = sd.receive(base_revision, parsed, agent_id, client_seq)
                return ot.to_wire(done), rev
            if approval_id is not None:
                info = self._approval(approval_id)
                if info.status != "queued":
                    raise InvalidStateError(f"approval {info.approval_id} is {info.status}")
                if not info.editable:
                    raise InvalidStateError(
                        f"approval {info.approval_id} cannot be edited: approve or reject it"
                    )
            applied, rev = sd.receive(base_revision, parsed, agent_id, client_seq)
        except ot.OTError as exc:
            raise InvalidRequestError(f"{doc}: {exc}") from None
        await self._writer.record(
            ev.DocOp(
                agent_id=agent_id,
                doc=doc,
                revision=rev,
                op=ot.to_wire(applied),
                client_seq=client_seq,
                clock=self._clocks.clock_for(agent_id, clock),
            )
        )
        return ot.to_wire(applied), rev

    def approved_text(
        self, approval_id: str, command: str | None, revision: int | None
    ) -> tuple[str | None, int | None]:
        """What the human approves: ``(command, revision)`` to run.

        A ``revision`` must be the approval document's current one (the text run is
        exactly that revision's); with neither given, an approval whose document was
        edited runs the edited text; otherwise ``command`` (None: the proposed text).
        """
        sd = self._docs.get(ev.approval_doc(approval_id))
        if revision is not None:
            if sd is None or sd.revision != revision:
                current = sd.revision if sd is not None else 0
                raise InvalidStateError(
                    f"approval {approval_id}: revision {revision} is not the current text "
                    f"(revision {current}); review it again"
                )
            return sd.text, revision
        if command is None and sd is not None and sd.text != self._approval(approval_id).command:
            return sd.text, sd.revision
        return command, None

    def draft_text(self, terminal: str) -> str:
        """The text of ``draft:<terminal>`` (NotFoundError when the terminal is not open)."""
        return self._doc(f"draft:{terminal}").text

    async def clear_draft(self, terminal: str) -> None:
        """Empty ``draft:<terminal>`` (one system op) after its text was submitted."""
        doc = f"draft:{terminal}"
        sd = self._doc(doc)
        if sd.text:
            op, rev = sd.receive(
                sd.revision,
                ot.delete_op(len(sd.text), 0, len(sd.text)),
                ev.SYSTEM,
                self._next_system_seq(),
            )
            await self._writer.record(
                ev.DocOp(agent_id=ev.SYSTEM, doc=doc, revision=rev, op=ot.to_wire(op), client_seq=0)
            )

    def _next_system_seq(self) -> int:
        self._system_seq -= 1  # negative: never collides with a client's own counter
        return self._system_seq
