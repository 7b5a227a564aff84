"""The demo's forms: fixed keys, idempotent seeding, routing to the "Email and forms" queue, and the pre-order
form files a ticket in its category that an agent is offered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.test.client import MULTIPART_CONTENT
from django.utils import timezone

from linia.core.models import Tenant
from linia.demo.contact_center import WRITTEN_NAME, WRITTEN_NAMES
from linia.demo.run import seed_demo
from linia.intake.webform.models import WebForm
from linia.routing import actions as routing
from linia.routing.models import AgentProfile, Queue, Task
from linia.tickets.models import Attachment, Ticket
from tests.webform.conftest import TOKEN_RE

KEYS = {"demo-vostok-market-preorder", "demo-vostok-market-vacancy", "demo-vostok-market-complaint",
        "demo-dyskont-pl-complaint", "demo-dyskont-pl-vacancy", "demo-maison-mode-refund",
        "demo-maison-mode-complaint", "demo-quickdrop-refund", "demo-quickdrop-vacancy"}


@pytest.fixture
def demo(db: None) -> None:
    seed_demo(small=True, tickets=0)


def _post(key: str, data: dict[str, Any], lang: str = "en") -> Any:
    client = Client()
    token = TOKEN_RE.search(client.get(f"/forms/{key}/?lang={lang}").content.decode())
    assert token
    return client.post(f"/forms/{key}/", {"_lf_token": token.group(1), "_lf_lang": lang, **data},
                       content_type=MULTIPART_CONTENT)


def test_demo_forms_have_fixed_keys_and_seed_once(demo: None, settings: Any) -> None:
    assert set(WebForm.objects.values_list("public_key", flat=True)) == KEYS
    seed_demo(small=True, tickets=0)
    assert WebForm.objects.count() == len(KEYS)
    for key in KEYS:
        assert Client().get(f"/forms/{key}/").status_code == 200


def test_demo_preorder_files_a_pizza_ticket(demo: None, settings: Any) -> None:
    settings.LINIA_WEBFORM_MIN_SECONDS = 0
    tenant = Tenant.objects.get(slug="vostok-market")
    store = tenant.store_set.filter(is_active=True).order_by("code").first()
    day = (timezone.now().astimezone(ZoneInfo(store.time_zone)) + timedelta(days=1)).date().isoformat()
    response = _post("demo-vostok-market-preorder", {
        "name": "Ирина", "phone": "+7 914 123-45-67", "email": "irina@example.com", "store_code": store.code,
        "pickup_date": day, "pickup_time": "12:00", "items.0": "1", "items.2": "2", "consent": "on"}, lang="ru")
    assert response.status_code == 303, response.content.decode()[:2000]
    ticket = Ticket.objects.get(tenant=tenant, channel="webform")
    assert ticket.category.code == "pizza" and ticket.store == store
    assert ticket.custom_fields["items"] == [{"name": "Пицца Пепперони", "qty": 1},
                                             {"name": "Пицца Четыре сыра", "qty": 2}]
    assert ticket.subject.startswith("Предзаказ пиццы")
    task = Task.objects.get(tenant=tenant)  # routed: an agent of the demo is offered it
    assert (task.channel, task.queue.code, task.ticket) == ("ticket", "email", ticket)
    profile = AgentProfile.objects.filter(user__memberships__tenant=tenant,
                                          user__memberships__role="agent").order_by("user__username").first()
    assert profile is not None
    profile.presence, profile.idle_since = "available", timezone.now()
    profile.save()
    assert [(r.task_id, r.agent_id) for r in routing.dispatch(tenant)] == [(task.pk, profile.user_id)]


def test_demo_forms_are_routed_to_the_email_and_forms_queue(demo: None) -> None:
    for form in WebForm.objects.select_related("tenant"):
        assert form.queue == "email", form.public_key
        form.full_clean()
        queue = Queue.objects.get(tenant=form.tenant, code="email")
        assert (queue.name, queue.channels) == (WRITTEN_NAMES.get(form.tenant.slug, WRITTEN_NAME), ["email", "ticket"])


def test_an_older_demo_database_gets_its_forms_routed_and_edits_are_kept(demo: None) -> None:
    # As a demo seeded before forms were routed: an email-only queue and forms without a queue.
    Queue.objects.filter(code="email").update(name="Email", channels=["email"])
    WebForm.objects.update(queue="")
    edited = Tenant.objects.get(slug="quickdrop")
    Queue.objects.filter(tenant=edited, code="email").update(name="Mail desk")  # someone's own choice
    seed_demo(small=True, tickets=0)
    for form in WebForm.objects.select_related("tenant"):
        queue = Queue.objects.get(tenant=form.tenant, code="email")
        if form.tenant == edited:
            assert (form.queue, queue.name, queue.channels) == ("", "Mail desk", ["email"])
        else:
            name = WRITTEN_NAMES.get(form.tenant.slug, WRITTEN_NAME)
            assert (form.queue, queue.name, queue.channels) == ("email", name, ["email", "ticket"])


def test_an_english_written_queue_of_an_older_demo_gets_the_tenants_language(demo: None) -> None:
    Queue.objects.filter(code="email").update(name="Email and forms")  # as demos named it before
    seed_demo(small=True, tickets=0)
    names = dict(Queue.objects.filter(code="email").values_list("tenant__slug", "name"))
    assert names == {"vostok-market": "Почта и формы", "dyskont-pl": "E-mail i formularze",
                     "maison-mode": "E-mail et formulaires", "quickdrop": "Email and forms"}


def test_demo_vacancy_with_cv(demo: None, settings: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.LINIA_WEBFORM_MIN_SECONDS = 0
    form = WebForm.objects.get(public_key="demo-dyskont-pl-vacancy")
    position = form.schema["properties"]["position"]["enum"][0]
    response = _post(form.public_key, {
        "position": position, "city": "Warszawa", "name": "Ewa Nowak", "phone": "601 234 567",
        "email": "ewa@example.com", "consent": "on",
        "cv": SimpleUploadedFile("cv.pdf", b"%PDF-1.4 cv", content_type="application/pdf")}, lang="pl")
    assert response.status_code == 303, response.content.decode()[:2000]
    ticket = Ticket.objects.get(tenant=form.tenant, channel="webform")
    assert Attachment.objects.get(message__ticket=ticket).filename == "cv.pdf"
    assert ticket.department.code == "hr"
