"""Filing: one ticket per submission id, nothing written on errors, the confirmation with the private link and
the email, file limits, embedding headers, languages, tenant isolation and escaping."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from linia.core.models import Role
from linia.dispatch.models import OutboundEmail
from linia.intake.webform.models import Submission
from linia.tickets.models import Attachment, Contact, CustomerLink, Event, Ticket
from tests import factories as f
from tests.webform.conftest import World, make_form

BASE = {"name": "Jan Kowalski", "consent": "on"}


def test_double_submit_files_one_ticket(world: World) -> None:
    token = world.page()[2]
    first = world.post({**BASE, "email": "jan@example.com"}, token=token)
    second = world.post({**BASE, "email": "jan@example.com"}, token=token)
    assert first.status_code == second.status_code == 303
    assert Ticket.objects.count() == 1 and Submission.objects.count() == 1
    assert OutboundEmail.objects.count() == 1  # the email went once
    for response in (first, second):
        page = world.client.get(response["Location"])
        assert Ticket.objects.get().reference in page.content.decode()


def test_confirmation_shows_number_and_a_working_private_link(world: World) -> None:
    response = world.post({**BASE, "email": "jan@example.com"}, lang="pl")
    page = world.client.get(response["Location"])
    html = page.content.decode()
    ticket = Ticket.objects.get()
    assert page.status_code == 200 and ticket.reference in html and 'lang="pl"' in html
    assert "Dziękujemy" in html
    link = re.search(r'id="lf-link" href="([^"]+)"', html)
    assert link is not None
    path = link.group(1).split("localhost:8000", 1)[-1]
    assert Client().get(path).status_code == 200  # the customer's ticket page
    assert CustomerLink.objects.filter(ticket=ticket).count() == 1
    assert page["Referrer-Policy"] == "no-referrer"


def test_email_with_number_and_link_in_the_visitors_language(world: World) -> None:
    world.post({**BASE, "email": "Jan@Example.com"}, lang="fr")
    mail = OutboundEmail.objects.get()
    ticket = Ticket.objects.get()
    assert mail.to == ["jan@example.com"] and mail.ticket == ticket and mail.kind == "ack"
    assert ticket.reference in mail.subject and "Nous avons reçu votre demande" in mail.subject
    assert "/t/" in mail.body_text and ticket.reference in mail.body_text
    assert ticket.language == "fr"


def test_no_email_without_an_address(world: World) -> None:
    world.post(BASE)
    assert Ticket.objects.count() == 1 and not OutboundEmail.objects.exists()


def test_category_rules_refusing_the_values_write_nothing(world: World) -> None:
    category = f.category(world.tenant, "strict", field_schema={
        "type": "object", "properties": {"code": {"type": "string", "pattern": "^9"}}, "required": ["code"]})
    world.form.category = category
    world.form.save()
    response = world.post({**BASE, "email": "jan@example.com", "code": "1234",
                           "doc": SimpleUploadedFile("a.pdf", b"%PDF", content_type="application/pdf")})
    assert response.status_code == 400
    assert 'id="f-code-error"' in response.content.decode()
    assert not Ticket.objects.exists() and not Contact.objects.exists() and not Attachment.objects.exists()
    assert not Submission.objects.exists() and not OutboundEmail.objects.exists()
    assert not Event.objects.filter(tenant=world.tenant).exists()


@pytest.mark.parametrize(("name", "data", "message"), [
    ("big.pdf", b"x" * 20_000, "too large"),
    ("notes.txt", b"hello", "type .pdf"),
    ("setup.exe", b"MZ", "not accepted"),
])
def test_file_limits(world: World, name: str, data: bytes, message: str) -> None:
    response = world.post({**BASE, "doc": SimpleUploadedFile(name, data)})
    assert response.status_code == 400
    assert message in re.search(r'id="f-doc-error">(.*?)</p>', response.content.decode(), re.S).group(1)
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_a_good_file_with_another_error_asks_to_choose_it_again(world: World) -> None:
    response = world.post({"name": "", "consent": "on", "doc": SimpleUploadedFile("a.png", b"\x89PNG")})
    assert "choose the file again" in response.content.decode()


def test_iframe_headers_allow_only_the_forms_origins(world: World) -> None:
    response = world.client.get(f"/forms/{world.form.public_key}/?embed=1")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    csp = response["Content-Security-Policy"]
    assert csp.endswith("; frame-ancestors 'self' https://shop.example.com")
    assert "script-src 'self';" in csp and "form-action 'self'" in csp
    assert 'class="embed"' in response.content.decode()
    # other pages keep the site-wide SAMEORIGIN
    assert Client().get("/accounts/login/")["X-Frame-Options"] == "SAMEORIGIN"
    world.form.allowed_origins = ["https://ok.example", "javascript:alert(1)", "https://x.example; script-src *"]
    world.form.save()
    csp = world.client.get(f"/forms/{world.form.public_key}/")["Content-Security-Policy"]
    assert csp.endswith("; frame-ancestors 'self' https://ok.example")


def test_inactive_unknown_and_foreign_keys(world: World) -> None:
    assert world.client.get("/forms/nope/").status_code == 404
    world.form.is_active = False
    world.form.save()
    assert world.client.get(f"/forms/{world.form.public_key}/").status_code == 404


def test_a_form_of_tenant_a_never_files_into_b(world: World) -> None:
    assert world.post(BASE).status_code == 303
    assert world.post(BASE, key=world.foreign_form.public_key).status_code == 303
    assert Ticket.objects.filter(tenant=world.tenant).count() == 1
    assert Ticket.objects.filter(tenant=world.other).count() == 1
    mine = Ticket.objects.get(tenant=world.tenant)
    assert mine.contact.tenant_id == world.tenant.pk and mine.reference.startswith("ALF")
    # a confirmation of A's ticket cannot be read through B's form
    location = world.post({**BASE, "name": "Other"})["Location"]
    swapped = location.replace(world.form.public_key, world.foreign_form.public_key)
    assert world.client.get(swapped).status_code == 404


@pytest.mark.parametrize(("lang", "required", "email"), [
    # Another app's catalog may translate the same English message first (Django takes the first app's).
    ("ru", ("Это поле обязательно.", "Обязательное поле."), "адрес электронной почты"),
    ("pl", ("To pole jest wymagane.", "Pole wymagane."), "adres e-mail"),
    ("fr", ("Ce champ est obligatoire.", "Champ obligatoire."), "adresse e-mail"),
])
def test_errors_in_the_visitors_language(world: World, lang: str, required: tuple[str, ...], email: str) -> None:
    response = world.post({"name": "", "email": "nope"}, lang=lang)
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    shown = re.search(r'id="f-name-error">(.*?)</p>', html, re.S)
    assert shown is not None and shown.group(1) in required
    assert email in html


def test_language_from_accept_language(world: World) -> None:
    _status, html, _token = world.page(lang="", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
    assert '<html lang="fr">' in html and "Envoyer" in html
    _status, html, _token = world.page(lang="")  # no preference: the tenant's language
    assert '<html lang="pl">' in html and "Pełny formularz" in html


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_xss_in_every_field_is_escaped_on_confirmation_and_in_the_desk(world: World) -> None:
    data: dict[str, Any] = {"name": XSS, "bio": XSS, "consent": "on", "code": "1234",
                            "doc": SimpleUploadedFile(f'{XSS}.pdf', b"%PDF")}
    world.form.subject = "{name} {bio}"
    world.form.save()
    response = world.post(data)
    assert response.status_code == 303
    page = world.client.get(response["Location"]).content.decode()
    assert "<script>alert" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    ticket = Ticket.objects.get()
    agent = f.user("agent-a", tenant=world.tenant, role=Role.SUPERVISOR)
    desk = Client()
    desk.force_login(agent)
    html = desk.get(f"/tickets/{ticket.pk}/").content.decode()
    assert ticket.reference in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert" in html
    # errors re-rendering the typed XSS escape it too
    html = world.post({"name": XSS, "email": XSS}).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_xss_in_form_texts_is_escaped(world: World) -> None:
    other = make_form(world.tenant, "alfa-xss", titles={"en": XSS}, intros={"en": XSS},
                      ui={"fields": {"name": {"label": {"en": XSS}, "help": {"en": XSS}}}})
    html = world.client.get(f"/forms/{other.public_key}/?lang=en").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html


def test_confirmation_emails_to_one_address_are_limited(world: World) -> None:
    for n in range(7):
        assert world.post({**BASE, "email": "victim@example.com", "bio": f"try {n}"}).status_code == 303
    assert Ticket.objects.count() == 7  # every request is filed ...
    assert OutboundEmail.objects.filter(recipient="victim@example.com").count() == 5  # ... not every email sent
    assert Event.objects.filter(kind="email.ack_suppressed").count() == 2


def test_store_in_another_time_zone_says_which(world: World) -> None:
    html = world.page()[1]
    assert re.search(r'value="V-1">[^<]*\(Asia/Vladivostok\)', html)
    assert not re.search(r'value="W-1">[^<]*\(Europe/Warsaw\)', html)  # the tenant's own zone goes unsaid
