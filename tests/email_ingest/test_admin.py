"""Mailbox admin through real requests: tenant scoping, the IMAP password write-only and encrypted."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from linia.core.models import AuditLog, Role
from linia.intake.email.actions import ingest_raw
from linia.intake.email.models import InboundEmail, Mailbox
from tests import factories as f
from tests.email_ingest.conftest import mail

pytestmark = pytest.mark.django_db


def staff_of(tenant: Any) -> Client:
    user = f.user(tenant=tenant, role=Role.CLIENT_STAFF)
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def form(**over: Any) -> dict[str, Any]:
    data = {"address": "Support@Shop.Example", "name": "Support", "queue": "", "language": "pl",
            "is_active": "on", "imap_host": "imap.shop.example", "imap_port": "993", "imap_tls": "on",
            "imap_user": "support", "imap_password": "s3cret-Pass", "imap_folder": "INBOX",
            "imap_done_folder": "Linia/Processed"}
    data.update(over)
    return data


def test_password_is_stored_encrypted_never_shown_and_kept_when_left_empty() -> None:
    tenant = f.tenant()
    client = staff_of(tenant)
    resp = client.post(reverse("admin:intake_email_mailbox_add"), form())
    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else resp
    box = Mailbox.objects.get()
    assert box.tenant == tenant and box.address == "support@shop.example"
    assert box.imap_password_encrypted and "s3cret" not in box.imap_password_encrypted
    assert box.imap_password() == "s3cret-Pass"
    page = client.get(reverse("admin:intake_email_mailbox_change", args=[box.pk])).content.decode()
    assert "s3cret" not in page and box.imap_password_encrypted not in page
    resp = client.post(reverse("admin:intake_email_mailbox_change", args=[box.pk]),
                       form(imap_password="", name="Support desk"))
    assert resp.status_code == 302
    box.refresh_from_db()
    assert box.name == "Support desk" and box.imap_password() == "s3cret-Pass"
    client.post(reverse("admin:intake_email_mailbox_change", args=[box.pk]),
                form(imap_password="", clear_imap_password="on"))
    box.refresh_from_db()
    assert box.imap_password() == "" and box.imap_password_encrypted == ""
    logged = AuditLog.objects.filter(object_type="intake_email.mailbox").values_list("changes", flat=True)
    assert any(c.get("imap_password") == ["(hidden)", "(changed)"] for c in logged)
    assert not any("s3cret" in str(c) for c in logged)


def test_other_tenants_mailboxes_and_mail_are_invisible() -> None:
    mine, theirs = f.tenant(), f.tenant()
    Mailbox.objects.create(tenant=mine, address="support@mine.example")
    other = Mailbox.objects.create(tenant=theirs, address="help@theirs.example")
    ingest_raw(mail(to="help@theirs.example"), recipients=["help@theirs.example"], source="smtp")
    client = staff_of(mine)
    listing = client.get(reverse("admin:intake_email_mailbox_changelist"))
    assert [m.address for m in listing.context["cl"].queryset] == ["support@mine.example"]
    assert client.get(reverse("admin:intake_email_mailbox_change", args=[other.pk])).status_code == 404
    inbound = InboundEmail.objects.get()
    assert client.get(reverse("admin:intake_email_inboundemail_change", args=[inbound.pk])).status_code == 404
    assert not client.get(reverse("admin:intake_email_inboundemail_changelist")).context["cl"].queryset.exists()


def test_plus_in_address_and_unknown_queue_are_form_errors() -> None:
    client = staff_of(f.tenant())
    resp = client.post(reverse("admin:intake_email_mailbox_add"), form(address="support+x@shop.example",
                                                                        queue="nope"))
    errors = resp.context["adminform"].form.errors
    assert "address" in errors and "queue" in errors
    assert not Mailbox.objects.exists()


def test_a_queue_that_cannot_take_mail_is_a_form_error() -> None:
    from django.utils import translation

    from linia.routing.models import Queue

    t = f.tenant()
    Queue.objects.create(tenant=t, code="calls", name="Calls", channels=["call"])
    Queue.objects.create(tenant=t, code="old-mail", name="Old", channels=["email"], is_active=False)
    Queue.objects.create(tenant=t, code="mail", name="Mail", channels=["email"])
    client = staff_of(t)
    for code, message in (("calls", 'does not serve the "email" channel'), ("old-mail", "is not active")):
        resp = client.post(reverse("admin:intake_email_mailbox_add"), form(address="support@shop.example", queue=code))
        assert message in resp.context["adminform"].form.errors["queue"][0]
    with translation.override("ru"):
        mailbox = Mailbox(tenant=t, address="support@shop.example", queue="calls")
        with pytest.raises(ValidationError) as raised:
            mailbox.full_clean()
        assert "не обслуживает канал" in raised.value.message_dict["queue"][0]
    assert not Mailbox.objects.exists()
    resp = client.post(reverse("admin:intake_email_mailbox_add"), form(address="support@shop.example", queue="mail"))
    assert resp.status_code == 302 and Mailbox.objects.get().queue == "mail"
