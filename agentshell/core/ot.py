"""Text operations for operational transformation (retain / insert / delete).

An operation is a tuple of components walked left to right over the document:

* ``int n > 0``  retain n characters,
* ``str s``      insert s,
* ``int n < 0``  delete -n characters.

Lengths count Unicode code points. The wire form (``to_wire``/``from_wire``) is the
same list, which msgpack carries as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentshell.core.errors import AgentShellError

Component = int | str
Op = tuple[Component, ...]


class OTError(AgentShellError, ValueError):
    """An operation does not fit the document (or another operation) it meets."""


def from_wire(data: Sequence[Any]) -> Op:
    """Validate a wire operation and return it as a tuple of components."""
    if not isinstance(data, list | tuple):
        raise OTError(f"an operation is a list of components, got {type(data).__name__}")
    out: list[Component] = []
    for c in data:
        if isinstance(c, bool) or not isinstance(c, int | str):
            raise OTError(f"bad component {c!r}: use int (retain/delete) or str (insert)")
        if c == 0 or c == "":
            raise OTError("empty component in operation")
        out.append(c)
    return tuple(out)


def to_wire(op: Op) -> list[Component]:
    return list(op)


def base_length(op: Op) -> int:
    """Length of the document the operation applies to."""
    return sum(abs(c) for c in op if isinstance(c, int))


def target_length(op: Op) -> int:
    """Length of the document after the operation."""
    return sum(
        c if isinstance(c, int) and c > 0 else len(c) if isinstance(c, str) else 0 for c in op
    )


def apply(text: str, op: Op) -> str:
    """Apply ``op`` to ``text``; raises OTError when the lengths do not match."""
    if base_length(op) != len(text):
        raise OTError(f"operation spans {base_length(op)} characters, document has {len(text)}")
    parts: list[str] = []
    pos = 0
    for c in op:
        if isinstance(c, str):
            parts.append(c)
        elif c > 0:
            parts.append(text[pos : pos + c])
            pos += c
        else:
            pos -= c
    return "".join(parts)


# ----------------------------------------------------------------- construction
#
# Normal form. Every operation spans the whole document it applies to
# (``base_length(op) == len(text)``), so a trailing retain is *kept*: it is what
# says how long the document is. ``normalize`` returns the canonical spelling:
#
# * no empty components (0, "");
# * no two adjacent components of the same kind (retains, inserts and deletes are
#   each merged);
# * an insert never directly follows a delete: at one position the insert comes
#   first (``(-2, "x")`` is spelled ``("x", -2)``; both do the same thing).
#
# Every function below that builds an operation returns it in normal form.


def _push(out: list[Component], c: Component) -> None:
    """Append ``c`` to ``out`` keeping ``out`` in normal form."""
    if c == 0 or c == "":
        return
    if not out:
        out.append(c)
        return
    last = out[-1]
    if isinstance(c, str):
        if isinstance(last, str):
            out[-1] = last + c
        elif last < 0:
            # insert goes before the delete(s) at this position
            if len(out) >= 2 and isinstance(out[-2], str):
                out[-2] = out[-2] + c
            else:
                out.insert(len(out) - 1, c)
        else:
            out.append(c)
    elif isinstance(last, int) and (last > 0) == (c > 0):
        out[-1] = last + c
    else:
        out.append(c)


def normalize(op: Sequence[Component]) -> Op:
    """The canonical spelling of ``op`` (see "Normal form" above)."""
    out: list[Component] = []
    for c in op:
        _push(out, c)
    return tuple(out)


def is_normal(op: Sequence[Component]) -> bool:
    return tuple(op) == normalize(op)


def identity(length: int) -> Op:
    """The operation that changes nothing in a document of ``length`` characters."""
    return (length,) if length > 0 else ()


def insert_op(length: int, pos: int, text: str) -> Op:
    """Insert ``text`` at ``pos`` in a document of ``length`` characters."""
    if not 0 <= pos <= length:
        raise OTError(f"insert position {pos} outside a document of {length} characters")
    out: list[Component] = []
    _push(out, pos)
    _push(out, text)
    _push(out, length - pos)
    return tuple(out)


def delete_op(length: int, pos: int, n: int) -> Op:
    """Delete ``n`` characters at ``pos`` in a document of ``length`` characters."""
    if n < 0 or pos < 0 or pos + n > length:
        raise OTError(f"cannot delete {n} at {pos} in a document of {length} characters")
    out: list[Component] = []
    _push(out, pos)
    _push(out, -n)
    _push(out, length - pos - n)
    return tuple(out)


def replace_op(old: str, new: str) -> Op:
    """An operation turning ``old`` into ``new`` (common prefix and suffix retained)."""
    p = 0
    limit = min(len(old), len(new))
    while p < limit and old[p] == new[p]:
        p += 1
    s = 0
    while s < limit - p and old[-1 - s] == new[-1 - s]:
        s += 1
    out: list[Component] = []
    _push(out, p)
    _push(out, new[p : len(new) - s])
    _push(out, -(len(old) - p - s))
    _push(out, s)
    return tuple(out)


# ------------------------------------------------------------------- algebra


def invert(op: Op, text: str) -> Op:
    """The operation that undoes ``op``, given the ``text`` ``op`` was applied to.

    ``apply(apply(text, op), invert(op, text)) == text``.
    """
    if base_length(op) != len(text):
        raise OTError(f"operation spans {base_length(op)} characters, document has {len(text)}")
    out: list[Component] = []
    pos = 0
    for c in op:
        if isinstance(c, str):
            _push(out, -len(c))
        elif c > 0:
            _push(out, c)
            pos += c
        else:
            _push(out, text[pos : pos - c])
            pos -= c
    return tuple(out)


def compose(a: Op, b: Op) -> Op:
    """One operation with the effect of ``a`` followed by ``b``.

    ``apply(apply(S, a), b) == apply(S, compose(a, b))``. Requires
    ``target_length(a) == base_length(b)``.
    """
    if target_length(a) != base_length(b):
        raise OTError(
            f"cannot compose: first op yields {target_length(a)} characters, "
            f"second spans {base_length(b)}"
        )
    out: list[Component] = []
    ia = ib = 0
    na, nb = len(a), len(b)
    ca: Component | None = a[0] if na else None
    cb: Component | None = b[0] if nb else None
    while ca is not None or cb is not None:
        if isinstance(ca, int) and ca < 0:  # a deletes: b never saw those characters
            _push(out, ca)
            ia += 1
            ca = a[ia] if ia < na else None
            continue
        if isinstance(cb, str):  # b inserts
            _push(out, cb)
            ib += 1
            cb = b[ib] if ib < nb else None
            continue
        if ca is None or cb is None:  # pragma: no cover - excluded by the length check
            raise OTError("cannot compose: operations have different lengths")
        if isinstance(ca, str):
            n = len(ca)
            if cb > 0:  # keep (part of) a's insert
                if n <= cb:
                    _push(out, ca)
                    cb = cb - n if cb > n else None
                    ca = None
                else:
                    _push(out, ca[:cb])
                    ca = ca[cb:]
                    cb = None
            else:  # b deletes (part of) what a inserted
                m = -cb
                if n <= m:
                    cb = cb + n if m > n else None
                    ca = None
                else:
                    ca = ca[m:]
                    cb = None
        else:  # ca retains
            if cb > 0:
                m = min(ca, cb)
                _push(out, m)
                cb = cb - m or None
            else:
                m = min(ca, -cb)
                _push(out, -m)
                cb = cb + m or None
            ca = ca - m or None
        if ca is None:
            ia += 1
            ca = a[ia] if ia < na else None
        if cb is None:
            ib += 1
            cb = b[ib] if ib < nb else None
    return tuple(out)


def transform(a: Op, b: Op, side: str = "left") -> tuple[Op, Op]:
    """Transform two concurrent operations on the same document.

    Returns ``(a2, b2)`` with ``apply(apply(S, a), b2) == apply(apply(S, b), a2)``
    (TP1), i.e. ``a2`` is ``a`` rebased onto ``b`` and ``b2`` is ``b`` rebased onto
    ``a``. ``side`` says where ``a``'s text goes when both insert at the same
    position: ``"left"`` puts ``a``'s insert first, ``"right"`` puts ``b``'s
    first. ``transform(a, b, "left")`` equals ``transform(b, a, "right")`` swapped.
    """
    if side not in ("left", "right"):
        raise OTError(f"side must be 'left' or 'right', not {side!r}")
    if base_length(a) != base_length(b):
        raise OTError(
            f"cannot transform: operations span {base_length(a)} and {base_length(b)} characters"
        )
    a_first = side == "left"
    a2: list[Component] = []
    b2: list[Component] = []
    ia = ib = 0
    na, nb = len(a), len(b)
    ca: Component | None = a[0] if na else None
    cb: Component | None = b[0] if nb else None
    while ca is not None or cb is not None:
        if isinstance(ca, str) and (a_first or not isinstance(cb, str)):
            _push(a2, ca)
            _push(b2, len(ca))
            ia += 1
            ca = a[ia] if ia < na else None
            continue
        if isinstance(cb, str):
            _push(a2, len(cb))
            _push(b2, cb)
            ib += 1
            cb = b[ib] if ib < nb else None
            continue
        if ca is None or cb is None:  # pragma: no cover - excluded by the length check
            raise OTError("cannot transform: operations have different lengths")
        assert isinstance(ca, int)
        if ca > 0:
            if cb > 0:  # both retain
                m = min(ca, cb)
                _push(a2, m)
                _push(b2, m)
                ca -= m
                cb -= m
            else:  # b deletes what a retains
                m = min(ca, -cb)
                _push(b2, -m)
                ca -= m
                cb += m
        elif cb > 0:  # a deletes what b retains
            m = min(-ca, cb)
            _push(a2, -m)
            ca += m
            cb -= m
        else:  # both delete: already gone on both sides
            m = min(-ca, -cb)
            ca += m
            cb += m
        if ca == 0:
            ia += 1
            ca = a[ia] if ia < na else None
        if cb == 0:
            ib += 1
            cb = b[ib] if ib < nb else None
    return tuple(a2), tuple(b2)


# ------------------------------------------------- central-server OT (Jupiter/Wave)
#
# Protocol, in terms of these two classes:
#
# * A client keeps an ``OTClientDoc``. A local edit goes through ``local(op)``: it
#   is applied to ``text`` at once; when it returns an op, send
#   ``(doc.revision, op, doc.inflight_seq)`` to the server.
# * The server's ``OTServerDoc.receive(base_revision, op, agent, client_seq)``
#   transforms the op against every op applied since ``base_revision``, applies it
#   and returns ``(transformed_op, new_revision)``: log it, acknowledge the sender,
#   broadcast the transformed op (with its revision) to everyone else.
# * The sender calls ``ack()`` on the acknowledgement; when it returns an op, send
#   it as above. Every other client calls ``remote(op)`` and applies nothing
#   itself: ``remote`` has already updated ``text`` and returns the op it applied
#   (for an editor that wants to move its cursor).
# * Ties (both sides insert at one place): the op the server applied first wins
#   the left side, on the server and on every client alike.
# * Reconnecting: fetch the ops after ``doc.revision`` in order; for each, call
#   ``ack()`` when it is the client's own in-flight op (same agent and
#   ``inflight_seq``), else ``remote(op)``; then resend the in-flight op, if any,
#   with the same seq. A resend the server already applied is answered from its
#   dedup table, not applied twice.


class OTServerDoc:
    """The server's copy of a shared document: text, revision and history.

    ``history[i]`` is the op that took the document from revision
    ``history_start + i`` to ``history_start + i + 1``. A document restored from a
    snapshot (``text`` and ``revision`` only) starts with an empty history, so
    clients based on an older revision must resynchronize (``OTError``).

    The history is bounded: it keeps at least the last ``keep`` ops (and at most
    twice that; trimming happens in steps so appends stay O(1) amortized). A live
    client's op is based at most a few ops back, so only a client that fell
    ``keep`` ops behind has to resynchronize; the dedup table of ``(agent, seq)``
    is trimmed with the history, and a resend of a forgotten op is refused (its
    base is gone), never applied twice. ``keep=None`` keeps everything.
    """

    __slots__ = ("_seen", "authors", "history", "history_start", "keep", "revision", "text")

    def __init__(self, text: str = "", revision: int = 0, keep: int | None = 4096) -> None:
        self.text = text
        self.revision = revision
        self.history_start = revision
        self.history: list[Op] = []
        self.authors: list[tuple[str, int]] = []
        self._seen: dict[tuple[str, int], tuple[Op, int]] = {}
        self.keep = keep

    def is_duplicate(self, agent: str, client_seq: int) -> bool:
        """True when ``(agent, client_seq)`` was already applied."""
        return (agent, client_seq) in self._seen

    def ops_since(self, revision: int) -> list[tuple[int, Op, str, int]]:
        """``(revision_after, op, agent, client_seq)`` for each op after ``revision``."""
        if not self.history_start <= revision <= self.revision:
            raise OTError(
                f"revision {revision} is not between {self.history_start} and {self.revision}"
            )
        start = revision - self.history_start
        return [
            (self.history_start + i + 1, self.history[i], *self.authors[i])
            for i in range(start, len(self.history))
        ]

    def receive(self, base_revision: int, op: Op, agent: str, client_seq: int) -> tuple[Op, int]:
        """Apply a client's op made at ``base_revision``; return ``(op', new revision)``.

        ``op'`` is ``op`` transformed against every op applied since
        ``base_revision`` (those win insert ties). A duplicate ``(agent,
        client_seq)`` returns its original result and changes nothing (check
        ``is_duplicate`` first to avoid logging it twice). Raises ``OTError`` (and
        changes nothing) for a revision outside the history or an op that does not
        fit the document at ``base_revision``.
        """
        key = (agent, client_seq)
        done = self._seen.get(key)
        if done is not None:
            return done
        if not self.history_start <= base_revision <= self.revision:
            raise OTError(
                f"base revision {base_revision} is not between "
                f"{self.history_start} and {self.revision}: resynchronize"
            )
        for h in self.history[base_revision - self.history_start :]:
            op = transform(op, h, "right")[0]
        text = apply(self.text, op)
        self.text = text
        self.revision += 1
        self.history.append(op)
        self.authors.append(key)
        self._seen[key] = (op, self.revision)
        self._bound()
        return op, self.revision

    def restore(self, op: Op, agent: str = "", client_seq: int = 0) -> int:
        """Append an op that was already transformed (replaying the log); return the revision."""
        self.text = apply(self.text, op)
        self.revision += 1
        self.history.append(op)
        self.authors.append((agent, client_seq))
        if agent:
            self._seen[(agent, client_seq)] = (op, self.revision)
        self._bound()
        return self.revision

    def _bound(self) -> None:
        if self.keep is not None and len(self.history) >= 2 * self.keep + 1:
            self.forget_before(self.revision - self.keep)

    def forget_before(self, revision: int) -> None:
        """Drop history before ``revision`` (clients based earlier must resync)."""
        cut = min(max(revision, self.history_start), self.revision) - self.history_start
        for key in self.authors[:cut]:
            self._seen.pop(key, None)
        del self.history[:cut]
        del self.authors[:cut]
        self.history_start += cut


class OTClientDoc:
    """A client's copy of a shared document (the classic three-state client).

    States: *synchronized* (``inflight is None``), *awaiting ack* (one op in
    flight), *awaiting with buffer* (one op in flight, later local ops composed
    into ``buffer``). ``revision`` is the last server revision this copy includes;
    ``text`` always includes every local edit.
    """

    __slots__ = ("buffer", "inflight", "inflight_seq", "next_seq", "revision", "text")

    def __init__(self, text: str = "", revision: int = 0, next_seq: int = 1) -> None:
        self.text = text
        self.revision = revision
        self.inflight: Op | None = None
        self.inflight_seq = 0
        self.buffer: Op | None = None
        self.next_seq = next_seq

    @property
    def state(self) -> str:
        if self.inflight is None:
            return "synchronized"
        return "awaiting" if self.buffer is None else "awaiting_with_buffer"

    def local(self, op: Op) -> Op | None:
        """Apply a local edit now. Returns the op to send, or None (it was buffered)."""
        self.text = apply(self.text, op)
        if self.inflight is None:
            self.inflight = op
            self.inflight_seq = self.next_seq
            self.next_seq += 1
            return op
        self.buffer = op if self.buffer is None else compose(self.buffer, op)
        return None

    def insert(self, pos: int, text: str) -> Op | None:
        return self.local(insert_op(len(self.text), pos, text))

    def delete(self, pos: int, n: int) -> Op | None:
        return self.local(delete_op(len(self.text), pos, n))

    def ack(self, revision: int | None = None) -> Op | None:
        """The server applied our in-flight op. Returns the next op to send, or None."""
        if self.inflight is None:
            raise OTError("acknowledgement without an operation in flight")
        if revision is not None and revision != self.revision + 1:
            raise OTError(f"acknowledged revision {revision}, expected {self.revision + 1}")
        self.revision += 1
        self.inflight = self.buffer
        self.buffer = None
        if self.inflight is not None:
            self.inflight_seq = self.next_seq
            self.next_seq += 1
        return self.inflight

    def remote(self, op: Op, revision: int | None = None) -> Op:
        """Apply another client's op (as the server broadcast it); return what was applied."""
        if revision is not None and revision != self.revision + 1:
            raise OTError(f"received revision {revision}, expected {self.revision + 1}")
        if self.inflight is not None:
            op, inflight = transform(op, self.inflight, "left")
            if self.buffer is not None:
                op, self.buffer = transform(op, self.buffer, "left")
            self.inflight = inflight
        self.text = apply(self.text, op)
        self.revision += 1
        return op
