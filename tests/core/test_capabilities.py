"""CapabilityRegistry, the stemmer, permissions and task scoring."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentshell.core.capabilities import (
    PERMISSIONS,
    CapabilityRegistry,
    permissions_of,
    skills_of,
    stem,
    terms,
)
from agentshell.core.errors import InvalidNameError


def test_spec_example() -> None:
    registry = CapabilityRegistry()
    registry.register_agent("coder", name="Coder Agent", capabilities=["python", "debugging"])
    got = registry.find_agents_for_task("debug Python tests")
    assert [a for a, _ in got] == ["coder"]
    assert got[0][1] == pytest.approx(2 / 3)
    with pytest.raises(KeyError):
        registry.get_agent_capabilities("nobody")
    registry.deregister_agent("coder")
    registry.deregister_agent("coder")  # idempotent
    assert registry.list_agents() == []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("tests", "testing"),
        ("test", "tested"),
        ("debug", "debugging"),
        ("debugger", "debug"),
        ("file", "files"),
        ("fixes", "fix"),
        ("classes", "class"),
        ("documentation", "document"),
        ("optimize", "optimizing"),
        ("compression", "compress"),
        ("queries", "query"),
        ("running", "run"),
    ],
)
def test_stem_joins_word_forms(a: str, b: str) -> None:
    assert stem(a) == stem(b)


@pytest.mark.parametrize(("a", "b"), [("python", "java"), ("test", "text"), ("process", "proce")])
def test_stem_keeps_different_words_apart(a: str, b: str) -> None:
    assert stem(a) != stem(b)


def test_terms_split_on_underscore_dash_and_case() -> None:
    assert terms("Python_Testing") == terms("python-testing") == terms("PYTHON testing")
    assert terms("python_testing") == {"python", "test"}
    assert terms("the and of") == set()


def test_word_forms_match_across_underscores() -> None:
    r = CapabilityRegistry()
    r.register_agent("qa", capabilities=["python_testing"])
    r.register_agent("dbg", capabilities=["Debugging"])
    r.register_agent("web", capabilities=["javascript", "css"])
    assert [a for a, _ in r.find_agents_for_task("write tests")] == ["qa"]
    assert [a for a, _ in r.find_agents_for_task("debug the crash")] == ["dbg"]
    assert r.find_agents_for_task("compile rust") == []
    assert r.find_agents_for_task("") == []


def test_ranking_ties_and_limit() -> None:
    r = CapabilityRegistry()
    r.register_agent("zed", capabilities=["python"])
    r.register_agent("amy", capabilities=["python"])
    r.register_agent("bob", capabilities=["python", "debugging", "testing"])
    got = r.find_agents_for_task("debug python tests")
    assert got == [("bob", 1.0), ("amy", pytest.approx(1 / 3)), ("zed", pytest.approx(1 / 3))]
    assert r.find_agents_for_task("debug python tests", limit=1) == [("bob", 1.0)]
    assert r.find_agents_for_task("debug python tests", limit=0) == []


def test_permission_words_do_not_route() -> None:
    r = CapabilityRegistry()
    r.register_agent("runner", capabilities=["run", "read"])
    assert r.find_agents_for_task("run the tests") == []


def test_register_replaces_and_validates() -> None:
    r = CapabilityRegistry()
    r.register_agent("a", capabilities=["python"], metadata={"model": "x"})
    r.register_agent("a", name="A", capabilities=["go"])
    assert r.get_agent_capabilities("a") == ["go"]
    assert r.get_agent("a").name == "A" and "a" in r and len(r) == 1
    with pytest.raises(TypeError):
        r.register_agent("b", capabilities="python")
    with pytest.raises(TypeError):
        r.register_agent("b", capabilities=["python", 3])  # type: ignore[list-item]
    with pytest.raises(InvalidNameError):
        r.register_agent("", capabilities=[])
    caps = r.get_agent_capabilities("a")
    caps.append("hack")
    assert r.get_agent_capabilities("a") == ["go"]


def test_permissions_and_skills() -> None:
    assert {"run", "type", "edit", "read"} == PERMISSIONS
    assert permissions_of(["python", "debugging"]) == {"read"}
    assert permissions_of([]) == {"read"}
    assert permissions_of(["run", "python", "Edit"]) == {"run", "edit"}
    assert skills_of(["run", "python", "read", "debugging"]) == ("python", "debugging")
    r = CapabilityRegistry()
    agent = r.register_agent("x", capabilities=["type", "rust"])
    assert agent.permissions == {"type"} and agent.skills == ("rust",)


words = st.text(alphabet="abcdefgst_-", min_size=1, max_size=10)


@given(
    st.dictionaries(
        st.text("abcxyz", min_size=1, max_size=4), st.lists(words, max_size=4), max_size=6
    ),
    st.lists(words, max_size=5),
)
def test_scores_properties(agents: dict[str, list[str]], task_words: list[str]) -> None:
    r = CapabilityRegistry()
    for agent_id, caps in reversed(list(agents.items())):
        r.register_agent(agent_id, capabilities=caps)
    task = " ".join(task_words)
    got = r.find_agents_for_task(task)
    wanted = terms(task)
    for agent_id, score in got:
        assert 0 < score <= 1
        caps_terms = {t for c in skills_of(agents[agent_id]) for t in terms(c)}
        assert score == len(wanted & caps_terms) / len(wanted)
    # ordering: best first, ties by id
    assert got == sorted(got, key=lambda p: (-p[1], p[0]))
    # every agent with a shared term is listed, no other
    expected = {
        a for a, caps in agents.items() if wanted & {t for c in skills_of(caps) for t in terms(c)}
    }
    assert {a for a, _ in got} == expected


def test_get_all_agents_is_every_registered_agent_as_agent_info() -> None:
    from agentshell.core.state import AgentInfo

    r = CapabilityRegistry()
    assert r.get_all_agents() == {}
    r.register_agent("coder", name="Coder Agent", capabilities=["python"], metadata={"m": 1})
    r.register_agent("alpha", capabilities=["run", "go"], registered_at=5.0)
    got = r.get_all_agents()
    assert list(got) == ["coder", "alpha"]  # registration order
    assert all(isinstance(a, AgentInfo) for a in got.values())
    coder = got["coder"]
    assert (coder.agent_id, coder.name, coder.capabilities, coder.metadata) == (
        "coder",
        "Coder Agent",
        ("python",),
        {"m": 1},
    )
    assert coder.registered_at > 0 and got["alpha"].registered_at == 5.0
    assert got["alpha"].name == "alpha"  # the id when no name is given
    got["coder"].metadata["m"] = 2  # a copy: the registry keeps its own
    del got["alpha"]
    assert r.get_all_agents()["coder"].metadata == {"m": 1} and len(r.get_all_agents()) == 2
    # registering again replaces what it says and keeps when it was first registered
    r.register_agent("alpha", capabilities=["rust"])
    again = r.get_all_agents()["alpha"]
    assert again.capabilities == ("rust",) and again.registered_at == 5.0
    r.deregister_agent("coder")
    assert list(r.get_all_agents()) == ["alpha"]


def test_scores_are_fractions_best_first() -> None:
    r = CapabilityRegistry()
    r.register_agent("half", capabilities=["python"])
    r.register_agent("all", capabilities=["python", "testing"])
    got = r.find_agents_for_task("python tests")
    assert got == [("all", 1.0), ("half", 0.5)]
    assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for _, s in got)
