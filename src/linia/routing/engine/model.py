"""Plain data of the routing engine: agents, queues, tasks, requirements and the decisions it returns.

Times are float seconds on one monotonic clock chosen by the caller (e.g. UNIX time); the engine never
reads a clock itself, which keeps it deterministic.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


class Presence(enum.StrEnum):
    """Agent states from the glossary. Only AVAILABLE and BUSY are routable (see ROUTABLE)."""

    OFFLINE = "offline"
    AVAILABLE = "available"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    BREAK = "break"
    TRAINING = "training"
    OTHER = "other"


# An agent may receive an offer on channel C exactly when: presence is in ROUTABLE, it is not flagged
# not-responding, it has no pending offer on C, load[C] < capacity[C], and no channel it is working
# on (load or pending offer) blocks C.
ROUTABLE = frozenset({Presence.AVAILABLE, Presence.BUSY})


class Strategy(enum.StrEnum):
    """How a queue picks among qualified free agents (ties always fall back to the agent id)."""

    LONGEST_IDLE = "longest_idle"  # oldest idle_since first
    LEAST_OCCUPIED = "least_occupied"  # lowest used/capacity on the task's channel, then total load
    SKILL_WEIGHTED = "skill_weighted"  # highest sum of levels over the required skills
    ROUND_ROBIN = "round_robin"  # least recently offered (never offered first)


CALL = "call"
CHAT = "chat"
MESSENGER = "messenger"
EMAIL = "email"
TICKET = "ticket"

DEFAULT_CAPACITY: Mapping[str, int] = MappingProxyType({CALL: 1, CHAT: 3, MESSENGER: 3, EMAIL: 5, TICKET: 5})
# While an agent has a call (ringing or connected) it gets no new chats or messenger conversations.
DEFAULT_BLOCKS: Mapping[str, frozenset[str]] = MappingProxyType({CALL: frozenset({CHAT, MESSENGER})})


class ClosedAction(enum.StrEnum):
    """What happens to a closed queue's waiting tasks (see Queue.open_at)."""

    HOLD = "hold"  # they wait, not offered, until the queue opens (timers keep running)
    OVERFLOW = "overflow"  # they move to ``closed_overflow_queue_id``


class EngineError(Exception):
    """A rejected operation; the router state is unchanged. ``code`` is stable for API mapping."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def effective_priority(task_priority: int | None, queue_priority: int) -> int:
    """The priority a task is served at: its own, else its queue's (higher first)."""
    return task_priority if task_priority is not None else queue_priority


def free_channels(capacity: Mapping[str, int], load: Mapping[str, int], ringing: Collection[str] = (),
                  blocks: Mapping[str, frozenset[str]] = DEFAULT_BLOCKS) -> frozenset[str]:
    """Channels on which an agent may get an offer, by the router's rules: below capacity, no ringing offer on
    the channel, and not blocked by what it holds or is offered (a call blocks new chats). ``load`` counts
    accepted tasks and ringing offers. The dispatcher uses it to leave agents with no room out of a step."""
    blocked: set[str] = set()
    for channel, n in load.items():
        if n > 0:
            blocked.update(blocks.get(channel, ()))
    for channel in ringing:
        blocked.update(blocks.get(channel, ()))
    return frozenset(c for c, cap in capacity.items()
                     if c not in ringing and c not in blocked and load.get(c, 0) < cap)


def _check_levels(levels: Mapping[str, int], what: str) -> None:
    for name, level in levels.items():
        if not 1 <= level <= 10:
            raise EngineError("invalid_level", f"{what} level of {name!r} must be 1..10, got {level}")


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent's profile and, when read back from the router, its live routing state."""

    id: str
    tenant_ids: frozenset[str]
    skills: Mapping[str, int] = field(default_factory=dict)
    languages: frozenset[str] = frozenset()
    tier: int = 1
    presence: Presence = Presence.OFFLINE
    capacity: Mapping[str, int] = field(default_factory=lambda: DEFAULT_CAPACITY)
    blocks: Mapping[str, frozenset[str]] = field(default_factory=lambda: DEFAULT_BLOCKS)
    load: Mapping[str, int] = field(default_factory=dict)
    idle_since: float = 0.0
    last_offer_at: float | None = None
    not_responding: bool = False

    def __post_init__(self) -> None:
        _check_levels(self.skills, "skill")
        if self.tier < 1:
            raise EngineError("invalid_tier", "tier must be >= 1")
        if any(c < 0 for c in self.capacity.values()) or any(n < 0 for n in self.load.values()):
            raise EngineError("invalid_capacity", "capacity and load must be >= 0")


@dataclass(frozen=True, slots=True)
class OverflowStep:
    """After ``after_s`` seconds in the queue, widen the pool or move the task to another queue.

    Steps are cumulative: step k applies on top of steps 0..k-1. Levels lowered to 0 drop the skill.
    """

    after_s: float
    lower_levels_by: int = 0
    drop_skills: frozenset[str] = frozenset()
    add_tiers: frozenset[int] = frozenset()
    any_language: bool = False  # drop the queue's working-language rule (the task's own language stays)
    raise_priority: int = 0
    move_to_queue: str | None = None


@dataclass(frozen=True, slots=True)
class Queue:
    id: str
    tenant_id: str
    channels: frozenset[str]
    skills: Mapping[str, int] = field(default_factory=dict)
    languages: frozenset[str] = frozenset()  # working languages: an agent must speak one of them
    priority: int = 0  # default task priority; higher is served first
    tier: int = 1  # 1 = first line, 2 = second line
    agent_tiers: frozenset[int] | None = None  # agent tiers that serve it; None means {tier}
    target_answer_s: float = 20.0  # T of the service level (reported, not used for routing)
    strategy: Strategy = Strategy.LONGEST_IDLE
    overflow: tuple[OverflowStep, ...] = ()
    max_wait_s: float | None = None
    accept_timeout_s: float = 15.0
    exclude_decliners: bool = True  # an agent who declined a task is not offered it again
    escalation_queue_id: str | None = None
    # Per-channel cap on the agent's load for this queue's tasks: an agent takes one while its load on
    # the channel (all queues) is below min(its own capacity, the cap). {"chat": 2}; missing: no cap.
    capacity: Mapping[str, int] = field(default_factory=dict)
    # Opening hours as a pure function of the step's ``now`` (None: always open). It must depend on
    # ``now`` only, so that the same inputs give the same decisions.
    open_at: Callable[[float], bool] | None = None
    closed_action: ClosedAction = ClosedAction.HOLD
    closed_overflow_queue_id: str | None = None

    def __post_init__(self) -> None:
        _check_levels(self.skills, "queue skill")
        for channel, cap in self.capacity.items():
            if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
                raise EngineError("invalid_capacity", f"queue capacity for {channel!r} must be an integer >= 1")
        if self.closed_action is ClosedAction.OVERFLOW and self.closed_overflow_queue_id in (None, self.id):
            raise EngineError("invalid_closed_action", "closed_action overflow needs another queue to move to")
        if self.accept_timeout_s <= 0:
            raise EngineError("invalid_timeout", "accept_timeout_s must be > 0")
        previous = -1.0
        for index, step in enumerate(self.overflow):
            if step.after_s < previous:
                raise EngineError("invalid_overflow", "overflow steps must be sorted by after_s")
            previous = step.after_s
            if step.move_to_queue is not None:
                if index != len(self.overflow) - 1:
                    raise EngineError("invalid_overflow", "a move_to_queue step must be the last one")
                if step.after_s <= 0:
                    raise EngineError("invalid_overflow", "a move_to_queue step needs after_s > 0")

    @property
    def serving_tiers(self) -> frozenset[int]:
        return self.agent_tiers if self.agent_tiers is not None else frozenset({self.tier})


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    tenant_id: str
    queue_id: str
    channel: str
    queued_at: float
    language: str | None = None
    skills: Mapping[str, int] = field(default_factory=dict)  # extra to the queue's
    priority: int | None = None  # None: the queue's priority
    attributes: Mapping[str, object] = field(default_factory=dict)
    # When it entered its current queue: overflow and max wait count from here (None: queued_at).
    # A router rebuilt from storage passes it, so a moved task keeps the new queue's clock.
    stage_started_at: float | None = None

    def __post_init__(self) -> None:
        _check_levels(self.skills, "task skill")


@dataclass(frozen=True, slots=True)
class Requirement:
    """What an agent must have to take a task; tasks with equal requirements share one index class."""

    tenant_id: str
    channel: str
    skills: tuple[tuple[str, int], ...] = ()  # sorted (name, minimum level)
    language: str | None = None
    languages_any: frozenset[str] = frozenset()
    tiers: frozenset[int] | None = None  # None: any tier
    agent_id: str | None = None  # a direct transfer to one agent
    cap: int | None = None  # the queue's capacity cap on the channel (dynamic: load < cap), None: none

    def admits(self, agent: Agent) -> bool:
        if self.agent_id is not None and agent.id != self.agent_id:
            return False
        if self.tenant_id not in agent.tenant_ids or agent.capacity.get(self.channel, 0) <= 0:
            return False
        if self.tiers is not None and agent.tier not in self.tiers:
            return False
        if self.language is not None:
            if self.language not in agent.languages:
                return False
        elif self.languages_any and not self.languages_any & agent.languages:
            return False
        skills = agent.skills
        return all(skills.get(name, 0) >= level for name, level in self.skills)


def requirement_for(queue: Queue, task: Task, level: int, target_agent: str | None = None) -> Requirement:
    """The requirement of ``task`` in ``queue`` after ``level`` overflow steps (or for a direct target)."""
    if target_agent is not None:
        # The transferring agent chose the colleague: tenant and channel still apply, skills do not.
        # Neither do the queue's capacity caps (the agent's own capacity does).
        return Requirement(task.tenant_id, task.channel, agent_id=target_agent)
    skills = dict(queue.skills)
    for name, minimum in task.skills.items():
        skills[name] = max(skills.get(name, 0), minimum)
    tiers = set(queue.serving_tiers)
    languages_any = queue.languages
    for step in queue.overflow[:level]:
        skills = {n: v - step.lower_levels_by for n, v in skills.items() if n not in step.drop_skills}
        tiers |= step.add_tiers
        if step.any_language:
            languages_any = frozenset()
    return Requirement(
        tenant_id=task.tenant_id,
        channel=task.channel,
        skills=tuple(sorted((n, v) for n, v in skills.items() if v > 0)),
        language=task.language,
        languages_any=languages_any,
        tiers=frozenset(tiers),
        cap=queue.capacity.get(task.channel),
    )


class TaskStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ASSIGNED = "assigned"


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """A task's live state as read from the router."""

    task: Task  # current queue, priority and attributes
    status: TaskStatus
    priority: int  # effective, after overflow boosts
    overflow_level: int
    agent_id: str | None
    reservation_id: int | None
    expires_at: float | None
    excluded_agents: frozenset[str]
    target_agent: str | None
    stage_start: float  # when it entered its current queue
    held: bool = False  # waiting in a closed queue: not offered until it opens


@dataclass(frozen=True, slots=True)
class QueueStats:
    queue_id: str
    waiting: int
    offered: int
    assigned: int
    longest_wait_s: float


# ---- decisions -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Offer:
    """Reserve ``task_id`` for ``agent_id`` until ``expires_at`` (ring / notify the agent)."""

    task_id: str
    agent_id: str
    queue_id: str
    channel: str
    reservation_id: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class OfferExpired:
    """Ring-no-answer: the task is back in its queue and the agent is now not-responding."""

    task_id: str
    agent_id: str
    reservation_id: int


@dataclass(frozen=True, slots=True)
class OfferRescinded:
    """An offer withdrawn by the engine (agent left, task removed or moved): stop ringing."""

    task_id: str
    agent_id: str
    reservation_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class Overflowed:
    """Overflow step ``step`` applied: the pool widened (same queue) or the task moved queue.

    ``step`` is -1 and ``reason`` "closed" for a move out of a closed queue (closed_action overflow).
    """

    task_id: str
    from_queue: str
    to_queue: str
    step: int
    reason: str = "wait"


@dataclass(frozen=True, slots=True)
class TransferFallback:
    """A task transferred to one agent was not taken in time and is open to the whole queue again."""

    task_id: str
    agent_id: str
    queue_id: str


@dataclass(frozen=True, slots=True)
class MaxWaitExceeded:
    """The task waited longer than the queue's maximum and left the engine (voicemail/callback)."""

    task_id: str
    queue_id: str
    waited_s: float


Decision = Offer | OfferExpired | OfferRescinded | Overflowed | TransferFallback | MaxWaitExceeded
