"""Store staff: report a fault, follow it, add information, confirm the fix or reopen it."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from linia.tickets import actions
from linia.tickets.models import Attachment, Channel, Event, Message, Status, Ticket
from tests.portal.conftest import JPEG, PNG, World


def _report(client, **overrides):
    data = {"kind": "equipment", "asset": "Lada chłodnicza CH-000123", "description": "Fridge at +11°C",
            "urgency": "urgent"}
    data.update(overrides)
    return client.post("/portal/report/", data)


def test_report_creates_a_portal_ticket_for_the_store_routed_to_its_region(world: World) -> None:
    client = world.login(world.store_user)
    page = client.get("/portal/report/")
    assert page.status_code == 200 and b'name="photos"' in page.content
    photos = [SimpleUploadedFile("a.jpg", JPEG, "image/jpeg"), SimpleUploadedFile("b.png", PNG, "image/png")]
    response = _report(client, photos=photos)
    ticket = Ticket.objects.get(tenant=world.tenant, subject__contains="CH-000123")
    assert response.status_code == 302 and response["Location"] == f"/portal/tickets/{ticket.pk}/"
    assert ticket.channel == Channel.PORTAL and ticket.store == world.store and ticket.priority == "urgent"
    assert ticket.category == world.category and ticket.department == world.region_dept
    assert ticket.created_by == world.store_user
    assert ticket.custom_fields == {"fault_kind": "equipment", "asset": "Lada chłodnicza CH-000123",
                                    "urgency": "urgent"}
    first = ticket.messages.get()
    assert (first.direction, first.kind, first.author_user) == ("inbound", "public", world.store_user)
    assert sorted(first.attachments.values_list("filename", flat=True)) == ["a.jpg", "b.png"]
    detail = client.get(response["Location"])
    assert b"Fridge at +11" in detail.content and b"a.jpg" in detail.content


def test_store_without_regional_department_uses_the_category_department(world: World) -> None:
    client = world.login(world.store2_user)
    _report(client, kind="building", urgency="normal")
    ticket = Ticket.objects.filter(tenant=world.tenant, store=world.store2, channel="portal").order_by("-id").first()
    assert ticket is not None and ticket.category.code == "fault-building"
    assert ticket.department == world.hq_dept


def _counts() -> tuple[int, int, int, int]:
    return Ticket.objects.count(), Message.objects.count(), Attachment.objects.count(), Event.objects.count()


@override_settings(LINIA_PORTAL_MAX_PHOTOS=2, LINIA_PORTAL_PHOTO_MAX_BYTES=1000)
def test_bad_reports_show_errors_and_write_nothing(world: World) -> None:
    client = world.login(world.store_user)
    before = _counts()
    cases = [
        ({"description": "   "}, b"Describe the fault."),
        ({"kind": "spaceship"}, b"Choose what is broken."),
        ({"urgency": "yesterday"}, b"Choose how urgent it is."),
        ({"photos": [SimpleUploadedFile(f"{i}.png", PNG, "image/png") for i in range(3)]}, b"At most 2 photos."),
        ({"photos": [SimpleUploadedFile("big.jpg", JPEG + b"\0" * 2000, "image/jpeg")]}, b"big.jpg is larger than"),
        ({"photos": [SimpleUploadedFile("evil.png", b"<html><script>x</script>", "image/png")]},
         b"evil.png is not a photo"),
        ({"description": "x" * 5001}, b"At most 5000 characters."),
    ]
    for overrides, text in cases:
        response = _report(client, **overrides)
        assert response.status_code == 400, overrides
        assert text in response.content, (overrides, response.content[:3000])
        assert response.content.count(b"<li>") == 1, overrides  # one error, nothing about unread files
        assert b'role="alert"' in response.content
    assert _counts() == before


def test_category_schema_errors_are_shown_at_the_asset_field(world: World) -> None:
    world.category.field_schema = {"type": "object", "required": ["asset_number"],
                                   "properties": {"asset_number": {"type": "string", "pattern": r"^[A-Z]{2}-\d{6}$"}}}
    world.category.save()
    world.tenant.settings = {"portal": {"field_map": {"asset": "asset_number"}}}
    world.tenant.save()
    client = world.login(world.store_user)
    before = _counts()
    response = _report(client, asset="fridge")
    assert response.status_code == 400 and b"Not accepted for this kind of fault" in response.content
    assert b'id="err-asset"' in response.content and _counts() == before
    assert _report(client, asset="CH-000123").status_code == 302
    assert Ticket.objects.get(subject__contains="CH-000123").custom_fields["asset_number"] == "CH-000123"


def test_xss_in_report_fields_is_escaped(world: World) -> None:
    client = world.login(world.store_user)
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    response = _report(client, asset=evil, description=evil)
    ticket = Ticket.objects.get(tenant=world.tenant, store=world.store)
    for url in (response["Location"], "/portal/tickets/", f"/tickets/{ticket.pk}/"):
        user = world.agent if url.startswith("/tickets/") else world.store_user
        page = world.login(user).get(url)
        assert page.status_code == 200
        assert b"<script>alert" not in page.content and b"<img src=x" not in page.content
        assert b"&lt;script&gt;" in page.content
    # the form shown again after an error escapes the values too
    again = _report(client, asset=evil, description="", urgency="urgent")
    assert again.status_code == 400 and b"<script>alert" not in again.content


def _solved_ticket(world: World) -> Ticket:
    ticket = actions.create_ticket(world.store_user, world.tenant, subject="Door", channel="portal", body="stuck",
                                   store=world.store)
    actions.add_message(world.agent, ticket, body="Fixed the door sensor.")
    return actions.change_status(world.agent, ticket, Status.SOLVED)


def test_confirm_fix_closes_the_ticket(world: World) -> None:
    ticket = _solved_ticket(world)
    client = world.login(world.store_user)
    page = client.get(f"/portal/tickets/{ticket.pk}/")
    assert b"Fixed the door sensor." in page.content and b'id="confirm-fix"' in page.content
    assert client.post(f"/portal/tickets/{ticket.pk}/confirm/").status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.closed_at is not None
    assert Event.objects.filter(ticket=ticket, kind="ticket.fix_confirmed", actor=world.store_user).exists()
    again = client.post(f"/portal/tickets/{ticket.pk}/confirm/")
    assert again.status_code == 400 and b"not solved" in again.content


def test_reopen_needs_a_reason_and_opens_the_ticket(world: World) -> None:
    ticket = _solved_ticket(world)
    client = world.login(world.store_user)
    before = _counts()
    empty = client.post(f"/portal/tickets/{ticket.pk}/reopen/", {"reason": "  "})
    assert empty.status_code == 400 and b"why the fault is not fixed" in empty.content and _counts() == before
    ok = client.post(f"/portal/tickets/{ticket.pk}/reopen/", {"reason": "Still beeping at night",
                                                             "files": SimpleUploadedFile("v.png", PNG, "image/png")})
    assert ok.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.solved_at is None
    last = ticket.messages.order_by("-id").first()
    assert last.body_text == "Still beeping at night" and last.direction == "inbound" and last.channel == "portal"
    assert last.attachments.count() == 1
    desk = world.login(world.agent).get(f"/tickets/{ticket.pk}/")
    assert b"Still beeping at night" in desk.content and b"DP0001" in desk.content


def test_adding_information_answers_a_pending_customer_ticket(world: World) -> None:
    ticket = actions.create_ticket(world.store_user, world.tenant, subject="Till", channel="portal", body="no print",
                                   store=world.store)
    actions.change_status(world.agent, ticket, Status.PENDING_CUSTOMER)
    client = world.login(world.store_user)
    assert client.post(f"/portal/tickets/{ticket.pk}/message/", {"body": ""}).status_code == 400
    response = client.post(f"/portal/tickets/{ticket.pk}/message/", {"body": "Till number 3, error E07"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    desk = world.login(world.agent).get(f"/tickets/{ticket.pk}/")
    assert b"Till number 3, error E07" in desk.content


def test_store_never_sees_internal_notes(world: World) -> None:
    ticket = actions.create_ticket(world.store_user, world.tenant, subject="Light", channel="portal", body="dark",
                                   store=world.store)
    note = actions.add_message(world.agent, ticket, body="Internal: vendor is slow", kind="note",
                               attachments=[actions.NewAttachment("secret.png", PNG)])
    client = world.login(world.store_user)
    page = client.get(f"/portal/tickets/{ticket.pk}/")
    assert b"vendor is slow" not in page.content and b"secret.png" not in page.content
    secret = note.attachments.get()
    assert client.get(f"/portal/tickets/{ticket.pk}/attachments/{secret.pk}/").status_code == 404


def test_pages_speak_the_user_language_and_subjects_the_tenant_language(world: World) -> None:
    for language, title, kind in (("pl", "Zgłoś usterkę techniczną", "Sprzęt"),
                                  ("ru", "Сообщить о технической неисправности", "Оборудование"),
                                  ("fr", "Signaler une panne technique", "Équipement")):
        world.store_user.language = language
        world.store_user.save()
        client = world.login(world.store_user)
        page = client.get("/portal/report/").content.decode()
        assert title in page and kind in page, language
        error = _report(client, description="").content.decode()
        assert {"pl": "Opisz usterkę.", "ru": "Опишите неисправность.", "fr": "Décrivez la panne."}[language] in error
    _report(world.login(world.store_user))  # a French-speaking user in a Polish tenant: the subject is Polish
    assert Ticket.objects.get(tenant=world.tenant, store=world.store).subject.startswith("Sprzęt")


@override_settings(LINIA_ATTACHMENT_MAX_BYTES=100)
def test_too_big_file_with_information_is_refused_whole(world: World) -> None:
    ticket = actions.create_ticket(world.store_user, world.tenant, subject="Scale", channel="portal", body="x",
                                   store=world.store)
    before = _counts()
    response = world.login(world.store_user).post(f"/portal/tickets/{ticket.pk}/message/", {
        "body": "Here is the log", "files": SimpleUploadedFile("log.txt", b"x" * 500, "text/plain")})
    assert response.status_code == 400 and b"A file is too large." in response.content
    assert b"Here is the log" in response.content  # the text is kept in the form
    assert _counts() == before


def test_desk_history_names_the_store_confirmation_and_rejection(world: World) -> None:
    ticket = _solved_ticket(world)
    client = world.login(world.store_user)
    client.post(f"/portal/tickets/{ticket.pk}/reopen/", {"reason": "Still broken"})
    actions.change_status(world.agent, ticket, Status.SOLVED)
    client.post(f"/portal/tickets/{ticket.pk}/confirm/")
    history = world.login(world.agent).get(f"/tickets/{ticket.pk}/").content.decode()
    assert "The store says the fault is not fixed" in history and "The store confirmed the fix" in history
