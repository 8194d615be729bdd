"""`open_terminal` refuses names that are not plain, with an error frame, and opens nothing."""

from __future__ import annotations

import pytest

from agentshell.coordinator.results import InvalidRequestError

from .conftest import Served

BAD = ["", "a\nb", "\x1b[31mred\x1b[0m", "x" * 5000, "bad/name", ".hidden", "two words"]


@pytest.mark.parametrize("name", BAD, ids=[f"{n[:12]!r}" for n in BAD])
async def test_open_terminal_refuses_a_name_that_is_not_plain(served: Served, name: str) -> None:
    op = await served.operator()
    try:
        with pytest.raises(InvalidRequestError) as info:  # the client's bad_request
            await op.request("open_terminal", terminal=name)
        assert "not a plain name" in str(info.value) and len(str(info.value)) < 300
        assert (await op.request("ping"))["pong"] is True  # still served
    finally:
        await op.close()
    assert set(served.coordinator.state["terminals"]) == {"main"}
    assert not [e for e in served.session.iter_events() if e.event_type == "terminal_opened"][1:]


async def test_open_terminal_takes_a_plain_name_with_a_dot(served: Served) -> None:
    op = await served.operator()
    try:
        rep = await op.request("open_terminal", terminal="web.server")
        assert rep["terminal"]["name"] == "web.server"
    finally:
        await op.close()
    assert served.coordinator.state["terminals"]["web.server"].open
