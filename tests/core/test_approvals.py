"""The approval state machine, exhaustively: every (state, action) pair."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentshell.core import approvals as ap
from agentshell.core.errors import ApprovalStateError

# The legal moves, written out independently of the module's table.
LEGAL = {
    ("queued", "approve"): "approved",
    ("queued", "reject"): "rejected",
    ("queued", "expire"): "expired",
    ("approved", "start"): "executing",
    ("approved", "fail"): "failed",
    ("approved", "interrupt"): "interrupted",
    ("executing", "finish"): "executed",
    ("executing", "fail"): "failed",
    ("executing", "interrupt"): "interrupted",
    ("interrupted", "approve"): "approved",
    ("interrupted", "reject"): "rejected",
    ("interrupted", "expire"): "expired",
}
STATES = [
    "queued",
    "approved",
    "executing",
    "executed",
    "failed",
    "rejected",
    "expired",
    "interrupted",
]
ACTIONS = ["approve", "reject", "expire", "start", "finish", "fail", "interrupt"]


def test_state_and_action_sets() -> None:
    assert set(STATES) == ap.STATES
    assert set(ACTIONS) == ap.ACTIONS
    assert {"executed", "failed", "rejected", "expired"} == ap.FINAL_STATES


@pytest.mark.parametrize(("state", "action"), list(itertools.product(STATES, ACTIONS)))
def test_every_pair(state: str, action: str) -> None:
    if (state, action) in LEGAL:
        assert ap.transition(state, action) == LEGAL[(state, action)]
        assert action in ap.allowed_actions(state)
    else:
        with pytest.raises(ApprovalStateError):
            ap.transition(state, action)
        assert action not in ap.allowed_actions(state)


def test_unknown_state_or_action() -> None:
    with pytest.raises(ApprovalStateError, match="unknown approval state"):
        ap.transition("pending", "approve")
    with pytest.raises(ApprovalStateError, match="unknown approval action"):
        ap.transition("queued", "run")
    with pytest.raises(ApprovalStateError):
        ap.is_final("nope")
    with pytest.raises(ApprovalStateError):
        ap.after_crash("nope")


def test_final_states_have_no_way_out() -> None:
    for s in STATES:
        assert ap.is_final(s) == (not ap.allowed_actions(s))


def test_after_crash() -> None:
    assert ap.after_crash("queued") == "queued"
    assert ap.after_crash("approved") == "interrupted"
    assert ap.after_crash("executing") == "interrupted"
    assert ap.after_crash("interrupted") == "interrupted"
    for s in ("executed", "failed", "rejected", "expired"):
        assert ap.after_crash(s) == s


def test_event_mappings_are_legal_actions() -> None:
    assert ap.DECISION_ACTIONS["approved"] == "approve"
    assert ap.EXECUTION_ACTIONS == {"executing": "start", "executed": "finish", "failed": "fail"}
    assert set(ap.DECISION_ACTIONS.values()) | set(ap.EXECUTION_ACTIONS.values()) <= ap.ACTIONS


@given(st.lists(st.sampled_from(ACTIONS), max_size=12))
def test_random_walks(actions: list[str]) -> None:
    """Along any sequence of accepted moves: nothing runs twice without a decision
    in between, and nothing leaves a final state."""
    state = "queued"
    decided_since_run = False
    for a in actions:
        try:
            new = ap.transition(state, a)
        except ApprovalStateError:
            assert (state, a) not in LEGAL
            continue
        assert state not in ap.FINAL_STATES
        if a == "approve":
            decided_since_run = True
        if a == "start":
            assert decided_since_run, "started without a fresh approval"
            decided_since_run = False
        if a == "interrupt":
            decided_since_run = False
        state = new
    assert state in ap.STATES
