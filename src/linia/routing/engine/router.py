"""The router: holds agents, queues and tasks, applies operations, and returns decisions from ``step``.

Index: waiting tasks are grouped by Requirement ("class"); each class keeps a heap ordered by
(-priority, queued_at, seq) and a cached set of statically eligible agents. Free agents are kept per
channel. After every ``step`` no waiting task has a free eligible agent (invariant I), so a step only
looks at classes that received tasks and at classes of agents that became free since the last one.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from linia.routing.engine.index import AgentIndex
from linia.routing.engine.model import (
    ROUTABLE,
    Agent,
    ClosedAction,
    Decision,
    EngineError,
    MaxWaitExceeded,
    Offer,
    OfferExpired,
    OfferRescinded,
    Overflowed,
    Presence,
    Queue,
    QueueStats,
    Requirement,
    Strategy,
    Task,
    TaskInfo,
    TaskStatus,
    TransferFallback,
    effective_priority,
    requirement_for,
)

TaskKey = tuple[int, float, int]  # (-priority, queued_at, seq): smaller is served first
# A class heap entry: (*TaskKey, task id, token). seq is unique, so entries order exactly like keys.
Entry = tuple[int, float, int, str, int]
_OFFER_TIMER = 0
_WAIT_TIMER = 1


class AgentState:
    """Mutable live state of one agent (profile fields come from ``profile``)."""

    __slots__ = (
        "classes",
        "free",
        "idle_since",
        "last_offer_at",
        "load",
        "not_responding",
        "pending",
        "presence",
        "profile",
    )

    def __init__(self, profile: Agent) -> None:
        self.profile = profile
        self.presence = profile.presence
        self.load: dict[str, int] = {c: n for c, n in profile.load.items() if n}
        self.pending: dict[str, str] = {}  # channel -> task id of the one pending offer on it
        self.idle_since = profile.idle_since
        self.last_offer_at = profile.last_offer_at
        self.not_responding = profile.not_responding
        self.free: frozenset[str] = frozenset()
        # channel -> ids of the classes with waiting tasks that this agent is eligible for
        self.classes: dict[str, set[int]] = {}

    def used(self, channel: str) -> int:
        return self.load.get(channel, 0) + (1 if channel in self.pending else 0)

    def compute_free(self) -> frozenset[str]:
        """Channels on which this agent may receive an offer now (see model.ROUTABLE)."""
        if self.presence not in ROUTABLE or self.not_responding:
            return frozenset()
        capacity = self.profile.capacity
        if not self.load and not self.pending:
            return frozenset(c for c, cap in capacity.items() if cap > 0)
        blocks = self.profile.blocks
        blocked: frozenset[str] = frozenset()
        for channel in self.load:
            blocked = blocked.union(blocks.get(channel, ()))
        for channel in self.pending:
            blocked = blocked.union(blocks.get(channel, ()))
        load, pending = self.load, self.pending
        return frozenset(
            c for c, cap in capacity.items() if c not in pending and c not in blocked and load.get(c, 0) < cap
        )

    def snapshot(self) -> Agent:
        return dataclasses.replace(
            self.profile,
            presence=self.presence,
            load=dict(self.load),
            idle_since=self.idle_since,
            last_offer_at=self.last_offer_at,
            not_responding=self.not_responding,
        )


class TaskState:
    __slots__ = (
        "agent_id",
        "cid",
        "entry",
        "excluded",
        "expires_at",
        "held_in",
        "level",
        "priority",
        "req",
        "reservation_id",
        "seq",
        "stage_start",
        "status",
        "target_agent",
        "target_until",
        "task",
        "token",
        "wait_token",
    )

    def __init__(self, task: Task, priority: int, seq: int, stage_start: float) -> None:
        self.task = task
        self.status = TaskStatus.WAITING
        self.priority = priority
        self.seq = seq
        self.stage_start = stage_start
        self.level = 0
        self.req: Requirement | None = None
        self.cid = -1  # id of the class it waits in, -1 when not waiting
        self.entry: Entry | None = None  # its current heap entry while waiting
        self.token = 0  # bumped whenever the task leaves its class heap
        self.wait_token = 0  # bumped whenever its wait timer is rescheduled
        self.excluded: set[str] = set()
        self.agent_id: str | None = None
        self.reservation_id: int | None = None
        self.expires_at: float | None = None
        self.target_agent: str | None = None
        self.target_until: float | None = None
        self.held_in: str | None = None  # the closed queue it is held in (waiting, not in a class)

    @property
    def key(self) -> TaskKey:
        return (-self.priority, self.task.queued_at, self.seq)


@dataclass(slots=True)
class TaskClass:
    """Waiting tasks sharing one Requirement, and the agents statically eligible for them."""

    id: int
    req: Requirement
    eligible: set[str]
    heap: list[Entry] = dataclasses.field(default_factory=list)
    live: int = 0  # valid heap entries; a class with live > 0 is "active"
    head: Entry | None = None  # the smallest valid entry (cached)
    indexed: bool = False  # in every eligible agent's reverse index (no lazy removal since)


class Router:
    """Deterministic ACD engine. Operations mutate state; ``step(now)`` returns the decisions."""

    def __init__(self, queues: Iterable[Queue] = (), agents: Iterable[Agent] = ()) -> None:
        self._queues: dict[str, Queue] = {}
        self._agents: dict[str, AgentState] = {}
        self._tasks: dict[str, TaskState] = {}
        self._class_ids: dict[Requirement, int] = {}
        # (queue, overflow level, target, tenant, channel, language, task skills) -> class id
        self._shapes: dict[tuple[object, ...], int] = {}
        self._classes: list[TaskClass] = []
        self._index_of_agents = AgentIndex()
        self._free: dict[str, set[str]] = {}
        # Precomputed strategy keys, so that min() over many candidates stays in C.
        self._idle_key: dict[str, tuple[float, str]] = {}
        self._offer_key: dict[str, tuple[float, str]] = {}
        self._timers: list[tuple[float, int, int, str, int]] = []
        self._dirty_classes: set[int] = set()
        self._dirty_agents: dict[str, set[str]] = {}  # agent -> channels that became free
        # agent -> channels whose load dropped while staying free (only looked at by capped classes)
        self._dirty_room: dict[str, set[str]] = {}
        self._capped = 0  # queues with capacity caps: the room bookkeeping runs only when > 0
        self._scheduled: dict[str, Callable[[float], bool]] = {}  # queue -> open_at
        self._closed: set[str] = set()
        self._held: dict[str, set[str]] = {}  # closed queue -> its waiting tasks (held, not indexed)
        self._outbox: list[Decision] = []
        self._seq = 0
        self._timer_seq = 0
        self._reservation_seq = 0
        queue_list = list(queues)
        for queue in queue_list:
            self._queues[queue.id] = queue
            self._configure(queue)
        for queue in queue_list:
            self._check_queue_refs(queue)
        for agent in agents:
            self.upsert_agent(agent)

    # ---- configuration --------------------------------------------------------------------------

    def upsert_queue(self, queue: Queue) -> None:
        """Add or replace a queue; waiting tasks of a replaced queue are re-indexed under the new rules."""
        self._check_queue_refs(queue)
        old = self._queues.get(queue.id)
        if old is not None and old.capacity:
            self._capped -= 1
        self._queues[queue.id] = queue
        self._configure(queue)
        self._shapes.clear()
        for ts in self._tasks.values():
            if ts.task.queue_id == queue.id and ts.status is TaskStatus.WAITING:
                ts.level = min(ts.level, len(queue.overflow))
                self._unindex(ts)
                self._index(ts)
                self._schedule_wait(ts)

    def _configure(self, queue: Queue) -> None:
        if queue.capacity:
            self._capped += 1
        if queue.open_at is not None:
            self._scheduled[queue.id] = queue.open_at
        else:
            self._scheduled.pop(queue.id, None)

    def _check_queue_refs(self, queue: Queue) -> None:
        refs = (queue.escalation_queue_id, queue.closed_overflow_queue_id, *(s.move_to_queue for s in queue.overflow))
        for ref in refs:
            if ref is not None and ref not in self._queues and ref != queue.id:
                raise EngineError("unknown_queue", f"queue {queue.id!r} refers to unknown queue {ref!r}")
            if ref is not None and self._queues.get(ref, queue).tenant_id != queue.tenant_id:
                raise EngineError("cross_tenant", f"queue {queue.id!r} refers to another tenant's queue")

    def upsert_agent(self, agent: Agent) -> None:
        """Add an agent (its presence/load/times taken from the snapshot) or replace its profile.

        For an existing agent only the profile (tenants, skills, languages, tier, capacity, blocks)
        changes; presence goes through ``set_presence`` and load through accept/complete.
        """
        state = self._agents.get(agent.id)
        if state is None:
            state = AgentState(agent)
            self._agents[agent.id] = state
        else:
            state.profile = agent
        self._idle_key[agent.id] = (state.idle_since, agent.id)
        last = state.last_offer_at
        self._offer_key[agent.id] = (-math.inf if last is None else last, agent.id)
        self._index_of_agents.add(agent)
        state.classes = {}
        for cls in self._classes:
            if cls.req.admits(agent):
                cls.eligible.add(agent.id)
                if cls.live:
                    state.classes.setdefault(cls.req.channel, set()).add(cls.id)
                else:
                    cls.indexed = False  # this agent must be added when it reactivates
            else:
                cls.eligible.discard(agent.id)
        self._refresh(state, force_dirty=True)

    def remove_agent(self, agent_id: str, now: float) -> list[str]:
        """Remove an agent: pending offers are rescinded and assigned tasks go back to their queues
        at their original position. Returns the ids of the re-queued assigned tasks."""
        state = self._agent(agent_id)
        self._rescind_agent_offers(state, "agent_removed")
        requeued = [ts.task.id for ts in self._tasks.values() if ts.agent_id == agent_id]
        for task_id in requeued:
            ts = self._tasks[task_id]
            ts.agent_id = None
            self._requeue(ts)
        self._index_of_agents.remove(agent_id)
        for cls in self._classes:
            cls.eligible.discard(agent_id)
        for channel in state.free:
            self._free[channel].discard(agent_id)
        del self._agents[agent_id]
        del self._idle_key[agent_id]
        del self._offer_key[agent_id]
        self._dirty_agents.pop(agent_id, None)
        self._dirty_room.pop(agent_id, None)
        return requeued

    def set_presence(self, agent_id: str, presence: Presence, now: float) -> None:
        """Change presence; any change (even to the same state) clears not-responding. Leaving the
        routable states withdraws the agent's pending offers."""
        state = self._agent(agent_id)
        if presence in ROUTABLE and state.presence not in ROUTABLE:
            state.idle_since = now
            self._idle_key[agent_id] = (now, agent_id)
        state.presence = presence
        state.not_responding = False
        if presence not in ROUTABLE:
            self._rescind_agent_offers(state, "agent_unavailable")
        self._refresh(state)

    # ---- tasks -----------------------------------------------------------------------------------

    def add_task(self, task: Task) -> None:
        """Queue a new task (its FIFO position is its ``queued_at``, then arrival order)."""
        if task.id in self._tasks:
            raise EngineError("duplicate_task", f"task {task.id!r} already exists")
        queue = self._queue_for(task)
        if task.channel not in queue.channels:
            raise EngineError("wrong_channel", f"queue {queue.id!r} does not serve {task.channel!r}")
        priority = effective_priority(task.priority, queue.priority)
        stage_start = task.stage_started_at if task.stage_started_at is not None else task.queued_at
        ts = TaskState(task, priority, self._next_seq(), stage_start)
        self._tasks[task.id] = ts
        self._index(ts)
        self._schedule_wait(ts)

    def remove_task(self, task_id: str, now: float, reason: str = "abandoned") -> None:
        """Drop a task wherever it is (caller hung up, ticket closed); an agent's load is released."""
        ts = self._task(task_id)
        if ts.status is TaskStatus.WAITING:
            self._unindex(ts)
        elif ts.status is TaskStatus.OFFERED:
            self._withdraw_offer(ts, reason)
        else:
            self._release(ts, now)
        del self._tasks[task_id]

    def accept(self, task_id: str, agent_id: str, now: float) -> None:
        ts = self._offered_to(task_id, agent_id)
        assert ts.expires_at is not None
        if now >= ts.expires_at:
            raise EngineError("offer_expired", f"the offer of task {task_id!r} expired")
        state = self._agents[agent_id]
        channel = ts.task.channel
        del state.pending[channel]
        state.load[channel] = state.load.get(channel, 0) + 1
        if state.presence is Presence.AVAILABLE:
            state.presence = Presence.BUSY
        state.idle_since = now
        self._idle_key[agent_id] = (now, agent_id)
        ts.status = TaskStatus.ASSIGNED
        ts.reservation_id = None
        ts.expires_at = None
        ts.target_agent = None
        ts.target_until = None
        self._refresh(state)

    def decline(self, task_id: str, agent_id: str, now: float) -> None:
        """The agent refused: the task goes back to its original position; with the queue's
        ``exclude_decliners`` it is not offered to this agent again."""
        ts = self._offered_to(task_id, agent_id)
        if self._queues[ts.task.queue_id].exclude_decliners:
            ts.excluded.add(agent_id)
        self._free_pending(ts)
        self._requeue(ts)

    def timeout(self, task_id: str, now: float) -> None:
        """Ring-no-answer reported by the caller (``step`` also does this when ``expires_at`` passes)."""
        ts = self._task(task_id)
        if ts.status is not TaskStatus.OFFERED:
            raise EngineError("not_offered", f"task {task_id!r} has no pending offer")
        self._expire(ts)

    def complete(self, task_id: str, now: float, *, wrap_up: bool = False) -> None:
        """The agent finished the task. With ``wrap_up`` the agent enters WRAP_UP (no offers) until
        the caller sets another presence when its after-call-work timer ends."""
        ts = self._task(task_id)
        if ts.status is not TaskStatus.ASSIGNED:
            raise EngineError("not_assigned", f"task {task_id!r} is not assigned")
        state = self._release(ts, now)
        del self._tasks[task_id]
        if wrap_up:
            self._rescind_agent_offers(state, "agent_unavailable")
            state.presence = Presence.WRAP_UP
            self._refresh(state)

    def transfer(
        self,
        task_id: str,
        now: float,
        *,
        to_queue: str | None = None,
        to_agent: str | None = None,
        keep_position: bool = True,
        priority: int | None = None,
        fallback_after_s: float | None = None,
        attributes: Mapping[str, object] | None = None,
    ) -> None:
        """Move a task to another queue and/or to one agent. The agent holding it is released and
        will not be offered it back. ``keep_position`` keeps queued_at and arrival order; a direct
        transfer falls back to the whole queue after ``fallback_after_s`` if given."""
        ts = self._task(task_id)
        queue = self._queues.get(to_queue or ts.task.queue_id)
        if queue is None:
            raise EngineError("unknown_queue", f"unknown queue {to_queue!r}")
        if queue.tenant_id != ts.task.tenant_id:
            raise EngineError("cross_tenant", "cannot transfer a task to another tenant's queue")
        if ts.task.channel not in queue.channels:
            raise EngineError("wrong_channel", f"queue {queue.id!r} does not serve {ts.task.channel!r}")
        holder = ts.agent_id
        if to_agent is not None:
            target = self._agent(to_agent).profile
            if to_agent == holder:
                raise EngineError("same_agent", "the task is already with this agent")
            if not Requirement(ts.task.tenant_id, ts.task.channel, agent_id=to_agent).admits(target):
                raise EngineError("agent_not_eligible", f"agent {to_agent!r} cannot take this task")
        self._detach(ts, now, "transferred")
        if holder is not None:
            ts.excluded = {holder}
        else:
            ts.excluded = set()
        task = ts.task
        ts.task = dataclasses.replace(
            task,
            queue_id=queue.id,
            attributes={**task.attributes, **(attributes or {})},
            queued_at=task.queued_at if keep_position else now,
        )
        if not keep_position:
            ts.seq = self._next_seq()
        if priority is not None:
            ts.priority = priority
        elif queue.id != task.queue_id:
            ts.priority = effective_priority(task.priority, queue.priority)
        ts.level = 0
        ts.stage_start = now
        ts.target_agent = to_agent
        ts.target_until = now + fallback_after_s if to_agent is not None and fallback_after_s else None
        self._requeue(ts)

    def escalate(
        self,
        task_id: str,
        now: float,
        *,
        to_queue: str | None = None,
        context: Mapping[str, object] | None = None,
    ) -> str:
        """Send a task to a higher line (default: the queue's escalation queue) with its attributes
        plus ``context`` and ``escalated_from``; keeps its position. Returns the target queue id."""
        ts = self._task(task_id)
        current = self._queues[ts.task.queue_id]
        target_id = to_queue or current.escalation_queue_id
        target = self._queues.get(target_id) if target_id else None
        if target is None:
            raise EngineError("no_escalation_queue", f"queue {current.id!r} has no escalation queue")
        if target.tier <= current.tier:
            raise EngineError("not_higher_line", f"queue {target.id!r} is not a higher line")
        extra = {**(context or {}), "escalated_from": current.id}
        if ts.agent_id is not None:
            extra["escalated_by"] = ts.agent_id
        self.transfer(task_id, now, to_queue=target.id, attributes=extra)
        return target.id

    def restore_offer(self, task_id: str, agent_id: str, expires_at: float) -> int:
        """Re-create a pending offer found in persistent storage after a restart (capacity checked).
        Expired ones are handled by the next ``step``. Returns the new reservation id."""
        ts = self._task(task_id)
        state = self._agent(agent_id)
        if ts.status is not TaskStatus.WAITING:
            raise EngineError("not_waiting", f"task {task_id!r} is not waiting")
        if ts.task.channel not in state.compute_free():
            raise EngineError("agent_not_free", f"agent {agent_id!r} has no free capacity")
        offered_at = expires_at - self._queues[ts.task.queue_id].accept_timeout_s
        return self._make_offer(ts, agent_id, offered_at, announce=False)

    def restore_assignment(self, task: Task, agent_id: str) -> None:
        """Re-create an accepted task after a restart: it counts on the agent's load."""
        self.add_task(task)
        ts = self._tasks[task.id]
        state = self._agent(agent_id)
        self._unindex(ts)
        ts.status = TaskStatus.ASSIGNED
        ts.agent_id = agent_id
        state.load[task.channel] = state.load.get(task.channel, 0) + 1
        self._refresh(state)

    # ---- the decision function -------------------------------------------------------------------

    def step(self, now: float) -> list[Decision]:
        """Fire due timers (ring-no-answer, overflow, max wait, direct-transfer fallback), then offer
        waiting tasks to free agents. Returns every decision since the previous step, in order.

        Opening hours are evaluated first (each scheduled queue's ``open_at(now)``): a closed queue's
        waiting tasks are held (not offered); with ``closed_action`` overflow they move on."""
        if self._scheduled or self._closed:
            self._update_open(now)
        self._run_timers(now)
        if self._held:
            self._closed_moves(now)
        self._match(now)
        decisions, self._outbox = self._outbox, []
        return decisions

    tick = step

    # ---- opening hours -----------------------------------------------------------------------------

    def _update_open(self, now: float) -> None:
        closed = {q for q, open_at in self._scheduled.items() if not open_at(now)}
        opened, shut = self._closed - closed, closed - self._closed
        if not opened and not shut:
            return
        self._closed = closed
        for queue_id in sorted(opened):
            for ts in sorted((self._tasks[t] for t in self._held.pop(queue_id, ())), key=lambda t: t.key):
                ts.held_in = None
                self._index(ts)
        if shut:
            for ts in sorted(self._tasks.values(), key=lambda t: t.key):
                if ts.task.queue_id in shut and ts.status is TaskStatus.WAITING and ts.held_in is None:
                    self._unindex(ts)
                    self._index(ts)

    def _closed_moves(self, now: float) -> None:
        """Move held tasks of closed queues with closed_action overflow (each task at most once to
        each queue per step, so two closed queues overflowing into each other cannot loop)."""
        visited: dict[str, set[str]] = {}
        while True:
            moves = [
                (ts, queue)
                for queue_id in sorted(self._held)
                if (queue := self._queues[queue_id]).closed_action is ClosedAction.OVERFLOW
                for ts in (self._tasks[t] for t in self._held[queue_id])
                if queue.closed_overflow_queue_id not in visited.setdefault(ts.task.id, {queue_id})
            ]
            if not moves:
                return
            for ts, queue in sorted(moves, key=lambda m: m[0].key):
                target = self._queues[queue.closed_overflow_queue_id or ""]
                if ts.task.channel not in target.channels:
                    visited[ts.task.id].add(target.id)  # cannot serve it: it stays held here
                    continue
                visited[ts.task.id].add(target.id)
                self._unindex(ts)
                self._outbox.append(Overflowed(ts.task.id, queue.id, target.id, -1, "closed"))
                task = ts.task
                ts.task = dataclasses.replace(task, queue_id=target.id)
                ts.priority = effective_priority(task.priority, target.priority)
                ts.level = 0
                ts.stage_start = now
                self._index(ts)
                self._schedule_wait(ts)

    def _room(self, cls: TaskClass, agents: set[str]) -> set[str]:
        """The agents whose load on the class's channel is below the queue's cap (all when no cap)."""
        cap = cls.req.cap
        if cap is None:
            return agents
        channel, states = cls.req.channel, self._agents
        return {a for a in agents if states[a].load.get(channel, 0) < cap}

    def _match(self, now: float) -> None:
        classes = self._classes
        free_by_channel = self._free
        # Class -> the agents that can be free and eligible for it: by invariant I only agents whose
        # channel became free, unless the class itself changed (None: any free eligible agent).
        scope: dict[int, set[str] | None] = dict.fromkeys(self._dirty_classes)
        for agent_id, channels in self._dirty_agents.items():
            state = self._agents[agent_id]
            for channel in channels:
                active = state.classes.get(channel)
                if not active or channel not in state.free:
                    continue
                dead = []
                for cid in active:
                    if not classes[cid].live:
                        dead.append(cid)  # emptied since: drop from the reverse index lazily
                        classes[cid].indexed = False
                    elif cid not in scope:
                        scope[cid] = {agent_id}
                    elif (agents := scope[cid]) is not None:
                        agents.add(agent_id)
                active.difference_update(dead)
        for agent_id, channels in self._dirty_room.items():  # load dropped: capped classes may fit now
            state = self._agents[agent_id]
            for channel in channels:
                if channel not in state.free:
                    continue
                load = state.load.get(channel, 0)
                for cid in state.classes.get(channel, ()):
                    cls = classes[cid]
                    if not cls.live or cls.req.cap is None or load >= cls.req.cap:
                        continue
                    if cid not in scope:
                        scope[cid] = {agent_id}
                    elif (agents := scope[cid]) is not None:
                        agents.add(agent_id)
        self._dirty_classes = set()
        self._dirty_agents.clear()
        self._dirty_room.clear()
        # Task keys are unique (seq), so the heap never compares class ids.
        heap = []
        for cid, agents in scope.items():
            cls = classes[cid]
            free = free_by_channel.get(cls.req.channel)
            if (
                cls.head is not None
                and free
                and not (cls.eligible if agents is None else agents).isdisjoint(free)
                and (cls.req.cap is None or self._room(cls, (cls.eligible if agents is None else agents) & free))
            ):
                heap.append((cls.head, cid))
        heapq.heapify(heap)
        while heap:
            entry, cid = heapq.heappop(heap)
            cls = classes[cid]
            free = free_by_channel[cls.req.channel]
            agents = scope[cid]
            if (cls.eligible if agents is None else agents).isdisjoint(free):
                continue
            candidates = self._room(cls, (cls.eligible if agents is None else agents) & free)
            found = self._first_matchable(cls, candidates) if candidates else None
            if found is None:
                continue
            ts, choices = found
            assert ts.entry is not None
            if ts.entry > entry:  # the head is excluded for every free agent: queue the class at ts
                heapq.heappush(heap, (ts.entry, cid))
                continue
            self._make_offer(ts, self._select(ts, choices), now)
            if cls.head is not None:
                heapq.heappush(heap, (cls.head, cid))

    def _first_matchable(self, cls: TaskClass, agents: set[str]) -> tuple[TaskState, set[str]] | None:
        assert cls.head is not None
        head = self._tasks[cls.head[3]]
        if not head.excluded:
            return head, agents
        remaining = agents - head.excluded
        if remaining:
            return head, remaining
        # Rare: walk the class in order past tasks that every free agent has declined.
        for entry in sorted(cls.heap):
            ts = self._tasks.get(entry[3])
            if ts is not None and ts.token == entry[4] and ts.status is TaskStatus.WAITING:
                remaining = agents - ts.excluded
                if remaining:
                    return ts, remaining
        return None

    def _select(self, ts: TaskState, agents: set[str]) -> str:
        if len(agents) == 1:
            return next(iter(agents))
        strategy = self._queues[ts.task.queue_id].strategy
        return min(agents, key=self.strategy_key(strategy, ts))

    def strategy_key(self, strategy: Strategy, ts: TaskState) -> Callable[[str], tuple[Any, ...]]:
        """The ordering of candidate agents for ``ts`` (smallest first); shared with the baseline."""
        if strategy is Strategy.LONGEST_IDLE:
            return self._idle_key.__getitem__
        agents = self._agents
        channel = ts.task.channel
        if strategy is Strategy.LEAST_OCCUPIED:

            def occupied(agent_id: str) -> tuple[float, int, float, str]:
                st = agents[agent_id]
                cap = st.profile.capacity.get(channel, 0)
                share = st.used(channel) / cap if cap else 1.0
                total = sum(st.load.values()) + len(st.pending)
                return (share, total, st.idle_since, agent_id)

            return occupied
        if strategy is Strategy.SKILL_WEIGHTED:
            assert ts.req is not None
            names = [name for name, _ in ts.req.skills] or list(ts.task.skills)

            def skilled(agent_id: str) -> tuple[int, float, str]:
                st = agents[agent_id]
                return (-sum(st.profile.skills.get(n, 0) for n in names), st.idle_since, agent_id)

            return skilled
        return self._offer_key.__getitem__  # round robin: least recently offered first

    def _make_offer(self, ts: TaskState, agent_id: str, now: float, announce: bool = True) -> int:
        queue = self._queues[ts.task.queue_id]
        state = self._agents[agent_id]
        self._unindex(ts)
        self._reservation_seq += 1
        ts.status = TaskStatus.OFFERED
        ts.agent_id = agent_id
        ts.reservation_id = self._reservation_seq
        ts.expires_at = now + queue.accept_timeout_s
        state.pending[ts.task.channel] = ts.task.id
        state.last_offer_at = now
        self._offer_key[agent_id] = (now, agent_id)
        self._refresh(state)
        self._push_timer(ts.expires_at, _OFFER_TIMER, ts.task.id, self._reservation_seq)
        if announce:
            offer = Offer(
                ts.task.id, agent_id, queue.id, ts.task.channel, self._reservation_seq, ts.expires_at
            )
            self._outbox.append(offer)
        return self._reservation_seq

    # ---- timers ----------------------------------------------------------------------------------

    def _push_timer(self, at: float, kind: int, task_id: str, token: int) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (at, self._timer_seq, kind, task_id, token))

    def _run_timers(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            _, _, kind, task_id, token = heapq.heappop(self._timers)
            ts = self._tasks.get(task_id)
            if ts is None:
                continue
            if kind == _OFFER_TIMER:
                if ts.status is TaskStatus.OFFERED and ts.reservation_id == token:
                    self._expire(ts)
            elif ts.wait_token == token and ts.status is TaskStatus.WAITING:
                self._apply_wait_rules(ts, now)

    def _next_wait_event(self, ts: TaskState) -> tuple[float, int] | None:
        """(due time, kind) of the task's next wait rule: 0 fallback, 1 overflow, 2 max wait."""
        queue = self._queues[ts.task.queue_id]
        events: list[tuple[float, int]] = []
        if ts.target_until is not None:
            events.append((ts.target_until, 0))
        if ts.target_agent is None and ts.level < len(queue.overflow):
            events.append((ts.stage_start + queue.overflow[ts.level].after_s, 1))
        if queue.max_wait_s is not None:
            events.append((ts.stage_start + queue.max_wait_s, 2))
        return min(events) if events else None

    def _schedule_wait(self, ts: TaskState) -> None:
        ts.wait_token += 1
        event = self._next_wait_event(ts)
        if event is not None:
            self._push_timer(event[0], _WAIT_TIMER, ts.task.id, ts.wait_token)

    def _apply_wait_rules(self, ts: TaskState, now: float) -> None:
        changed = False
        while (event := self._next_wait_event(ts)) is not None and event[0] <= now:
            due, kind = event
            queue = self._queues[ts.task.queue_id]
            if kind == 0:
                assert ts.target_agent is not None
                self._outbox.append(TransferFallback(ts.task.id, ts.target_agent, queue.id))
                ts.target_agent = ts.target_until = None
                ts.stage_start = due
            elif kind == 1:
                step = queue.overflow[ts.level]
                ts.priority += step.raise_priority
                target = self._queues[step.move_to_queue] if step.move_to_queue is not None else None
                if target is not None and ts.task.channel not in target.channels:
                    ts.level += 1  # the target does not serve the channel: the task stays
                elif target is not None:
                    self._outbox.append(Overflowed(ts.task.id, queue.id, target.id, ts.level))
                    ts.task = dataclasses.replace(ts.task, queue_id=target.id)
                    ts.level = 0
                    ts.stage_start = due
                else:
                    self._outbox.append(Overflowed(ts.task.id, queue.id, queue.id, ts.level))
                    ts.level += 1
            else:
                self._unindex(ts)
                del self._tasks[ts.task.id]
                self._outbox.append(MaxWaitExceeded(ts.task.id, queue.id, now - ts.stage_start))
                return
            changed = True
        if changed:
            self._unindex(ts)
            self._index(ts)
        self._schedule_wait(ts)

    # ---- internals -------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _class_for(self, ts: TaskState) -> int:
        task = ts.task
        skills = tuple(sorted(task.skills.items())) if task.skills else ()
        shape = (
            task.queue_id,
            ts.level,
            ts.target_agent,
            task.tenant_id,
            task.channel,
            task.language,
            skills,
        )
        cid = self._shapes.get(shape)
        if cid is None:
            req = requirement_for(self._queues[task.queue_id], task, ts.level, ts.target_agent)
            cid = self._class_ids.get(req)
            if cid is None:
                cid = len(self._classes)
                self._class_ids[req] = cid
                self._classes.append(TaskClass(cid, req, self._index_of_agents.eligible(req)))
            self._shapes[shape] = cid
        return cid

    def _index(self, ts: TaskState) -> None:
        if self._closed and ts.task.queue_id in self._closed and ts.target_agent is None:
            ts.held_in = ts.task.queue_id  # a closed queue: held until it opens (or moved on)
            self._held.setdefault(ts.held_in, set()).add(ts.task.id)
            return
        cid = self._class_for(ts)
        cls = self._classes[cid]
        req = cls.req
        ts.req = req
        ts.cid = cid
        ts.token += 1
        entry = (-ts.priority, ts.task.queued_at, ts.seq, ts.task.id, ts.token)
        ts.entry = entry
        heapq.heappush(cls.heap, entry)
        if cls.head is None or entry < cls.head:
            cls.head = entry
        cls.live += 1
        if cls.live == 1 and not cls.indexed:  # (re)activated: its agents look at it when they free up
            cls.indexed = True
            channel = req.channel
            for agent_id in cls.eligible:
                self._agents[agent_id].classes.setdefault(channel, set()).add(cid)
        self._dirty_classes.add(cid)

    def _unindex(self, ts: TaskState) -> None:
        """Take a waiting task out of its class heap (lazily: its heap entry becomes stale)."""
        if ts.held_in is not None:
            held = self._held[ts.held_in]
            held.discard(ts.task.id)
            if not held:
                del self._held[ts.held_in]
            ts.held_in = None
            return
        if ts.cid < 0 or ts.status is not TaskStatus.WAITING:
            return
        cls = self._classes[ts.cid]
        was_head = cls.head is ts.entry
        ts.token += 1
        cls.live -= 1
        ts.req = None
        ts.cid = -1
        ts.entry = None
        if not cls.live:  # inactive: agents' reverse indexes drop it lazily (see _match)
            cls.heap = []
            cls.head = None
            return
        if len(cls.heap) > 64 and len(cls.heap) > 4 * cls.live:
            cls.heap = [e for e in cls.heap if self._valid(e)]
            heapq.heapify(cls.heap)
        if was_head:
            self._head(cls)

    def _valid(self, entry: Entry) -> bool:
        ts = self._tasks.get(entry[3])
        return ts is not None and ts.token == entry[4] and ts.status is TaskStatus.WAITING

    def _head(self, cls: TaskClass) -> TaskState | None:
        """Drop stale entries from the top of the class heap; cache and return the first task."""
        heap = cls.heap
        while heap:
            entry = heap[0]
            ts = self._tasks.get(entry[3])
            if ts is not None and ts.token == entry[4] and ts.status is TaskStatus.WAITING:
                cls.head = entry
                return ts
            heapq.heappop(heap)
        cls.head = None
        return None

    def _refresh(self, state: AgentState, force_dirty: bool = False) -> None:
        """Recompute the agent's free channels; newly free channels make it a match candidate."""
        free = state.compute_free()
        old = state.free
        if free == old and not force_dirty:
            return
        agent_id = state.profile.id
        for channel in old - free:
            self._free[channel].discard(agent_id)
        for channel in free - old:
            self._free.setdefault(channel, set()).add(agent_id)
        state.free = free
        became_free = free if force_dirty else free - old
        if became_free:
            self._dirty_agents.setdefault(agent_id, set()).update(became_free)

    def _requeue(self, ts: TaskState) -> None:
        ts.status = TaskStatus.WAITING
        ts.agent_id = None
        ts.reservation_id = None
        ts.expires_at = None
        self._index(ts)
        self._schedule_wait(ts)

    def _free_pending(self, ts: TaskState) -> AgentState:
        assert ts.agent_id is not None
        state = self._agents[ts.agent_id]
        del state.pending[ts.task.channel]
        self._refresh(state)
        return state

    def _expire(self, ts: TaskState) -> None:
        assert ts.agent_id is not None and ts.reservation_id is not None
        self._outbox.append(OfferExpired(ts.task.id, ts.agent_id, ts.reservation_id))
        state = self._agents[ts.agent_id]
        state.not_responding = True
        self._free_pending(ts)
        self._requeue(ts)

    def _withdraw_offer(self, ts: TaskState, reason: str) -> None:
        assert ts.agent_id is not None and ts.reservation_id is not None
        self._outbox.append(OfferRescinded(ts.task.id, ts.agent_id, ts.reservation_id, reason))
        self._free_pending(ts)

    def _rescind_agent_offers(self, state: AgentState, reason: str) -> None:
        for task_id in sorted(state.pending.values()):
            ts = self._tasks[task_id]
            self._withdraw_offer(ts, reason)
            self._requeue(ts)

    def _release(self, ts: TaskState, now: float) -> AgentState:
        """Take an assigned task off its agent's load (complete, transfer, removal)."""
        assert ts.agent_id is not None
        state = self._agents[ts.agent_id]
        channel = ts.task.channel
        state.load[channel] -= 1
        if not state.load[channel]:
            del state.load[channel]
        if not state.load and not state.pending:
            state.idle_since = now
            self._idle_key[state.profile.id] = (now, state.profile.id)
            if state.presence is Presence.BUSY:
                state.presence = Presence.AVAILABLE
        ts.agent_id = None
        self._refresh(state)
        if self._capped and channel in state.free:  # less load: a queue's cap may admit it again
            self._dirty_room.setdefault(state.profile.id, set()).add(channel)
        return state

    def _detach(self, ts: TaskState, now: float, reason: str) -> None:
        """Free the task from wherever it is, leaving it unindexed and holder-less."""
        if ts.status is TaskStatus.WAITING:
            self._unindex(ts)
        elif ts.status is TaskStatus.OFFERED:
            self._withdraw_offer(ts, reason)
        else:
            self._release(ts, now)
        ts.status = TaskStatus.WAITING
        ts.agent_id = None

    def _offered_to(self, task_id: str, agent_id: str) -> TaskState:
        ts = self._task(task_id)
        if ts.status is not TaskStatus.OFFERED or ts.agent_id != agent_id:
            raise EngineError("no_offer", f"task {task_id!r} is not offered to agent {agent_id!r}")
        return ts

    def _task(self, task_id: str) -> TaskState:
        ts = self._tasks.get(task_id)
        if ts is None:
            raise EngineError("unknown_task", f"unknown task {task_id!r}")
        return ts

    def _agent(self, agent_id: str) -> AgentState:
        state = self._agents.get(agent_id)
        if state is None:
            raise EngineError("unknown_agent", f"unknown agent {agent_id!r}")
        return state

    def _queue_for(self, task: Task) -> Queue:
        queue = self._queues.get(task.queue_id)
        if queue is None:
            raise EngineError("unknown_queue", f"unknown queue {task.queue_id!r}")
        if queue.tenant_id != task.tenant_id:
            raise EngineError("cross_tenant", f"queue {queue.id!r} belongs to another tenant")
        return queue

    # ---- read API --------------------------------------------------------------------------------

    def agent(self, agent_id: str) -> Agent:
        return self._agent(agent_id).snapshot()

    def agent_ids(self) -> list[str]:
        return sorted(self._agents)

    def free_channels(self, agent_id: str) -> frozenset[str]:
        """Channels on which the agent could take an offer now (after a step: room nothing waiting used)."""
        return self._agent(agent_id).compute_free()

    def queue(self, queue_id: str) -> Queue:
        return self._queues[queue_id]

    def task(self, task_id: str) -> TaskInfo:
        ts = self._task(task_id)
        return TaskInfo(
            task=ts.task,
            status=ts.status,
            priority=ts.priority,
            overflow_level=ts.level,
            agent_id=ts.agent_id,
            reservation_id=ts.reservation_id,
            expires_at=ts.expires_at,
            excluded_agents=frozenset(ts.excluded),
            target_agent=ts.target_agent,
            stage_start=ts.stage_start,
            held=ts.held_in is not None,
        )

    def task_ids(self, status: TaskStatus | None = None) -> list[str]:
        return sorted(t for t, ts in self._tasks.items() if status is None or ts.status is status)

    def waiting(self, queue_id: str | None = None) -> list[str]:
        """Waiting task ids in service order (priority, then queued_at, then arrival)."""
        found = [
            ts
            for ts in self._tasks.values()
            if ts.status is TaskStatus.WAITING and (queue_id is None or ts.task.queue_id == queue_id)
        ]
        return [ts.task.id for ts in sorted(found, key=lambda t: t.key)]

    def offers(self) -> list[Offer]:
        result = []
        for ts in self._tasks.values():
            if ts.status is TaskStatus.OFFERED:
                assert ts.agent_id is not None and ts.reservation_id is not None
                assert ts.expires_at is not None
                queue_id, channel = ts.task.queue_id, ts.task.channel
                result.append(
                    Offer(ts.task.id, ts.agent_id, queue_id, channel, ts.reservation_id, ts.expires_at)
                )
        return sorted(result, key=lambda o: o.reservation_id)

    def requirement(self, task_id: str) -> Requirement:
        """The task's current requirement (after overflow widening / direct target)."""
        ts = self._task(task_id)
        queue = self._queues[ts.task.queue_id]
        return requirement_for(queue, ts.task, ts.level, ts.target_agent)

    def qualifies(self, agent_id: str, task_id: str) -> bool:
        """Static fit (tenant, skills, language, tier, channel) and not excluded for this task."""
        ts = self._task(task_id)
        return agent_id not in ts.excluded and self.requirement(task_id).admits(self._agent(agent_id).profile)

    def is_free(self, agent_id: str, channel: str) -> bool:
        """Whether the agent may receive an offer on ``channel`` right now."""
        return channel in self._agent(agent_id).compute_free()

    def queue_stats(self, queue_id: str, now: float) -> QueueStats:
        waiting = offered = assigned = 0
        oldest = now
        for ts in self._tasks.values():
            if ts.task.queue_id != queue_id:
                continue
            if ts.status is TaskStatus.WAITING:
                waiting += 1
                oldest = min(oldest, ts.task.queued_at)
            elif ts.status is TaskStatus.OFFERED:
                offered += 1
            else:
                assigned += 1
        return QueueStats(queue_id, waiting, offered, assigned, now - oldest)
