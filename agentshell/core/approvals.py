"""The approval state machine: what may happen to a proposed command, and when.

States::

    queued --approve--> approved --start--> executing --finish--> executed
       |                   |  \\                  |  \\
       |                   |   fail --> failed   |   fail --> failed
       |                   interrupt             interrupt
       |                   v                     v
       |                 interrupted <-----------+
       |                   |  approve --> approved   (a new decision)
       |                   |  reject  --> rejected
       |                   |  expire  --> expired
       +--reject--> rejected
       +--expire--> expired

* ``interrupt`` is what recovery does to a command that was approved, or had
  started, when the coordinator died: it is never run again automatically; a human
  must decide anew (``approve`` or ``reject``; ``expire`` when the agent's deadline
  passed meanwhile). A queued command survives a crash as queued.
* ``fail`` from ``approved`` covers a command that could not be started (terminal
  gone); from ``executing`` one whose run broke down (not a non-zero exit code:
  that is ``finish`` with the code).
* ``executed``, ``failed``, ``rejected``, ``expired`` are final: nothing leaves them.

:func:`transition` is the whole machine; it raises :class:`ApprovalStateError` for
every move not drawn above.
"""

from __future__ import annotations

from typing import Final

from agentshell.core.errors import ApprovalStateError

QUEUED: Final = "queued"
APPROVED: Final = "approved"
EXECUTING: Final = "executing"
EXECUTED: Final = "executed"
FAILED: Final = "failed"
REJECTED: Final = "rejected"
EXPIRED: Final = "expired"
INTERRUPTED: Final = "interrupted"

STATES: Final = frozenset(
    (QUEUED, APPROVED, EXECUTING, EXECUTED, FAILED, REJECTED, EXPIRED, INTERRUPTED)
)
#: States an approval can still move out of (kept in ``pending_approvals``).
PENDING_STATES: Final = frozenset((QUEUED, APPROVED, EXECUTING, INTERRUPTED))
FINAL_STATES: Final = STATES - PENDING_STATES
#: States in which a human decision is awaited.
AWAITING_DECISION: Final = frozenset((QUEUED, INTERRUPTED))

ACTIONS: Final = frozenset(("approve", "reject", "expire", "start", "finish", "fail", "interrupt"))

TRANSITIONS: Final[dict[tuple[str, str], str]] = {
    (QUEUED, "approve"): APPROVED,
    (QUEUED, "reject"): REJECTED,
    (QUEUED, "expire"): EXPIRED,
    (APPROVED, "start"): EXECUTING,
    (APPROVED, "fail"): FAILED,
    (APPROVED, "interrupt"): INTERRUPTED,
    (EXECUTING, "finish"): EXECUTED,
    (EXECUTING, "fail"): FAILED,
    (EXECUTING, "interrupt"): INTERRUPTED,
    (INTERRUPTED, "approve"): APPROVED,
    (INTERRUPTED, "reject"): REJECTED,
    (INTERRUPTED, "expire"): EXPIRED,
}

#: ``ApprovalDecided.decision`` -> action.
DECISION_ACTIONS: Final = {
    APPROVED: "approve",
    REJECTED: "reject",
    EXPIRED: "expire",
    INTERRUPTED: "interrupt",
}
#: ``ApprovalExecuted.status`` -> action.
EXECUTION_ACTIONS: Final = {EXECUTING: "start", EXECUTED: "finish", FAILED: "fail"}


def transition(status: str, action: str) -> str:
    """The state after ``action`` in ``status``; ApprovalStateError when not allowed."""
    new = TRANSITIONS.get((status, action))
    if new is None:
        if status not in STATES:
            raise ApprovalStateError(f"unknown approval state {status!r}")
        if action not in ACTIONS:
            raise ApprovalStateError(f"unknown approval action {action!r}")
        if status in FINAL_STATES:
            raise ApprovalStateError(f"the approval is already {status}; it cannot {action}")
        raise ApprovalStateError(f"cannot {action} an approval that is {status}")
    return new


def allowed_actions(status: str) -> frozenset[str]:
    """The actions :func:`transition` accepts in ``status``."""
    return frozenset(a for (s, a) in TRANSITIONS if s == status)


def is_final(status: str) -> bool:
    if status not in STATES:
        raise ApprovalStateError(f"unknown approval state {status!r}")
    return status in FINAL_STATES


def after_crash(status: str) -> str:
    """What recovery makes of an approval found in ``status`` after a crash.

    Queued stays queued; approved or executing becomes interrupted (never re-run
    without a new decision); interrupted and final states stay as they are.
    """
    if status in (APPROVED, EXECUTING):
        return transition(status, "interrupt")
    if status not in STATES:
        raise ApprovalStateError(f"unknown approval state {status!r}")
    return status
