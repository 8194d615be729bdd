"""The event log's wording for decisions and conflict resolutions (Pilot)."""

from __future__ import annotations

from textual.widgets import RichLog

from agentshell.core import events as ev
from agentshell.tui.app import AgentShellApp
from tests.tui.fakes import T0, FakeBackend
from tests.tui.test_actions import SIZE, until


def log_lines(app: AgentShellApp) -> list[str]:
    return [line.text.rstrip() for line in app.query_one("#log-lines", RichLog).lines]


def line_of(app: AgentShellApp, event_type: str, n: int = 0) -> str:
    found = [t for t in log_lines(app) if f" {event_type} " in t]
    return found[n] if len(found) > n else ""


async def test_decision_lines_say_decision_who_command_and_reason(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        backend.emit(ev.ApprovalDecided(approval_id="ap-1", decision="approved", timestamp=T0))
        backend.emit(
            ev.ApprovalDecided(
                approval_id="ap-2", decision="approved", command="make", timestamp=T0
            )
        )
        backend.emit(
            ev.ApprovalDecided(
                approval_id="ap-3", decision="rejected", reason="not yet", timestamp=T0
            )
        )
        backend.propose("ap-4", "codex", "ls -la", T0 + 50)
        backend.emit(
            ev.ApprovalDecided(
                agent_id="system",
                approval_id="ap-4",
                decision="approved",
                by="system",
                rule_id="r-3",
                timestamp=T0,
            )
        )
        backend.propose("ap-5", "codex", "sleep 99", T0 + 51)
        backend.emit(
            ev.ApprovalDecided(
                agent_id="system",
                approval_id="ap-5",
                decision="expired",
                by="system",
                reason="no decision before the timeout",
                timestamp=T0,
            )
        )
        # codex amends its own proposal in the shared text, then the human approves it;
        # the second time the human also changes it on approving
        for aid, command in (("ap-6", "make test"), ("ap-7", "make check")):
            backend.propose(aid, "codex", "make", T0 + 52)
            for who, revision, op in (("system", 1, ["make"]), ("codex", 2, [4, " test"])):
                backend.emit(
                    ev.DocOp(
                        agent_id=who, doc=f"approval:{aid}", revision=revision, op=op, timestamp=T0
                    )
                )
            backend.emit(
                ev.ApprovalDecided(
                    approval_id=aid, decision="approved", command=command, timestamp=T0
                )
            )
        await until(lambda: line_of(app, "approval_decided", 6) != "")
        assert line_of(app, "approval_decided", 0).endswith(
            "approved by human: $ pytest -q tests/test_parser.py"
        )
        assert line_of(app, "approval_decided", 1).endswith("approved by human (edited): $ make")
        assert line_of(app, "approval_decided", 2).endswith(
            "rejected by human: $ git commit -am 'docs: usage' · reason: not yet"
        )
        assert line_of(app, "approval_decided", 3).endswith("approved by rule r-3: $ ls -la")
        assert line_of(app, "approval_decided", 4).endswith(
            "expired by system: $ sleep 99 · reason: no decision before the timeout"
        )
        assert line_of(app, "approval_decided", 5).endswith(
            "approved by human (edited by codex): $ make test"
        )
        assert line_of(app, "approval_decided", 6).endswith(
            "approved by human (edited by codex, human): $ make check"
        )


async def test_approve_similar_and_resolve_lines(app: AgentShellApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await pilot.press("f3", "2")  # keep the second agent's (aider's) edit
        await until(lambda: not backend.state["active_conflicts"])
        await pilot.press("f5")
        await until(lambda: line_of(app, "conflict_resolved") != "")
        assert line_of(app, "conflict_resolved").endswith(
            "src/parser.py: kept the second edit (aider's) by human"
        )
        backend.emit(
            ev.ConflictDetected(
                conflict_id="c-2",
                file_path="README.md",
                agents=["codex", "claude"],
                ranges=[[0, 1], [0, 2]],
                overlap=[0, 1],
                timestamp=T0,
            )
        )
        backend.emit(
            ev.ConflictResolved(
                conflict_id="c-2", resolution="manual", note="took both", timestamp=T0
            )
        )
        await until(lambda: line_of(app, "conflict_resolved", 1) != "")
        assert line_of(app, "conflict_resolved", 1).endswith(
            "README.md: merged by hand by human · note: took both"
        )
