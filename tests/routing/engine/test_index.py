"""The agent attribute index returns exactly the agents a full Requirement.admits scan returns."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from linia.routing.engine import CALL, CHAT, EMAIL, Agent, Requirement
from linia.routing.engine.index import AgentIndex

SKILLS = ["a", "b", "c", "d"]
LANGS = ["ru", "pl", "en"]
TENANTS = ["t1", "t2"]

AGENTS = st.builds(
    Agent,
    id=st.sampled_from([f"x{i}" for i in range(12)]),
    tenant_ids=st.frozensets(st.sampled_from(TENANTS), max_size=2),
    skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=3),
    languages=st.frozensets(st.sampled_from(LANGS), max_size=2),
    tier=st.integers(1, 3),
    capacity=st.dictionaries(st.sampled_from([CALL, CHAT, EMAIL]), st.integers(0, 3)),
)
REQUIREMENTS = st.builds(
    Requirement,
    tenant_id=st.sampled_from(TENANTS),
    channel=st.sampled_from([CALL, CHAT, EMAIL]),
    skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=3).map(
        lambda d: tuple(sorted(d.items()))
    ),
    language=st.sampled_from([None, *LANGS]),
    languages_any=st.frozensets(st.sampled_from(LANGS), max_size=2),
    tiers=st.one_of(st.none(), st.frozensets(st.integers(1, 3), min_size=1)),
    agent_id=st.sampled_from([None, None, None, "x1", "x2"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(AGENTS, max_size=12), st.lists(st.sampled_from([f"x{i}" for i in range(12)])), REQUIREMENTS)
def test_index_matches_a_full_scan(agents: list[Agent], removed: list[str], req: Requirement) -> None:
    index = AgentIndex()
    current: dict[str, Agent] = {}
    for agent in agents:  # later versions of an id replace earlier ones, as upsert_agent does
        index.add(agent)
        current[agent.id] = agent
    for agent_id in removed:
        index.remove(agent_id)
        current.pop(agent_id, None)
    assert index.eligible(req) == {a.id for a in current.values() if req.admits(a)}
