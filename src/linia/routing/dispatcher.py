"""Dispatch: load a tenant's waiting tasks and free agents into the pure engine, run one step, persist.

Two short transactions, each under the tenant's routing lock:
1. timers (only when one is due): expire due offers (ring-no-answer: reservation expired, agent
   not_responding, task back in place) and end due wrap-ups — locking just those agents;
2. offers (only when a task waits): load the waiting tasks and, for longest-idle queues, only the
   longest-idle routable agents (enough for the tasks, every agent with room when that proves too few);
   with a backlog only the oldest PER_CLASS tasks of each queue and requirement and only agents with room
   (so a peak does not make every dispatch slower: that fed on itself, see docs/operations.md); ``step(now)``;
   then lock the chosen agents (primary-key order) and re-read their presence and load: an agent whose
   load grew meanwhile (another tenant's dispatch) or who left the routable states loses this step's
   offers; those tasks stay queued for the next dispatch. Offers become Reservations, overflow moves and
   max-wait exits become task changes.

The engine is rebuilt every time, so the database stays the only state and any process may dispatch.
With nothing due and nothing waiting a dispatch is one read (three EXISTS) and no transaction.
Each task's clock in its current queue (overflow steps, max wait) comes from Task.stage_started_at;
opening hours are evaluated by the engine at the step's ``now`` (see ``_open_at``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from linia.core import fastsql
from linia.core.models import Membership, Tenant
from linia.routing import engine, queries, realtime
from linia.routing.actions import (
    ROUTABLE,
    ROUTING_ROLES,
    _offer_cancelled,
    _queue_stats_soon,
    agent_tenant_ids,
    end_wrapup,
    publish_offer,
    task_event,
)
from linia.routing.locks import lock_agents, lock_tenant, tenant_id_of
from linia.routing.models import (
    AgentProfile,
    PresenceState,
    Queue,
    Reservation,
    ReservationStatus,
    Task,
    TaskStatus,
)
from linia.tickets import events

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Loads = dict[int, Counter[str]]  # agent id -> channel -> accepted tasks + ringing offers
LoadPair = tuple[Loads, Loads]  # (accepted tasks, ringing offers), each agent id -> channel -> count
# With a backlog only this many of each queue's tasks per requirement are loaded, the oldest (see _waiting),
# and the agents are those with room (_free_agents) rather than the longest-idle few (_longest_idle).
PER_CLASS = 64


def _ts(value: datetime | None) -> float:
    return (value or EPOCH).timestamp()


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


# --- the tenant's rows -----------------------------------------------------------------------------

def _members(tenant_id: int) -> Any:
    return Membership.objects.filter(tenant_id=tenant_id, role__in=ROUTING_ROLES).values("user_id")


def _due_agents(tenant_id: int, now: datetime) -> list[int]:
    """Agents whose offer rang out or whose wrap-up ended: the timers' work for this tenant."""
    rang_out = Reservation.objects.filter(tenant_id=tenant_id, status=ReservationStatus.PENDING, expires_at__lte=now)
    wrapped = AgentProfile.objects.filter(presence=PresenceState.WRAP_UP, wrapup_until__lte=now,
                                          user_id__in=_members(tenant_id))
    return [*rang_out.values_list("agent_id", flat=True), *wrapped.values_list("user_id", flat=True)]


def _routable_sql(ringing: str | None = None) -> str:
    """Routable agents of a tenant (param: the tenant); with ``ringing`` ("IN" or "NOT IN") only those with
    or without a ringing offer."""
    member, res = fastsql.table(Membership), fastsql.table(Reservation)
    sql = (f"p.presence IN ({fastsql.literals(*ROUTABLE)}) AND NOT p.not_responding "  # noqa: S608
           f"AND p.user_id IN (SELECT m.user_id FROM {member} m WHERE m.tenant_id = %s "
           f"AND m.role IN ({fastsql.literals(*ROUTING_ROLES)}))")
    if ringing:
        sql += (f" AND p.user_id {ringing} (SELECT r.agent_id FROM {res} r "  # noqa: S608
                f"WHERE r.status = {fastsql.literals(ReservationStatus.PENDING)})")
    return sql


def _routable_params(tenant_id: int) -> list[Any]:
    return [tenant_id]


def _longest_idle(tenant_id: int, limit: int) -> tuple[list[AgentProfile], bool]:
    """The `limit` longest-idle routable agents without a ringing offer (ties at the edge included), and
    False; or, when fewer are free, every routable agent (those ringing too) and True: a full load could
    find no one else. Plain SQL: this runs for every offer."""
    prof = fastsql.table(AgentProfile)
    idle = "COALESCE(p.idle_since, p.presence_since)"
    params = _routable_params(tenant_id)
    free = f"SELECT {fastsql.cols(AgentProfile, 'p')}, {idle} FROM {prof} p WHERE {_routable_sql('NOT IN')}"  # noqa: S608
    found = fastsql.fetch(f"{free} ORDER BY {idle}, p.user_id LIMIT %s", [*params, limit + 1])
    rows = [fastsql.load(AgentProfile, r) for r in found]
    if len(rows) <= limit:
        # Every routable agent without a ringing offer is here: with those ringing (usually few) this is
        # everyone, so no second, full load follows (with a long queue that load was most of the dispatch).
        ringing = fastsql.fetch(f"SELECT {fastsql.cols(AgentProfile, 'p')} FROM {prof} p "  # noqa: S608
                                f"WHERE {_routable_sql('IN')}", params)
        return rows + [fastsql.load(AgentProfile, r) for r in ringing], True
    rows.pop()
    if found[-1][-1] == found[-2][-1]:  # agents idle since the same instant: the engine breaks the tie, give it all
        seen = {p.user_id for p in rows}
        tied = fastsql.fetch(f"{free} AND {idle} = %s", [*params, found[-1][-1]])
        rows += [p for p in (fastsql.load(AgentProfile, r) for r in tied) if p.user_id not in seen]
    return rows, False


def _free_agents(tenant_id: int, channels: set[str], limit: int | None) -> tuple[list[AgentProfile], LoadPair, bool]:
    """Routable agents with room on one of ``channels`` (their capacity against what they hold and are offered in
    every tenant, by the engine's rules): nobody else can be offered anything in this step. With a backlog most
    agents are full, and building them all was most of each dispatch; a narrow read of every routable agent and
    its load finds the few with room. ``limit``: only the longest-idle that many (ties at the edge included),
    and whether that was all of them."""
    prof = fastsql.table(AgentProfile)
    where, params = _routable_sql(), _routable_params(tenant_id)
    room, room_params = _room_sql(sorted(channels))
    idle = "COALESCE(p.idle_since, p.presence_since)"
    # The idle rank, not the instant: equal ranks are the ties, and no timestamps to convert for every agent.
    # Ranked before the room filter, so the ranks (and ties) are those among all routable agents.
    ranked = (f"SELECT p.user_id, p.capacity, RANK() OVER (ORDER BY {idle}) AS idle_rank, {idle} AS idle_at "  # noqa: S608
              f"FROM {prof} p WHERE {where}")
    narrow = fastsql.fetch(f"SELECT p.user_id, p.capacity, p.idle_rank FROM ({ranked}) p WHERE {room} "  # noqa: S608
                           "ORDER BY p.idle_at, p.user_id", [*params, *room_params])
    ids = [r[0] for r in narrow]
    assigned, pending = _loads(ids)
    wanted = frozenset(channels)
    roomy = [(user_id, rank) for user_id, raw, rank in narrow
             if _has_room(raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True),
                          _items(assigned, pending, user_id), _ringing(pending, user_id), wanted)]
    complete = limit is None or len(roomy) <= limit
    if not complete:
        assert limit is not None
        edge = roomy[limit - 1][1]
        roomy = roomy[:limit] + [r for r in roomy[limit:] if r[1] == edge]  # the engine breaks ties at the edge
    ids = [user_id for user_id, _ in roomy]
    if not ids:
        return [], (assigned, pending), complete
    rows = fastsql.fetch(f"SELECT {fastsql.cols(AgentProfile, 'p')} FROM {prof} p "  # noqa: S608
                         f"WHERE p.user_id IN ({fastsql.placeholders(len(ids))})", ids)
    return [fastsql.load(AgentProfile, r) for r in rows], (assigned, pending), complete


def _room_sql(channels: list[str]) -> tuple[str, list[Any]]:
    """A condition on agent rows ``p`` (user_id, capacity) that holds for every agent with room on one of
    ``channels`` (engine.free_channels' rules in SQL): no ringing offer on the channel or on one that blocks
    it, nothing held that blocks it, fewer held than its capacity. It only narrows: _has_room decides, so a
    capacity that is not a plain number counts as unlimited here."""
    task, res = fastsql.table(Task), fastsql.table(Reservation)
    parts, params = [], []
    pending, assigned = fastsql.literals(ReservationStatus.PENDING), fastsql.literals(TaskStatus.ASSIGNED)
    for channel in channels:
        blockers = sorted(b for b, blocked in engine.DEFAULT_BLOCKS.items() if channel in blocked)
        ringing = [channel, *blockers]
        clauses = [f"NOT EXISTS (SELECT 1 FROM {res} r JOIN {task} t ON t.id = r.task_id "  # noqa: S608
                   f"WHERE r.agent_id = p.user_id AND r.status = {pending} "
                   f"AND t.channel IN ({fastsql.placeholders(len(ringing))}))"]
        params += ringing
        if blockers:
            clauses.append(f"NOT EXISTS (SELECT 1 FROM {task} t WHERE t.assigned_to_id = p.user_id "  # noqa: S608
                           f"AND t.status = {assigned} AND t.channel IN ({fastsql.placeholders(len(blockers))}))")
            params += blockers
        clauses.append(f"(SELECT COUNT(*) FROM {task} t WHERE t.assigned_to_id = p.user_id "  # noqa: S608
                       f"AND t.status = {assigned} AND t.channel = %s) < {_capacity_sql(channel)}")
        params += [channel]
        parts.append("(" + " AND ".join(clauses) + ")")
    return "(" + " OR ".join(parts) + ")", params


def _capacity_sql(channel: str) -> str:
    """The agent's capacity on a channel (a known channel name, not user input): its own number, the default
    when it has none, and 1000 for anything else (unlimited for the narrowing)."""
    if not re.fullmatch(r"[a-z_]{1,20}", channel):
        return "1000"  # not a channel name: nothing to look up (and nothing to put in SQL)
    default = engine.DEFAULT_CAPACITY.get(channel, 1)
    key = json.dumps(channel)  # the channel names are fixed words: quoted for JSON and SQL alike
    if connection.vendor == "sqlite":
        path = f"'$.{key}'"
        return (f"(CASE WHEN json_type(p.capacity, {path}) IS NULL THEN {default} "
                f"WHEN json_type(p.capacity, {path}) = 'integer' THEN json_extract(p.capacity, {path}) ELSE 1000 END)")
    literal = f"'{channel}'"
    return (f"(CASE WHEN p.capacity -> {literal} IS NULL THEN {default} "  # whole numbers only, as capacity_for
            f"WHEN jsonb_typeof(p.capacity -> {literal}) = 'number' AND p.capacity ->> {literal} ~ '^-?[0-9]+$' "
            f"THEN (p.capacity ->> {literal})::numeric ELSE 1000 END)")


def _items(assigned: Loads, pending: Loads, user_id: int) -> tuple[tuple[str, int], ...]:
    if user_id not in assigned and user_id not in pending:  # most agents, and no Counter made for them
        return ()
    return tuple(sorted((assigned[user_id] + pending[user_id]).items()))


def _ringing(pending: Loads, user_id: int) -> tuple[str, ...]:
    return tuple(sorted(c for c, n in pending[user_id].items() if n)) if user_id in pending else ()


@lru_cache(maxsize=4096)
def _has_room(raw_capacity: str, load: tuple[tuple[str, int], ...], ringing: tuple[str, ...],
              channels: frozenset[str]) -> bool:
    """Agents mostly share a few capacities and loads: each combination is worked out once."""
    caps = json.loads(raw_capacity)
    profile = AgentProfile(capacity=caps if isinstance(caps, dict) else {})
    capacity = {c: profile.capacity_for(c) for c in channels}
    return bool(engine.free_channels(capacity, dict(load), ringing))


def _expire_due(tenant_id: int, now: datetime, profiles: dict[int, AgentProfile]) -> int:
    due = list(Reservation.objects.select_related("task", "task__queue").filter(
        tenant_id=tenant_id, status=ReservationStatus.PENDING, expires_at__lte=now))
    if not due:
        return 0
    Reservation.objects.filter(pk__in=[r.pk for r in due]).update(status=ReservationStatus.EXPIRED)
    Task.objects.filter(pk__in=[r.task_id for r in due], status=TaskStatus.RESERVED).update(status=TaskStatus.QUEUED)
    agents = {r.agent_id for r in due}
    AgentProfile.objects.filter(user_id__in=agents).update(not_responding=True)
    for profile in profiles.values():
        if profile.user_id in agents:
            profile.not_responding = True
    for res in due:
        task_event(res.task, "task.expired", None, reservation_id=res.pk, agent_id=res.agent_id)
        _offer_cancelled(res, "expired")
    for agent_id in agents:
        realtime.publish(realtime.agent_group(agent_id), {"kind": "not_responding", "user_id": agent_id})
    return len(due)


def _end_due_wrapups(profiles: dict[int, AgentProfile], now: datetime) -> None:
    for profile in profiles.values():
        if profile.presence == PresenceState.WRAP_UP and profile.wrapup_until and profile.wrapup_until <= now:
            end_wrapup(profile, now, None, agent_tenant_ids(profile.user_id))


def _loads(user_ids: list[int]) -> LoadPair:
    """Per agent and channel, across all tenants: accepted tasks, and pending offers."""
    if not user_ids:
        return defaultdict(Counter), defaultdict(Counter)
    return _loads_in(fastsql.placeholders(len(user_ids)), user_ids)


def _loads_in(agents: str, params: list[Any]) -> LoadPair:
    """``_loads`` of the agents that ``agents`` lists: placeholders, or a sub-select (with its params)."""
    assigned: dict[int, Counter[str]] = defaultdict(Counter)
    pending: dict[int, Counter[str]] = defaultdict(Counter)
    task, res = fastsql.table(Task), fastsql.table(Reservation)
    sql = (f"SELECT 1, t.assigned_to_id, t.channel, COUNT(*) FROM {task} t "  # noqa: S608
           f"WHERE t.assigned_to_id IN ({agents}) AND t.status = {fastsql.literals(TaskStatus.ASSIGNED)} "
           "GROUP BY t.assigned_to_id, t.channel "
           f"UNION ALL SELECT 2, r.agent_id, t.channel, COUNT(*) FROM {res} r JOIN {task} t ON t.id = r.task_id "
           f"WHERE r.agent_id IN ({agents}) AND r.status = {fastsql.literals(ReservationStatus.PENDING)} "
           "GROUP BY r.agent_id, t.channel")
    for which, agent_id, channel, n in fastsql.fetch(sql, [*params, *params]):
        (assigned if which == 1 else pending)[agent_id][channel] = n
    return assigned, pending


# --- building the engine -----------------------------------------------------------------------------

def _overflow(q: Queue, codes: dict[str, int]) -> tuple[engine.OverflowStep, ...]:
    steps = []
    for raw in q.overflow or []:
        move = raw.get("move_to_queue")
        steps.append(engine.OverflowStep(
            after_s=float(raw["after_s"]), lower_levels_by=int(raw.get("lower_levels_by", 0)),
            drop_skills=frozenset(raw.get("drop_skills", ())), add_tiers=frozenset(raw.get("add_tiers", ())),
            any_language=bool(raw.get("any_language", False)), raise_priority=int(raw.get("raise_priority", 0)),
            move_to_queue=str(codes[move]) if move else None))
    return tuple(steps)


def _open_at(q: Queue) -> Callable[[float], bool] | None:
    """The queue's opening hours as the engine's ``open_at(now)`` (None: always open or broken hours)."""
    hours = queries.safe_queue_hours(q)
    if hours is None:
        return None
    return lambda at: hours.is_open(_dt(at))


def _queue_caps(q: Queue) -> dict[str, int]:
    caps = q.capacity if isinstance(q.capacity, dict) else {}
    valid = {c: n for c, n in caps.items() if isinstance(n, int) and not isinstance(n, bool) and n >= 1}
    if len(valid) != len(caps):
        log.warning("queue %s: invalid capacity caps ignored (%s)", q.pk, caps)
    return valid


def _queue_rules(q: Queue, codes: dict[str, int]) -> dict[str, Any]:
    """Capacity caps, opening hours and the closed action (overflow only to an active queue)."""
    rules: dict[str, Any] = {"capacity": _queue_caps(q), "open_at": _open_at(q)}
    target = q.closed_overflow_queue_id
    if q.closed_action == "overflow" and target is not None and target != q.pk and target in codes.values():
        rules.update(closed_action=engine.ClosedAction.OVERFLOW, closed_overflow_queue_id=str(target))
    return rules


def engine_queue(q: Queue, codes: dict[str, int]) -> engine.Queue | None:
    """The engine's view of a queue; a broken configuration is logged and the queue left out."""
    common: dict[str, Any] = {
        "id": str(q.pk), "tenant_id": str(q.tenant_id), "channels": frozenset(q.channels or ()),
        "skills": dict(q.required_skills or {}), "languages": frozenset(q.languages or ()), "priority": q.priority,
        "tier": q.tier, "target_answer_s": float(q.target_answer_seconds), "strategy": engine.Strategy(q.strategy),
        "max_wait_s": float(q.max_wait_seconds) if q.max_wait_seconds else None,
        "accept_timeout_s": float(max(q.offer_timeout_seconds, 1)),
        "escalation_queue_id": str(q.escalation_queue_id) if q.escalation_queue_id else None,
        **_queue_rules(q, codes),
    }
    try:
        return engine.Queue(**common, overflow=_overflow(q, codes))
    except (engine.EngineError, KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("queue %s: overflow ignored (%s)", q.pk, exc)
    try:
        return engine.Queue(**common)
    except (engine.EngineError, TypeError, ValueError) as exc:
        log.warning("queue %s left out of routing (%s)", q.pk, exc)
        return None


def engine_agent(p: AgentProfile, tenant_id: int, assigned: Counter[str], pending: Counter[str]) -> engine.Agent | None:
    load = {c: assigned[c] + pending[c] for c in set(assigned) | set(pending)}
    capacity = {c: p.capacity_for(c) for c in engine.DEFAULT_CAPACITY.keys() | set(p.capacity or {})}
    for channel in pending:  # one ringing offer per channel at a time, as the engine itself keeps it
        capacity[channel] = min(capacity.get(channel, 0), load[channel])
    load = {c: min(n, capacity.get(c, 0)) for c, n in load.items()}
    try:
        return engine.Agent(
            id=str(p.user_id), tenant_ids=frozenset({str(tenant_id)}), skills=dict(p.skills or {}),
            languages=frozenset(p.languages or ()), tier=p.tier, presence=engine.Presence(p.presence),
            capacity=capacity, load=load, idle_since=_ts(p.idle_since or p.presence_since),
            last_offer_at=_ts(p.last_offer_at) if p.last_offer_at else None)
    except (engine.EngineError, TypeError, ValueError) as exc:
        log.warning("agent %s left out of routing (%s)", p.user_id, exc)
        return None


def engine_task(t: Task) -> engine.Task:
    return engine.Task(id=str(t.pk), tenant_id=str(t.tenant_id), queue_id=str(t.queue_id), channel=t.channel,
                       queued_at=_ts(t.queued_at), language=t.language or None, skills=dict(t.required_skills or {}),
                       priority=t.priority, attributes={},
                       stage_started_at=_ts(t.stage_started_at) if t.stage_started_at else None)


def _queues(tenant_id: int) -> tuple[list[engine.Queue], dict[int, Queue]]:
    """The engine's queues and the active Queue rows by id (with their tenant, for opening hours)."""
    sql = (f"SELECT {fastsql.cols(Queue, 'q')}, {fastsql.cols(Tenant, 't')} FROM {fastsql.table(Queue)} q "  # noqa: S608
           f"JOIN {fastsql.table(Tenant)} t ON t.id = q.tenant_id WHERE q.tenant_id = %s AND q.is_active = %s "
           "ORDER BY q.code")
    queues = []
    for row in fastsql.fetch(sql, [tenant_id, True]):
        q = fastsql.load(Queue, row)
        fastsql.attach(q, "tenant", fastsql.load(Tenant, row, fastsql.width(Queue)))
        queues.append(q)
    codes = {q.code: q.pk for q in queues}
    return [e for e in (engine_queue(q, codes) for q in queues) if e is not None], {q.pk: q for q in queues}


def _waiting(tenant_id: int, rows: dict[int, Queue], per_class: int | None) -> tuple[list[Task], set[str]]:
    """The tenant's queued tasks, oldest first, with their Queue when it is active (else read on use).

    ``per_class``: only the first that many of each line (queue and requirement: channel, language, skills;
    ``Task.line_key``) in the engine's order (priority, then time), and every task someone declined; a step
    cannot offer more tasks than agents have room, so a backlog is not loaded whole into every dispatch. Also
    returns the channels of the lines cut short (empty: every queued task is here)."""
    if per_class is None:
        found = [(fastsql.load(Task, r), 0) for r in fastsql.fetch(_queued_sql(), [tenant_id])]
    else:
        found = _first_of_each_line(tenant_id, rows, per_class)
    tasks, cut = [], set()
    for t, rank in found:
        if per_class is not None and rank > per_class and not t.excluded_agents:
            cut.add(t.channel)  # the first task past the bound: this line has more than were loaded
            continue
        if t.queue_id in rows:
            fastsql.attach(t, "queue", rows[t.queue_id])
        tasks.append(t)
    return tasks, cut


@cache
def _queued_sql(limit: bool = False) -> str:
    where = f"t.tenant_id = %s AND t.status = {fastsql.literals(TaskStatus.QUEUED)}"
    return (f"SELECT {fastsql.cols(Task, 't')} FROM {fastsql.table(Task)} t WHERE {where} "  # noqa: S608
            f"ORDER BY t.queued_at, t.id{' LIMIT %s' if limit else ''}")


def _first_of_each_line(tenant_id: int, rows: dict[int, Queue], per_class: int) -> list[tuple[Task, int]]:
    """(task, rank in its line) of the first ``per_class + 1`` tasks of each line and of every declined task,
    oldest first. A short line (most dispatches) is one read of the oldest tasks; a longer one walks the lines
    on the index over ``line_key`` (one read for the line keys, one for their first tasks), so a dispatch does
    not sort a whole backlog (10,000 waiting tasks: a sort of ~60-100 ms in every dispatch before)."""
    oldest = fastsql.fetch(_queued_sql(limit=True), [tenant_id, per_class + 1])
    if len(oldest) <= per_class:  # every waiting task is here: no line can be longer than the bound
        return [(fastsql.load(Task, r), 1) for r in oldest]
    keys = [k for (k,) in fastsql.fetch(_line_keys_sql(), [tenant_id, tenant_id])]
    if not keys:
        return []
    parts, params = [], []
    for key in keys:
        if key.startswith("d|"):  # every declined task is loaded: they must not use up the others' places
            parts.append(_line_sql("all"))
            params += [tenant_id, key]
        else:  # a task's own priority, else its queue's: the first few of each kind, merged below
            parts += [_line_sql("own"), _line_sql("queue's")]
            params += [tenant_id, key, per_class + 1, tenant_id, key, per_class + 1]
    by_line: dict[str, list[Task]] = defaultdict(list)
    for r in fastsql.fetch(" UNION ALL ".join(parts), params):
        t = fastsql.load(Task, r)
        by_line[t.line_key].append(t)
    found = []
    for line in by_line.values():  # the engine's order: priority (the task's, else its queue's), then age
        line.sort(key=lambda t: (-_priority(t, rows), t.queued_at, t.pk))
        found += [(t, rank) for rank, t in enumerate(line, 1)]
    found.sort(key=lambda f: (f[0].queued_at, f[0].pk))
    return found


def _priority(t: Task, rows: dict[int, Queue]) -> int:
    queue = rows.get(t.queue_id)  # (an inactive queue's tasks are not routed this step: 0 will do)
    return engine.effective_priority(t.priority, queue.priority if queue is not None else 0)


@cache
def _line_keys_sql() -> str:
    """The tenant's line keys of queued tasks, one index probe each (a loose index scan)."""
    table, queued = fastsql.table(Task), fastsql.literals(TaskStatus.QUEUED)
    first = (f"SELECT t.line_key FROM {table} t WHERE t.tenant_id = %s AND t.status = {queued} "  # noqa: S608
             "ORDER BY t.line_key LIMIT 1")
    following = (f"SELECT t.line_key FROM {table} t WHERE t.tenant_id = %s AND t.status = {queued} "  # noqa: S608
                 "AND t.line_key > k.line ORDER BY t.line_key LIMIT 1")
    return (f"WITH RECURSIVE k(line) AS (SELECT ({first}) UNION ALL SELECT ({following}) FROM k "  # noqa: S608
            "WHERE k.line IS NOT NULL) SELECT line FROM k WHERE line IS NOT NULL")


@cache
def _line_sql(which: str) -> str:
    """A part of the UNION ALL that reads one line's tasks: "all" of them, or the first few (LIMIT) of those
    with their "own" priority or with their "queue's", in the engine's order (each an index range)."""
    where = (f"t.tenant_id = %s AND t.status = {fastsql.literals(TaskStatus.QUEUED)} "
             "AND t.line_key = %s")
    order = {"all": "", "own": " AND t.priority IS NOT NULL ORDER BY t.priority DESC, t.queued_at, t.id LIMIT %s",
             "queue's": " AND t.priority IS NULL ORDER BY t.queued_at, t.id LIMIT %s"}[which]
    return f"SELECT * FROM (SELECT {fastsql.cols(Task, 't')} FROM {fastsql.table(Task)} t WHERE {where}{order}) l"  # noqa: S608


def _build(tenant_id: int, now: datetime, queues: list[engine.Queue], waiting: list[Task],
           profiles: list[AgentProfile], known_loads: LoadPair | None = None) -> tuple[engine.Router, dict[str, Task], Loads]:
    routable = [p for p in profiles if p.presence in ROUTABLE and not p.not_responding]
    assigned, pending = known_loads or _loads([p.user_id for p in routable])
    agents = [a for a in (engine_agent(p, tenant_id, assigned[p.user_id], pending[p.user_id]) for p in routable)
              if a is not None]
    router = engine.Router(queues=queues, agents=agents)
    known = {q.id for q in queues}
    tasks: dict[str, Task] = {}
    for t in waiting:
        if str(t.queue_id) not in known:
            continue
        try:
            router.add_task(engine_task(t))
        except engine.EngineError as exc:
            log.warning("task %s not routable (%s)", t.pk, exc)
            continue
        tasks[str(t.pk)] = t
        _restore_exclusions(router, t, now)
    loads = {p.user_id: assigned[p.user_id] + pending[p.user_id] for p in routable}
    return router, tasks, loads


def _step(tenant_id: int, now: datetime) -> tuple[list[Any], dict[str, Task], Loads]:
    """One engine step over the waiting tasks and as few agents as give the same decisions.

    At most PER_CLASS tasks per requirement, and all of them only when an agent kept room on a channel whose
    tasks were cut short (a deeper task might fit it); the ticker's rules pass reaches the rest."""
    queues, rows = _queues(tenant_id)
    waiting, cut = _waiting(tenant_id, rows, PER_CLASS)
    if not waiting:
        return [], {}, {}
    idle_order = all(q.strategy == engine.Strategy.LONGEST_IDLE for q in queues)
    if idle_order and not cut:
        # Longest idle picks agents in idle order, so the longest-idle few choose exactly as all would,
        # as long as every task found one; otherwise load every agent with room. (A backlog skips this: the
        # longest idle are then mostly full, and the narrow read finds those with room at once.)
        few, complete = _longest_idle(tenant_id, 2 * len(waiting) + 8)
        router, tasks, loads = _build(tenant_id, now, queues, waiting, few)
        decisions = _decide(router, tasks, now)
        if complete or not _unserved(router, decisions, tasks):
            return decisions, tasks, loads
    channels = {t.channel for t in waiting}
    agents, known, complete = _free_agents(tenant_id, channels, 2 * len(waiting) + 8 if idle_order else None)
    router, tasks, loads = _build(tenant_id, now, queues, waiting, agents, known)
    decisions = _decide(router, tasks, now)
    more_tasks = _room_for(cut, router)
    if not more_tasks and (complete or not _unserved(router, decisions, tasks)):
        return decisions, tasks, loads
    if more_tasks:
        waiting, _ = _waiting(tenant_id, rows, None)
    agents, known, _ = _free_agents(tenant_id, channels, None)
    router, tasks, loads = _build(tenant_id, now, queues, waiting, agents, known)
    return _decide(router, tasks, now), tasks, loads


def _decide(router: engine.Router, tasks: dict[str, Task], now: datetime) -> list[Any]:
    """The engine's step; a task that moved queue takes the priority it has now (a step may have raised it)
    with it, so the next dispatch, which rebuilds the engine from the rows, serves it the same way."""
    decisions = router.step(_ts(now))
    for d in decisions:
        if _moves_queue(d):
            with contextlib.suppress(engine.EngineError):  # it may have left in the same step (max wait)
                tasks[d.task_id].priority = router.task(d.task_id).priority
    return decisions


def _moves_queue(d: Any) -> bool:
    """An overflow decision that moves its task to another queue (one that only widens the pool leaves no row)."""
    return isinstance(d, engine.Overflowed) and d.to_queue != d.from_queue


def _room_for(cut: set[str], router: engine.Router) -> bool:
    """After a step, an agent still has room on a channel whose tasks were not all loaded."""
    return bool(cut) and any(router.free_channels(a) & cut for a in router.agent_ids())


def _unserved(router: engine.Router, decisions: list[Any], tasks: dict[str, Task]) -> bool:
    """Some task that could be offered (not held in a closed queue) got no offer in this step."""
    offered = {d.task_id for d in decisions if isinstance(d, engine.Offer)}
    return any(t not in offered and _waiting_open(router, t) for t in tasks)


def _waiting_open(router: engine.Router, task_id: str) -> bool:
    try:
        info = router.task(task_id)
    except engine.EngineError:
        return False  # it left the router in this step (overflow out, max wait)
    return info.status == engine.TaskStatus.WAITING and not info.held


def _still_free(offers: list[Any], loads: Loads) -> list[Any]:
    """Lock the offered agents (pk order) and keep the offers of those whose state the engine saw is
    still true: routable, and no more load than was loaded (less only frees capacity)."""
    ids = {int(o.agent_id) for o in offers}
    locked = lock_agents(ids)
    assigned, pending = _loads(sorted(ids))
    fine = set()
    for agent_id in ids:
        p = locked.get(agent_id)
        now_load = assigned[agent_id] + pending[agent_id]
        seen = loads.get(agent_id, Counter())
        if p is not None and p.presence in ROUTABLE and not p.not_responding and \
                all(n <= seen[c] for c, n in now_load.items()):
            fine.add(agent_id)
        else:
            log.info("agent %s changed while dispatching: offers withdrawn before they were made", agent_id)
    return [o for o in offers if int(o.agent_id) in fine]


def _restore_exclusions(router: engine.Router, t: Task, now: datetime) -> None:
    """Agents who declined (or handed over) the task are excluded again: replay offer + decline."""
    for agent_id in t.excluded_agents or []:
        try:
            router.restore_offer(str(t.pk), str(agent_id), _ts(now) + 3600.0)
            router.decline(str(t.pk), str(agent_id), _ts(now))
        except engine.EngineError:
            continue  # not loaded or not free: it cannot be offered this task in this step anyway


# --- persisting decisions --------------------------------------------------------------------------

def _persist(tenant_id: int, decisions: list[Any], tasks: dict[str, Task], loads: Loads,
             now: datetime) -> list[Reservation]:
    offers = [d for d in decisions if isinstance(d, engine.Offer)]
    for d in decisions:
        if _moves_queue(d):
            task = tasks[d.task_id]
            task.queue_id, task.stage_started_at = int(d.to_queue), now
            task.save(update_fields=["queue", "stage_started_at", "priority"])
            task_event(task, "task.overflowed", None, from_queue_id=int(d.from_queue), to_queue_id=int(d.to_queue),
                       step=d.step)
        elif isinstance(d, engine.MaxWaitExceeded):
            task = tasks[d.task_id]
            task.status, task.ended_at = TaskStatus.CANCELLED, now
            task.attributes = {**task.attributes, "ended_reason": "max_wait"}
            task.save(update_fields=["status", "ended_at", "attributes"])
            task_event(task, "task.max_wait", None, waited_seconds=round(d.waited_s, 3))
    if offers and connection.vendor != "sqlite":  # SQLite: BEGIN IMMEDIATE already made this the only writer
        offers = _still_free(offers, loads)
    if not offers:
        return []
    # Plain writes: one set per offer. The one-active-reservation-per-task constraint still guards the insert.
    rows = [fastsql.insert(Reservation(tenant_id=tenant_id, task_id=int(o.task_id), agent_id=int(o.agent_id),
                                       offered_at=now, expires_at=_dt(o.expires_at))) for o in offers]
    task_ids, agent_ids = [int(o.task_id) for o in offers], [int(o.agent_id) for o in offers]
    fastsql.execute(f"UPDATE {fastsql.table(Task)} SET status = %s WHERE id IN ({fastsql.placeholders(len(task_ids))})",  # noqa: S608
                    [TaskStatus.RESERVED, *task_ids])
    fastsql.execute(f"UPDATE {fastsql.table(AgentProfile)} SET last_offer_at = %s "  # noqa: S608
                    f"WHERE user_id IN ({fastsql.placeholders(len(agent_ids))})", [fastsql.dt(now), *agent_ids])
    for res in rows:
        task = tasks[str(res.task_id)]
        task.status = TaskStatus.RESERVED
        task_event(task, "task.offered", None, reservation_id=res.pk, agent_id=res.agent_id,
                   expires_at=res.expires_at.isoformat())
        publish_offer(res, task)
    return rows


# --- entry points ---------------------------------------------------------------------------------

@cache
def _work_sql() -> str:
    res, prof, task, member = (fastsql.table(m) for m in (Reservation, AgentProfile, Task, Membership))
    pending, wrap_up = fastsql.literals(ReservationStatus.PENDING), fastsql.literals(PresenceState.WRAP_UP)
    rang = f"SELECT 1 FROM {res} r WHERE r.tenant_id = %s AND r.status = {pending} AND r.expires_at <= %s"  # noqa: S608
    member_here = (f"SELECT 1 FROM {member} m WHERE m.user_id = p.user_id AND m.tenant_id = %s "  # noqa: S608
                   f"AND m.role IN ({fastsql.literals(*ROUTING_ROLES)})")
    wrapped = f"SELECT 1 FROM {prof} p WHERE p.presence = {wrap_up} AND p.wrapup_until <= %s AND EXISTS({member_here})"  # noqa: S608
    waiting = f"SELECT 1 FROM {task} t WHERE t.tenant_id = %s AND t.status = {fastsql.literals(TaskStatus.QUEUED)}"  # noqa: S608
    return f"SELECT EXISTS({rang}), EXISTS({wrapped}), EXISTS({waiting})"


def _work(tenant_id: int, now: datetime) -> tuple[bool, bool]:
    """(a timer is due, a task waits) for the tenant: the conditions of _due_agents and _offer in one
    plain read (this runs after every change, so it skips the ORM's query building)."""
    at = fastsql.dt(now)
    row = fastsql.fetch_one(_work_sql(), [tenant_id, at, at, tenant_id, tenant_id])
    assert row is not None
    rang, wrapped, waits = row
    return bool(rang or wrapped), bool(waits)


def _run_timers(tenant_id: int, now: datetime) -> int:
    """Ring-no-answer and wrap-up ends of this tenant (one is due); returns how many offers expired."""
    with events.atomic():
        lock_tenant(tenant_id)
        profiles = lock_agents(_due_agents(tenant_id, now))  # re-read under the lock
        expired = _expire_due(tenant_id, now, profiles)
        _end_due_wrapups(profiles, now)
        _queue_stats_soon(tenant_id)
    return expired


def _offer(tenant_id: int, now: datetime, locked: Callable[[], None]) -> list[Reservation]:
    """Offer the waiting tasks (some wait); a task added meanwhile is dispatched by whoever adds it."""
    with events.atomic():
        lock_tenant(tenant_id)
        locked()
        decisions, tasks, loads = _step(tenant_id, now)
        offers = _persist(tenant_id, decisions, tasks, loads, now)
        if decisions:
            _queue_stats_soon(tenant_id)
    return offers


def _nothing() -> None:
    pass


def _dispatch(tenant_id: int, now: datetime, *, locked: Callable[[], None] = _nothing) -> tuple[list[Reservation], int]:
    """``locked`` is called when the offers' pass has taken the tenant's lock: what was committed before it is
    read by that pass (the timers' pass offers nothing, so it does not count)."""
    due, waits = _work(tenant_id, now)  # nothing due and nothing waiting (most calls): one read, no transaction
    expired = _run_timers(tenant_id, now) if due else 0
    # An expired offer puts its task back in the queue: then something waits even if nothing did before.
    return (_offer(tenant_id, now, locked) if waits or expired else []), expired


def dispatch(tenant: Any, *, now: datetime | None = None) -> list[Reservation]:
    """Offer the tenant's waiting tasks to free qualified agents (serialised per tenant)."""
    offers, _expired = _dispatch(tenant_id_of(tenant), now or timezone.now())
    return offers


@dataclass
class _Gate:
    """One process's requests to dispatch a tenant after a change, and the pass that serves them."""
    mutex: threading.Lock = field(default_factory=threading.Lock)
    asked: int = 0  # requests so far
    seen: int = 0  # requests whose changes the running (or last) pass reads: committed before it took the lock
    running: bool = False


_gates: dict[int, _Gate] = {}
_gates_mutex = threading.Lock()


def _gate(tenant_id: int) -> _Gate:
    with _gates_mutex:
        return _gates.setdefault(tenant_id, _Gate())


def dispatch_after_commit(tenant_id: int) -> None:
    """Dispatch the tenant after a committed change, sharing passes between this process's threads.

    Under load every change asked for its own pass, and the passes queued on the tenant's lock: at 50 calls/s
    the lock was held ~85% of the time (docs/operations.md "Eighth pass"). A request that comes while another
    thread's pass waits for the lock (or runs) is left to that thread: it runs one more pass unless its last
    one took the lock after the request (then that pass read the change, committed before it asked)."""
    gate = _gate(tenant_id)
    with gate.mutex:
        gate.asked += 1
        if gate.running:
            return
        gate.running = True

    def locked() -> None:
        with gate.mutex:
            gate.seen = gate.asked

    try:
        while True:
            locked()  # a pass that finds nothing to do takes no lock: its first read sees these already
            _dispatch(tenant_id, timezone.now(), locked=locked)
            with gate.mutex:
                if gate.seen >= gate.asked:
                    gate.running = False
                    return
    except BaseException:
        with gate.mutex:  # the requests it held are the periodic tick's now (as after any failed dispatch)
            gate.running = False
        raise


def expire_reservations(now: datetime | None = None) -> int:
    """Ring-no-answer for every tenant: due offers expire and their tasks go to the next agent."""
    now = now or timezone.now()
    tenant_ids = sorted(set(Reservation.objects.filter(status=ReservationStatus.PENDING, expires_at__lte=now)
                            .values_list("tenant_id", flat=True).order_by()))
    return sum(_dispatch(t, now)[1] for t in tenant_ids)


def finish_due_wrapups(now: datetime | None = None) -> int:
    """End every after-call-work timer that ran out (also done lazily by each dispatch)."""
    now = now or timezone.now()
    due = list(AgentProfile.objects.filter(presence=PresenceState.WRAP_UP, wrapup_until__lte=now)
               .values_list("user_id", flat=True))
    done = 0
    for user_id in due:
        with transaction.atomic():
            profile = lock_agents([user_id]).get(user_id)
            if profile and profile.presence == PresenceState.WRAP_UP and profile.wrapup_until \
                    and profile.wrapup_until <= now:
                end_wrapup(profile, now, None, agent_tenant_ids(user_id))
                done += 1
    return done


# The rules pass: overflow steps and maximum waits depend only on each task's time in its queue and on opening
# hours, not on agents, so the engine decides them for every waiting task without the tenant's lock (reading
# 10,000 waiting tasks takes 0.4-0.8 s: held under the lock, that stalled the tenant's calls for as long); only
# the tasks that move or leave are then re-read under the lock, and one that changed meanwhile (offered,
# moved, hung up) is left to the next pass. It still costs CPU, so the ticker runs one for a tenant only once
# the routing clock has moved RULES_PASS_SPACING times the last one's duration past it; every tick also
# dispatches as any change does (each line's first PER_CLASS tasks). A task deeper in a long line meets its
# overflow step or maximum wait at the next rules pass: late by at most that spacing, never missed.
RULES_PASS_SPACING = 20.0
_rules_passes: dict[int, tuple[datetime, datetime]] = {}  # tenant id -> (last rules pass, when the next may run)


def forget_rules_passes() -> None:
    """The next tick runs a rules pass for every tenant (tests: rolled-back tenants' ids come back)."""
    _rules_passes.clear()


def tick(now: datetime | None = None) -> int:
    """One pass of the timers for all tenants: expiries, wrap-ups, overflow/max wait, fresh offers."""
    now = now or timezone.now()
    finish_due_wrapups(now)
    tenant_ids = set(Task.objects.filter(status__in=(TaskStatus.QUEUED, TaskStatus.RESERVED))
                     .values_list("tenant_id", flat=True).order_by())
    for gone in _rules_passes.keys() - tenant_ids:  # nothing waits there any more: start afresh next time
        del _rules_passes[gone]
    return sum(_tick_tenant(t, now) for t in sorted(tenant_ids))


def _tick_tenant(tenant_id: int, now: datetime) -> int:
    last, due = _rules_passes.get(tenant_id, (None, None))
    if last is None or due is None or not last <= now < due:  # (a clock set back runs one at once)
        started = time.perf_counter()
        rules_pass(tenant_id, now)
        took = time.perf_counter() - started
        _rules_passes[tenant_id] = (now, now + timedelta(seconds=RULES_PASS_SPACING * took))
    return len(_dispatch(tenant_id, now)[0])


def rules_pass(tenant_id: int, now: datetime) -> int:
    """Overflow moves and maximum-wait exits due for any of the tenant's waiting tasks (see above); returns
    how many tasks moved or left."""
    queues, rows = _queues(tenant_id)
    waiting, _ = _waiting(tenant_id, rows, None)
    router, tasks, _ = _build(tenant_id, now, queues, waiting, [])  # no agents: nothing is offered
    seen = {key: _rule_state(t) for key, t in tasks.items()}
    due = [d for d in _decide(router, tasks, now) if _rule_change(d)]
    if not due:
        return 0
    with events.atomic():
        lock_tenant(tenant_id)
        fresh = _tasks_unchanged(tenant_id, {d.task_id for d in due}, seen)
        kept = [d for d in due if d.task_id in fresh]
        for d in kept:
            fresh[d.task_id].priority = tasks[d.task_id].priority  # a move takes the priority the step gave it
        _persist(tenant_id, kept, fresh, {}, now)
        if kept:
            _queue_stats_soon(tenant_id)
    return len(kept)


def _rule_change(d: Any) -> bool:
    """A decision the rules pass persists: a move to another queue, or a maximum-wait exit."""
    return _moves_queue(d) or isinstance(d, engine.MaxWaitExceeded)


def _rule_state(t: Task) -> tuple[Any, ...]:
    """What a rule decision depends on: a task that differs from this under the lock is decided again later."""
    return t.status, t.queue_id, t.stage_started_at, t.queued_at, t.priority


def _tasks_unchanged(tenant_id: int, keys: set[str], seen: dict[str, tuple[Any, ...]]) -> dict[str, Task]:
    """The tasks (locked) that are as the rules pass read them, by their engine key."""
    ids = sorted(int(k) for k in keys)
    sql = (f"SELECT {fastsql.cols(Task, 't')} FROM {fastsql.table(Task)} t WHERE t.tenant_id = %s "  # noqa: S608
           f"AND t.id IN ({fastsql.placeholders(len(ids))}) ORDER BY t.id{fastsql.for_update('t')}")
    found = (fastsql.load(Task, r) for r in fastsql.fetch(sql, [tenant_id, *ids]))
    return {str(t.pk): t for t in found if _rule_state(t) == seen.get(str(t.pk))}


def recover() -> int:
    """At start-up (after a crash or kill -9): release offers that expired while nobody was running."""
    try:
        return expire_reservations()
    except Exception:  # a fresh install without tables must still start; the error is logged
        log.exception("routing recovery failed")
        return 0
