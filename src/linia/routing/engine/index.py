"""Agent attribute index: the agents eligible for a Requirement by set intersections, not a scan.

Sets are kept per tenant, channel (capacity > 0), tier, language and (skill, level) where the
(skill, level) set holds every agent with that skill at ``level`` or higher. Results are exactly
``{a for a in agents if req.admits(a)}`` (the tests check this against ``Requirement.admits``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from linia.routing.engine.model import Agent, Requirement


def _keys(agent: Agent) -> Iterator[Hashable]:
    for tenant in agent.tenant_ids:
        yield ("t", tenant)
    for channel, capacity in agent.capacity.items():
        if capacity > 0:
            yield ("c", channel)
    yield ("r", agent.tier)
    for language in agent.languages:
        yield ("l", language)
    for skill, level in agent.skills.items():
        for at_least in range(1, level + 1):
            yield ("s", skill, at_least)


class AgentIndex:
    def __init__(self) -> None:
        self._sets: dict[Hashable, set[str]] = {}
        self._profiles: dict[str, Agent] = {}

    def add(self, agent: Agent) -> None:
        self.remove(agent.id)
        self._profiles[agent.id] = agent
        for key in _keys(agent):
            self._sets.setdefault(key, set()).add(agent.id)

    def remove(self, agent_id: str) -> None:
        old = self._profiles.pop(agent_id, None)
        if old is None:
            return
        for key in _keys(old):
            members = self._sets[key]
            members.discard(agent_id)
            if not members:
                del self._sets[key]

    def eligible(self, req: Requirement) -> set[str]:
        if req.agent_id is not None:
            profile = self._profiles.get(req.agent_id)
            return {req.agent_id} if profile is not None and req.admits(profile) else set()
        empty: set[str] = set()
        parts = [self._sets.get(("t", req.tenant_id), empty), self._sets.get(("c", req.channel), empty)]
        if req.language is not None:
            parts.append(self._sets.get(("l", req.language), empty))
        parts.extend(self._sets.get(("s", name, level), empty) for name, level in req.skills)
        parts.sort(key=len)
        result = parts[0].intersection(*parts[1:])
        if req.tiers is not None and result:
            result = self._any_of(result, [("r", tier) for tier in req.tiers])
        if req.language is None and req.languages_any and result:
            result = self._any_of(result, [("l", language) for language in req.languages_any])
        return result

    def _any_of(self, agents: set[str], keys: list[Hashable]) -> set[str]:
        found: set[str] = set()
        for key in keys:
            found |= agents & self._sets.get(key, set())
        return found
