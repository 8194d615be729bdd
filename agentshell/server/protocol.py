"""The wire protocol's vocabulary, below both the server and its ops.

What every op needs to read a request and shape a reply: the protocol version,
:class:`RequestError`, :func:`field` (a checked request field), :func:`plain`
(dataclasses as msgpack-ready values), :func:`wire_error` (an exception as the
``error`` map of a reply). See ``docs/protocol.md`` for the frames themselves.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from agentshell.coordinator.results import CommandError, CoordinatorError
from agentshell.core.errors import AgentShellError, PermissionDeniedError

PROTOCOL_VERSION = 1


class RequestError(AgentShellError):
    """A request the server refuses: ``code`` is the wire error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


REQUIRED: Any = object()


def field(req: dict[str, Any], name: str, kind: Any, default: Any = REQUIRED) -> Any:
    """``req[name]`` checked against ``kind`` (a type or tuple), or ``default``."""
    if name not in req or req[name] is None:
        if default is REQUIRED:
            raise RequestError("bad_request", f"missing field {name!r}")
        return default
    v = req[name]
    if isinstance(v, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise RequestError("bad_request", f"field {name!r} has the wrong type (bool)")
    if not isinstance(v, kind):
        want = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise RequestError("bad_request", f"field {name!r} must be {want}, got {type(v).__name__}")
    if isinstance(v, float) and not math.isfinite(v):
        raise RequestError("bad_request", f"field {name!r} must be finite")
    return v


def plain(v: Any) -> Any:
    """Dataclasses, tuples and sets as msgpack-ready values."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, tuple | list | set | frozenset):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


def frame_to_wire(frame: Any, terminal: str) -> dict[str, Any]:
    """A terminal frame as the fields of a ``screen`` reply."""
    cursor = getattr(frame, "cursor", None)
    if cursor is not None and not isinstance(cursor, tuple | list):
        cursor = [getattr(cursor, "x", 0), getattr(cursor, "y", 0)]
    return {
        "terminal": terminal,
        "lines": [line.text for line in frame.lines],
        "cursor": list(cursor) if cursor is not None else None,
        "title": getattr(frame, "title", "") or "",
    }


def expected(exc: Exception) -> bool:
    """Whether ``exc`` is a refusal the client caused (anything else is a bug to log)."""
    return isinstance(exc, AgentShellError | ValueError | TypeError)


def wire_error(exc: Exception) -> dict[str, Any]:
    """The ``error`` map of the reply to a request whose op raised ``exc``."""
    if isinstance(exc, RequestError):
        return {"code": exc.code, "message": str(exc)}
    if isinstance(exc, CommandError):
        err: dict[str, Any] = {"code": exc.code, "message": str(exc)}
        err["approval_id"] = exc.approval_id
        reason = getattr(exc, "reason", None)
        if reason is not None:
            err["reason"] = reason
        return err
    if isinstance(exc, CoordinatorError):
        return {"code": exc.code, "message": str(exc)}
    if isinstance(exc, PermissionDeniedError):
        return {"code": "permission_denied", "message": str(exc)}
    if expected(exc):
        return {"code": "bad_request", "message": str(exc)}
    return {"code": "internal", "message": f"{type(exc).__name__}: {exc}"}


__all__ = [
    "PROTOCOL_VERSION",
    "REQUIRED",
    "RequestError",
    "expected",
    "field",
    "frame_to_wire",
    "plain",
    "wire_error",
]
