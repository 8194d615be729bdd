"""Hypothesis strategies: random valid event sequences that exercise every reducer case
(except doc_op, whose operations must fit the document's current text)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from agentshell.core import events as ev

AGENTS = ["coder", "tester", ev.HUMAN, ev.SYSTEM]
IDS = ["a1", "a2", "a3"]
TERMS = ["main", "t2"]
FILES = ["/f.py", "/g.py"]

names = st.sampled_from(AGENTS)
ids = st.sampled_from(IDS)
terms = st.sampled_from(TERMS)
text = st.text(max_size=8)
small = st.integers(0, 50)
rng = st.tuples(small, small).map(lambda t: [min(t), max(t)])


def _payloads() -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    return {
        "agent_registered": st.fixed_dictionaries(
            {"capabilities": st.lists(text, max_size=3)},
            optional={
                "metadata": st.dictionaries(
                    text, st.integers(-(2**63), 2**63 - 1) | text, max_size=2
                ),
                "name": text,
            },
        ),
        "agent_removed": st.fixed_dictionaries({}, optional={"reason": text}),
        "agent_status_changed": st.fixed_dictionaries(
            {"status": st.sampled_from(["idle", "working"])}
        ),
        "command_executed": st.fixed_dictionaries(
            {"command": text},
            optional={
                "exit_code": st.none() | small,
                "output": text,
                "terminal": terms,
                "cwd": text,
            },
        ),
        "directory_changed": st.fixed_dictionaries(
            {"path": text}, optional={"terminal": terms | st.just("")}
        ),
        "file_edited": st.fixed_dictionaries(
            {"file_path": st.sampled_from(FILES), "old_hash": text, "new_hash": text},
            optional={"ranges": st.lists(rng, max_size=2), "new_ranges": st.lists(rng, max_size=2)},
        ),
        "conflict_detected": st.fixed_dictionaries(
            {
                "conflict_id": ids,
                "file_path": st.sampled_from(FILES),
                "agents": st.lists(names, max_size=2),
                "ranges": st.lists(rng, max_size=2),
                "overlap": rng,
            }
        ),
        "conflict_resolved": st.fixed_dictionaries(
            {"conflict_id": ids, "resolution": st.sampled_from(["keep_first", "manual"])}
        ),
        "approval_queued": st.fixed_dictionaries(
            {"approval_id": ids, "command": text}, optional={"risk": st.lists(text, max_size=2)}
        ),
        "approval_decided": st.fixed_dictionaries(
            {
                "approval_id": ids,
                "decision": st.sampled_from(["approved", "rejected", "expired", "interrupted"]),
            },
            optional={"command": st.none() | text},
        ),
        "approval_executed": st.fixed_dictionaries(
            {"approval_id": ids, "status": st.sampled_from(["executing", "executed", "failed"])}
        ),
        "rule_added": st.fixed_dictionaries(
            {"rule_id": ids, "action": st.just("allow"), "kind": st.just("prefix"), "pattern": text}
        ),
        "rule_revoked": st.fixed_dictionaries({"rule_id": ids}),
        "task_created": st.fixed_dictionaries(
            {"task_id": ids, "description": text},
            optional={
                "suggested_agents": st.lists(
                    st.tuples(names, st.floats(0, 1)).map(list), max_size=2
                )
            },
        ),
        "task_status_changed": st.fixed_dictionaries(
            {"task_id": ids, "status": st.sampled_from(["open", "done"])},
            optional={"assignee": names},
        ),
        "terminal_opened": st.fixed_dictionaries(
            {"terminal": terms}, optional={"cwd": text, "columns": small}
        ),
        "terminal_closed": st.fixed_dictionaries({"terminal": terms}),
        "terminal_resized": st.fixed_dictionaries(
            {"terminal": terms, "columns": small, "lines": small}
        ),
        "terminal_output": st.fixed_dictionaries(
            {"terminal": terms, "data": st.binary(max_size=8)}
        ),
        "terminal_input": st.fixed_dictionaries({"terminal": terms, "data": st.binary(max_size=8)}),
    }


PAYLOADS = _payloads()


@st.composite
def event_sequences(draw: st.DrawFn, max_size: int = 40) -> list[ev.Event]:
    n = draw(st.integers(0, max_size))
    out: list[ev.Event] = []
    t = 1000.0
    for _ in range(n):
        kind = draw(st.sampled_from(sorted(PAYLOADS)))
        t += draw(st.floats(0, 5))
        clock = draw(st.dictionaries(names, small, max_size=2))
        out.append(
            ev.make_event(
                kind, draw(PAYLOADS[kind]), agent_id=draw(names), timestamp=t, clock=clock
            )
        )
    return out
