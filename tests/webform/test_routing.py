"""Routing of submissions: a form with a queue makes one "ticket" task per submission, committed with the ticket;
a refusing queue keeps the ticket and logs; the form's configuration refuses a queue that cannot take it."""

from __future__ import annotations

import logging
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation
from django.utils.datastructures import MultiValueDict

from linia.core.models import Role
from linia.intake.webform import actions as webform_actions
from linia.intake.webform.definition import parse
from linia.intake.webform.models import Submission, WebForm
from linia.intake.webform.validation import clean
from linia.routing import actions as routing
from linia.routing.models import Queue, Reservation, ReservationStatus, Task, TaskStatus
from linia.tickets.models import Event, Ticket
from tests import factories as f
from tests.routing.helpers import agent
from tests.webform.conftest import World
from tests.webform.test_definition import _admin_post

BASE = {"name": "Jan Kowalski", "consent": "on"}


def _routed(world: World, code: str = "forms", channels: list[str] | None = None) -> Queue:
    queue = Queue.objects.create(tenant=world.tenant, code=code, name="Forms",
                                 channels=channels if channels is not None else ["email", "ticket"])
    world.form.queue = code
    world.form.full_clean()
    world.form.save()
    return queue


def test_a_submission_to_a_form_with_a_queue_makes_one_ticket_task(world: World) -> None:
    queue = _routed(world)
    token = world.page()[2]
    first = world.post({**BASE, "email": "jan@example.com", "bio": "Broken"}, token=token, lang="fr")
    again = world.post({**BASE, "email": "jan@example.com", "bio": "Broken"}, token=token, lang="fr")
    assert first.status_code == again.status_code == 303
    ticket = Ticket.objects.get()
    task = Task.objects.get()  # the repeat made neither a ticket nor a task
    submission = Submission.objects.get()
    assert (task.channel, task.queue, task.ticket, task.status) == ("ticket", queue, ticket, TaskStatus.QUEUED)
    assert task.tenant_id == world.tenant.pk and ticket.language == "fr"
    assert task.language == ""  # not a working language of the queue: any of its agents may answer
    assert task.external_id == f"webform:{submission.submission_id}"
    assert task.attributes == {"reference": ticket.reference, "form": world.form.public_key,
                               "subject": ticket.subject, "language": "fr"}
    assert ticket.queue == "forms"
    assert Event.objects.filter(tenant=world.tenant, kind="task.created").count() == 1


def test_the_visitors_language_routes_where_the_queue_works_in_it(world: World) -> None:
    queue = _routed(world)
    queue.languages = ["pl", "fr"]
    queue.save()
    world.post(BASE, lang="fr")
    world.post(BASE, lang="en")
    assert sorted(Task.objects.values_list("language", "ticket__language")) == [("", "en"), ("fr", "fr")]


def test_a_form_without_a_queue_makes_no_task(world: World) -> None:
    assert world.post(BASE).status_code == 303
    assert Ticket.objects.count() == 1 and not Task.objects.exists()


def test_ticket_and_task_commit_together(world: World) -> None:
    """A failure after routing (here: the confirmation email) writes neither the ticket nor its task."""
    _routed(world)
    with mock.patch.object(webform_actions, "_queue_confirmation", side_effect=RuntimeError("smtp down")), \
            pytest.raises(RuntimeError):
        webform_actions.submit(world.form, *_checked(world), submission_id="s-1", language="en")
    assert not Ticket.objects.exists() and not Task.objects.exists() and not Submission.objects.exists()
    filed = webform_actions.submit(world.form, *_checked(world), submission_id="s-1", language="en")
    assert filed.created and Task.objects.get().ticket == filed.ticket
    repeat = webform_actions.submit(world.form, *_checked(world), submission_id="s-1", language="en")
    assert not repeat.created and repeat.ticket == filed.ticket and Task.objects.count() == 1


def _checked(world: World) -> tuple[Any, Any]:
    fields = parse(world.form.schema, world.form.ui)
    data = {**BASE, "email": "jan@example.com"}
    cleaned = clean(world.tenant, fields, world.form.ui, MultiValueDict({k: [v] for k, v in data.items()}),
                    MultiValueDict(), language="en")
    assert not cleaned.errors, cleaned.errors
    return fields, cleaned


@pytest.mark.parametrize("change", ["closed", "other_channels", "renamed"])
def test_a_refusing_queue_keeps_the_ticket_and_logs(world: World, change: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    queue = _routed(world)
    if change == "closed":
        queue.is_active = False
    elif change == "other_channels":
        queue.channels = ["email"]
    else:
        queue.code = "written"
    queue.save()
    with caplog.at_level(logging.WARNING, logger="linia.intake.webform.actions"):
        assert world.post(BASE).status_code == 303
    ticket = Ticket.objects.get()
    assert Submission.objects.get().ticket == ticket and not Task.objects.exists()
    assert any(ticket.reference in r.getMessage() and "no routing task" in r.getMessage() for r in caplog.records)
    assert world.client.get(f"/forms/{world.form.public_key}/").status_code == 200  # the form still works


def test_clean_refuses_a_queue_the_form_cannot_be_routed_to(world: World) -> None:
    Queue.objects.create(tenant=world.tenant, code="calls", name="Calls", channels=["call"])
    Queue.objects.create(tenant=world.other, code="beta-forms", name="Beta forms", channels=["ticket"])
    Queue.objects.create(tenant=world.tenant, code="forms", name="Forms", channels=["ticket"])
    Queue.objects.create(tenant=world.tenant, code="old-forms", name="Old", channels=["ticket"], is_active=False)
    for code, message in [("nope", "No routing queue with this code"), ("beta-forms", "No routing queue"),
                          ("calls", 'Queue calls does not serve the "ticket" channel'),
                          ("old-forms", "Queue old-forms is not active")]:
        world.form.queue = code
        with pytest.raises(ValidationError) as raised:
            world.form.full_clean()
        assert list(raised.value.message_dict) == ["queue"]
        assert message in raised.value.message_dict["queue"][0]
    with translation.override("pl"):
        world.form.queue = "calls"
        with pytest.raises(ValidationError) as raised:
            world.form.full_clean()
        assert 'Kolejka calls nie obsługuje kanału "ticket"' in raised.value.message_dict["queue"][0]
    for ok in ("forms", " forms ", ""):
        world.form.queue = ok
        world.form.full_clean()
        assert world.form.queue == ok.strip()


def test_admin_shows_the_queue_error_and_saves_a_routable_queue(world: World) -> None:
    Queue.objects.create(tenant=world.tenant, code="calls", name="Calls", channels=["call"])
    Queue.objects.create(tenant=world.tenant, code="forms", name="Forms", channels=["ticket"])
    boss = f.user("boss", tenant=world.tenant, role=Role.SUPERVISOR)
    boss.is_staff = True
    boss.save()
    client = Client()
    client.force_login(boss)
    url = "/admin/webform/webform/add/"
    for code, message in [("calls", "does not serve the &quot;ticket&quot; channel"),
                          ("missing", "No routing queue with this code in the tenant.")]:
        response = _admin_post(client, url, queue=code)
        assert response.status_code == 200 and message in response.content.decode()
        assert "queue" in response.context["adminform"].form.errors
    assert _admin_post(client, url, queue="forms").status_code == 302
    assert WebForm.objects.get(public_key="fb-1").queue == "forms"


def test_the_dispatcher_offers_the_form_task_to_an_agent_with_ticket_capacity(world: World) -> None:
    _routed(world, channels=["ticket"])
    busy = agent(world.tenant, idle_minutes=30, capacity={"ticket": 0})  # takes no tickets
    ready = agent(world.tenant, idle_minutes=5)
    agent(world.other, idle_minutes=60)  # another tenant's agent is never offered it
    assert world.post(BASE).status_code == 303
    task = Task.objects.get()
    offers = routing.dispatch(world.tenant)
    assert [(r.task_id, r.agent_id) for r in offers] == [(task.pk, ready.pk)]
    offer = Reservation.objects.get(task=task)
    assert offer.status == ReservationStatus.PENDING and offer.agent_id != busy.pk
    accepted = routing.accept_offer(ready, offer.pk)
    assert accepted.status == TaskStatus.ASSIGNED and accepted.ticket == Ticket.objects.get()
