"""Routing (ACD) persistence: queues, agent profiles, tasks and reservations (offers).

The pure engine (linia.routing.engine) decides; these rows are the truth it is rebuilt from on every
dispatch. The database enforces what must never happen even if two processes race: two active
reservations for one task (partial unique constraint) and two active reservations for one agent on
the same task.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils.translation import gettext_lazy as _

from linia.core.models import Tenant, TenantOwned, validate_time_zone

CHANNELS = ("call", "chat", "email", "messenger", "ticket")
DEFAULT_CAPACITY = {"call": 1, "chat": 3, "email": 5, "messenger": 3, "ticket": 5}


class RoutingChannel(models.TextChoices):
    CALL = "call", _("Call")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("Email")
    MESSENGER = "messenger", _("Messenger")
    TICKET = "ticket", _("Ticket follow-up")


class Strategy(models.TextChoices):
    LONGEST_IDLE = "longest_idle", _("Longest idle")
    LEAST_OCCUPIED = "least_occupied", _("Least occupied")
    SKILL_WEIGHTED = "skill_weighted", _("Skill-level weighted")
    ROUND_ROBIN = "round_robin", _("Round robin")


class ClosedAction(models.TextChoices):
    HOLD = "hold", _("Hold: tasks wait until the queue opens")
    OVERFLOW = "overflow", _("Overflow: move tasks to another queue")


class PresenceState(models.TextChoices):
    OFFLINE = "offline", _("Offline")
    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy")
    WRAP_UP = "wrap_up", _("Wrap-up")
    BREAK = "break", _("Break")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class TaskStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RESERVED = "reserved", _("Reserved")
    ASSIGNED = "assigned", _("Assigned")
    WRAP_UP = "wrap_up", _("Wrap-up")
    COMPLETED = "completed", _("Completed")
    ABANDONED = "abandoned", _("Abandoned")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_TASK = (TaskStatus.QUEUED, TaskStatus.RESERVED, TaskStatus.ASSIGNED)


class ReservationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    RESCINDED = "rescinded", _("Rescinded")
    COMPLETED = "completed", _("Completed")


ACTIVE_RESERVATION = (ReservationStatus.PENDING, ReservationStatus.ACCEPTED)


def _default_channels() -> list[str]:
    return ["call"]


def _default_capacity() -> dict[str, int]:
    return dict(DEFAULT_CAPACITY)


class Queue(TenantOwned):
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    channels = models.JSONField(_("channels"), default=_default_channels,
                                help_text=_('e.g. ["call", "chat"]'))
    required_skills = models.JSONField(_("required skills"), default=dict, blank=True,
                                       help_text=_('{"skill": minimum level 1-10}'))
    languages = models.JSONField(_("working languages"), default=list, blank=True)
    priority = models.IntegerField(_("priority"), default=0)
    tier = models.PositiveSmallIntegerField(_("tier"), default=1, help_text=_("1 first line, 2 second line"))
    target_answer_seconds = models.PositiveIntegerField(_("target answer time T (s)"), default=20)
    strategy = models.CharField(_("strategy"), max_length=20, choices=Strategy.choices,
                                default=Strategy.LONGEST_IDLE)
    overflow = models.JSONField(_("overflow steps"), default=list, blank=True,
                                help_text=_('[{"after_s": 60, "lower_levels_by": 2, "move_to_queue": "code"}]'))
    max_wait_seconds = models.PositiveIntegerField(_("maximum wait (s)"), null=True, blank=True)
    offer_timeout_seconds = models.PositiveIntegerField(_("offer timeout (s)"), default=15)
    wrapup_seconds = models.PositiveIntegerField(_("wrap-up (s)"), default=30)
    escalation_queue = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="+", verbose_name=_("escalation queue"))
    # Weekly hours as for stores (linia.directory.hours): {"mon": ["08:00-20:00"], ...} or {"always": true};
    # empty ({}) means always open. Holidays and other dated changes in hours_exceptions.
    opening_hours = models.JSONField(_("opening hours"), default=dict, blank=True,
                                     help_text=_('Empty: always open. {"mon": ["08:00-20:00"], ..., "sun": []}'))
    hours_exceptions = models.JSONField(_("holidays and exceptions"), default=dict, blank=True,
                                        help_text=_('{"2026-12-25": [], "2026-12-24": ["08:00-14:00"]}'))
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, validators=[validate_time_zone],
                                 help_text=_("Of the opening hours; empty: the tenant's time zone."))
    closed_action = models.CharField(_("when closed"), max_length=10, choices=ClosedAction.choices,
                                     default=ClosedAction.HOLD)
    closed_overflow_queue = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                              related_name="+", verbose_name=_("overflow queue when closed"))
    # Per-channel cap on an agent's load for this queue's tasks, e.g. {"chat": 2}: an agent takes one
    # only while its load on the channel is below min(its own capacity, the cap).
    capacity = models.JSONField(_("capacity per channel"), default=dict, blank=True,
                                help_text=_('Caps the agents\' load for this queue, e.g. {"chat": 2}.'))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["tenant", "code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="routing_queue_code")]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


def intake_queue_error(tenant_id: int, code: str, channel: str) -> ValidationError | None:
    """Why the tenant's queue ``code`` cannot take what an intake (a mailbox, a web form) routes on ``channel``,
    or None. Checked when the intake is saved: such a queue would leave every item it brings unrouted."""
    queue = Queue.objects.filter(tenant_id=tenant_id, code=code).first()
    if queue is None:
        return ValidationError(_("No routing queue with this code in the tenant."), code="unknown_queue")
    if not queue.is_active:
        return ValidationError(_("Queue %(code)s is not active: activate it or choose another queue."),
                               code="queue_inactive", params={"code": code})
    if channel not in (queue.channels or []):
        return ValidationError(_('Queue %(code)s does not serve the "%(channel)s" channel: add "%(channel)s" to its '
                                 "channels or choose another queue."), code="queue_channel",
                               params={"code": code, "channel": channel})
    return None


class AgentProfile(models.Model):
    """Routing data of a user who takes contacts; the tenants served come from their memberships."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile")
    skills = models.JSONField(_("skills"), default=dict, blank=True, help_text=_('{"skill": level 1-10}'))
    languages = models.JSONField(_("languages"), default=list, blank=True)
    tier = models.PositiveSmallIntegerField(_("tier"), default=1)
    capacity = models.JSONField(_("capacity per channel"), default=_default_capacity, blank=True)
    extension = models.CharField(_("PBX extension"), max_length=32, blank=True)
    presence = models.CharField(_("presence"), max_length=12, choices=PresenceState.choices,
                                default=PresenceState.OFFLINE)
    presence_reason = models.CharField(_("presence reason"), max_length=100, blank=True)
    presence_since = models.DateTimeField(_("in this state since"), null=True, blank=True)
    not_responding = models.BooleanField(_("not responding"), default=False)
    # Longest-idle key: since becoming routable, accepting, or finishing the last task.
    idle_since = models.DateTimeField(null=True, blank=True)
    last_offer_at = models.DateTimeField(null=True, blank=True)
    wrapup_until = models.DateTimeField(_("wrap-up ends"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["extension"], condition=~Q(extension=""),
                                               name="routing_agent_extension")]
        indexes = [
            # Dispatch's longest-idle read walks this order and stops after the few it needs (it sorted every
            # routable agent before); the same expression as in routing.dispatcher._longest_idle.
            models.Index(Coalesce("idle_since", "presence_since"), "user_id", name="routing_agent_idle"),
            # "Is a wrap-up due?" runs after every routing change: the agents in wrap-up, not all of them.
            models.Index(fields=["wrapup_until"], condition=Q(presence=PresenceState.WRAP_UP), name="routing_agent_wrapup"),
        ]
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.presence})"

    def capacity_for(self, channel: str) -> int:
        value: Any = (self.capacity or {}).get(channel, DEFAULT_CAPACITY.get(channel, 1))
        return int(value) if isinstance(value, int) else DEFAULT_CAPACITY.get(channel, 1)


class Disposition(TenantOwned):
    """Wrap-up outcome code chosen by the agent (e.g. "solved", "callback")."""

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["tenant", "code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="routing_disposition_code")]
        verbose_name = _("disposition code")
        verbose_name_plural = _("disposition codes")

    def __str__(self) -> str:
        return self.name


class BreakReason(TenantOwned):
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["tenant", "code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="routing_breakreason_code")]
        verbose_name = _("break reason")
        verbose_name_plural = _("break reasons")

    def __str__(self) -> str:
        return self.name


class RoutingLock(models.Model):
    """One row per tenant locked with SELECT ... FOR UPDATE: dispatches of a tenant run one at a time."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True, related_name="+")

    def __str__(self) -> str:
        return f"routing lock {self.tenant_id}"


class Task(TenantOwned):
    channel = models.CharField(_("channel"), max_length=12, choices=RoutingChannel.choices)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("queue"))
    language = models.CharField(_("language"), max_length=8, blank=True)
    required_skills = models.JSONField(_("extra required skills"), default=dict, blank=True)
    priority = models.IntegerField(_("priority"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.QUEUED)
    queued_at = models.DateTimeField(_("queued at"))  # FIFO position, kept through transfers
    stage_started_at = models.DateTimeField(null=True, blank=True)  # entered its current queue
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="routing_tasks", verbose_name=_("assigned to"))
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="routing_tasks")
    interaction = models.ForeignKey("tickets.Interaction", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="routing_tasks")
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 (NULL: unique only when set)
    attributes = models.JSONField(default=dict, blank=True)
    excluded_agents = models.JSONField(default=list, blank=True)  # user ids who declined / transferred it
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # Chats: the first public agent reply (GLOSSARY: chat service level is over first response time).
    first_response_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    disposition = models.CharField(_("disposition"), max_length=40, blank=True)
    # The task's line: tasks with the same key wait for the same agents (queue, channel, language, skills;
    # declined tasks apart: "d|", the others "q|"). Kept by the database, so no writer can leave it stale; the
    # index over it lets a dispatch read the first few tasks of each line without sorting a whole backlog.
    line_key = models.GeneratedField(
        expression=Concat(Case(When(excluded_agents=[], then=Value("q|")), default=Value("d|")),
                          Cast("queue_id", models.TextField()), Value("|"), "channel", Value("|"), "language",
                          Value("|"), Cast("required_skills", models.TextField()), output_field=models.TextField()),
        output_field=models.TextField(), db_persist=True)

    class Meta:
        ordering = ["queued_at", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "external_id"], name="routing_task_external_id")]
        indexes = [models.Index(fields=["tenant", "status", "queued_at"], name="routing_task_waiting"),
                   models.Index(fields=["assigned_to", "status"], name="routing_task_agent"),
                   models.Index(fields=["tenant", "line_key", "-priority", "queued_at", "id"],
                                condition=Q(status="queued"), name="routing_task_line")]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk} ({self.status})"


class Reservation(TenantOwned):
    """An offer of a task to an agent, with its accept deadline."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reservations")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reservations")
    status = models.CharField(max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.PENDING)
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["offered_at", "id"]
        constraints = [models.UniqueConstraint(fields=["task"], condition=Q(status__in=["pending", "accepted"]),
                                               name="routing_one_active_reservation")]
        indexes = [models.Index(fields=["status", "expires_at"], name="routing_reservation_due"),
                   models.Index(fields=["agent", "status"], name="routing_reservation_agent")]
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")

    def __str__(self) -> str:
        return f"task {self.task_id} → {self.agent_id} ({self.status})"
