"""Each field kind through the public form page: accepted values land in the ticket, bad ones are shown next
to the field with the entered values kept."""

from __future__ import annotations

import re
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from linia.tickets.models import Attachment, ContactIdentity, Ticket
from tests.webform.conftest import World, tomorrow_at

BASE = {"name": "Jan Kowalski", "consent": "on"}


def _ticket(world: World) -> Ticket:
    return Ticket.objects.get(tenant=world.tenant)


def _error(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="f-{field}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown for {field}"
    return match.group(1)


def test_minimal_submission_files_a_webform_ticket(world: World) -> None:
    response = world.post(BASE)
    assert response.status_code == 303
    ticket = _ticket(world)
    assert ticket.channel == "webform" and ticket.subject == "Request from Jan Kowalski"
    assert ticket.custom_fields == {"name": "Jan Kowalski", "consent": True}
    assert ticket.contact is not None and ticket.contact.name == "Jan Kowalski"
    body = ticket.messages.get().body_text
    assert "Imię: Jan Kowalski" in body  # agents read labels in the tenant's language (pl)


def test_every_kind_is_stored_as_typed_values(world: World) -> None:
    day, at = tomorrow_at(world.warsaw, 12, 30)
    data = {**BASE, "bio": "Line one\nLine two", "email": " Jan@Example.COM ", "phone": "601 234 567",
            "colour": "red", "extras": ["a", "c"], "when": "2030-01-02T10:15", "count": "3", "store": "W-1",
            "pickup_date": day, "pickup_time": at, "items.0": "2", "items.1": "0", "code": "1234",
            "doc": SimpleUploadedFile("scan.pdf", b"%PDF-1.4 tiny", content_type="application/pdf")}
    response = world.post(data)
    assert response.status_code == 303, response.content.decode()[:3000]
    ticket = _ticket(world)
    assert ticket.custom_fields == {
        "name": "Jan Kowalski", "bio": "Line one\nLine two", "email": "jan@example.com", "phone": "+48601234567",
        "colour": "red", "extras": ["a", "c"], "when": "2030-01-02T10:15", "count": 3, "store": "W-1",
        "pickup_date": day, "pickup_time": at, "items": [{"name": "Margherita", "qty": 2}], "doc": "scan.pdf",
        "code": "1234", "consent": True}
    assert ticket.store == world.warsaw
    values = set(ContactIdentity.objects.filter(contact=ticket.contact).values_list("value", flat=True))
    assert values == {"jan@example.com", "+48601234567"}  # phone region from the tenant's language (pl)
    attachment = Attachment.objects.get(message__ticket=ticket)
    assert attachment.filename == "scan.pdf" and attachment.file.read() == b"%PDF-1.4 tiny"
    body = ticket.messages.get().body_text
    assert "2 × Margherita PL" in body and "W-1 Mokotów" in body and "Czerwony" in body


def test_bad_values_are_shown_next_to_their_fields_and_kept(world: World) -> None:
    data = {"name": "J", "email": "not-an-email", "phone": "12", "colour": "blue", "extras": ["a", "b", "c"],
            "when": "tomorrow", "count": "9", "store": "NOPE", "items.0": "many", "code": "12a"}
    response = world.post(data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "at least 2 characters" in _error(html, "name")
    assert "email address" in _error(html, "email")
    assert "phone number" in _error(html, "phone")
    assert "one of the options" in _error(html, "colour")
    assert "at most 2 items" in _error(html, "extras")
    assert "date and time" in _error(html, "when")
    assert "at most 5" in _error(html, "count")
    assert "store from the list" in _error(html, "store")
    assert "whole number from 0 to 5" in _error(html, "items")
    assert _error(html, "code") == "Four digits, please."  # the form's own message for its pattern
    assert "tick this box" in _error(html, "consent")
    # entered values stay, fields point at their messages
    assert 'value="not-an-email"' in html and 'value="tomorrow"' in html and 'value="many"' in html
    assert re.search(r'id="f-email"[^>]*aria-describedby="f-email-error"[^>]*aria-invalid="true"', html)
    assert 'href="#f-email"' in html  # the summary links to the field
    assert not Ticket.objects.exists()


def test_required_and_unchecked_consent(world: World) -> None:
    response = world.post({"name": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert _error(html, "name") == "This field is required."
    assert "tick this box" in _error(html, "consent")


def test_number_and_multichoice_kinds_reject_garbage(world: World) -> None:
    response = world.post({**BASE, "count": "three", "extras": ["zzz"]})
    html = response.content.decode()
    assert "whole number" in _error(html, "count")
    assert "one of the options" in _error(html, "extras")
    assert 'id="f-extras-0" name="extras" value="a">' in html  # nothing re-ticked that was not chosen


def test_radio_choice_keeps_the_selection(world: World) -> None:
    html = world.post({"colour": "green"}).content.decode()
    assert 'value="green" checked' in html


def test_store_picker_lists_only_the_forms_tenant_stores_with_hours(world: World) -> None:
    status, html, _token = world.page()
    assert status == 200
    assert 'value="W-1"' in html and 'value="V-1"' in html and "09:00–21:00" in html
    assert 'value="B-1"' not in html and "Beta Soho" not in html
    found = world.client.get(f"/forms/{world.form.public_key}/stores/?q=Soho").json()["stores"]
    assert all(s["code"] != "B-1" for s in found)
    found = world.client.get(f"/forms/{world.form.public_key}/stores/?q=Svetlanskay").json()["stores"]
    assert [s["code"] for s in found] == ["V-1"] and found[0]["time_zone"] == "Asia/Vladivostok"


def test_store_of_another_tenant_is_refused(world: World) -> None:
    response = world.post({**BASE, "store": "B-1"})
    assert response.status_code == 400
    assert "store from the list" in _error(response.content.decode(), "store")
    assert not Ticket.objects.exists()


def test_chosen_store_shows_its_hours_for_the_next_days(world: World) -> None:
    from datetime import date

    from linia.directory.models import StoreHoursException

    StoreHoursException.objects.create(tenant=world.tenant, store=world.vladivostok,
                                       date=date.fromisoformat(tomorrow_at(world.vladivostok, 0)[0]), spans=[])
    html = world.post({"store": "V-1"}, lang="ru").content.decode()  # errors elsewhere: the page comes back
    panel = re.search(r'id="f-store-hours".*?</div>', html, re.S)
    assert panel is not None
    text = panel.group(0)
    assert "Asia/Vladivostok" in text and text.count("<li>") == 7
    assert "09:00–21:00" in text and "выходной" in text  # tomorrow's exception, in the visitor's language
    data = world.client.get(f"/forms/{world.form.public_key}/stores/?code=V-1&lang=en").json()["store"]
    assert data["time_zone"] == "Asia/Vladivostok" and len(data["days"]) == 7
    assert data["days"][1]["hours"] == "closed" and data["days"][0]["hours"] == "09:00–21:00"
    assert world.client.get(f"/forms/{world.form.public_key}/stores/?code=B-1").status_code == 404  # other tenant


def test_large_chain_picker_lists_what_was_searched_for(world: World, settings: Any) -> None:
    settings.LINIA_WEBFORM_LIST_ALL_STORES_UP_TO = 1
    html = world.page()[1]
    assert 'value="W-1"' not in html and "search for your store first" in html
    assert 'name="_lf_find"' in html
    # "Find stores" without JavaScript: the matches come back, nothing is filed, no errors are shown
    response = world.post({"name": "Jan", "_lf_q_store": "Swietlanskaja", "_lf_find": "store"})
    html = response.content.decode()
    assert response.status_code == 200 and 'value="V-1"' in html and 'value="W-1"' not in html
    assert 'value="Jan"' in html and 'class="error"' not in html and not Ticket.objects.exists()
    # the chosen store stays listed when the page comes back
    html = world.post({"store": "W-1", "_lf_q_store": "Vladivostok"}).content.decode()
    assert 'value="W-1" selected' in html and 'value="V-1"' in html
    assert world.post({**BASE, "store": "W-1"}).status_code == 303


def test_round_the_clock_store_says_so(world: World) -> None:
    world.warsaw.opening_hours = {"always": True}
    world.warsaw.save()
    html = world.page(lang="ru")[1]
    assert re.search(r'value="W-1">[^<]*сегодня круглосуточно', html)
    data = world.client.get(f"/forms/{world.form.public_key}/stores/?code=W-1&lang=en").json()["store"]
    assert {d["hours"] for d in data["days"]} == {"open 24 hours"}
