"""When the session's log stops recording, the operator is told, loudly and once."""

from __future__ import annotations

from agentshell.tui.app import AgentShellApp
from tests.tui.fakes import FakeBackend
from tests.tui.test_actions import SIZE, until


def errors(app: AgentShellApp) -> list[str]:
    """The error notifications the app has shown so far."""
    return [n.message for n in app._notifications if n.severity == "error"]


async def test_a_stopped_log_shows_in_the_title_and_a_lasting_error(
    app: AgentShellApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "RECORDING STOPPED" not in app.sub_title and not errors(app)
        backend.recording_failure = (
            "the event log of session 'test' stopped at 12:01:09 ([Errno 28] No space"
            " left on device): nothing after that is recorded"
        )
        await until(lambda: "RECORDING STOPPED" in app.sub_title and errors(app))
        assert errors(app) == [
            "The event log of session 'test' stopped at 12:01:09 ([Errno 28] No space"
            " left on device): nothing after that is recorded"
        ]
        note = next(n for n in app._notifications if n.severity == "error")
        assert note.timeout >= 3600  # not a toast that is gone in seconds
        app._check_recording()  # the next check (a 1 s timer) says nothing new
        await pilot.pause()  # a notification lands as a message: let any arrive
        assert len(errors(app)) == 1
