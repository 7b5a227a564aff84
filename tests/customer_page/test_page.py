"""The customer's private ticket page over HTTP: what it shows, what it hides, replies, files, ratings."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from linia.tickets import actions
from linia.tickets.models import Attachment, CustomerLink, Event, Message, Rating, Status
from tests import factories
from tests.customer_page.conftest import PNG, Setup, make_setup, token_of

pytestmark = pytest.mark.django_db


def test_the_page_shows_number_subject_status_and_public_messages(client: Client, setup: Setup) -> None:
    response = client.get(setup.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert setup.ticket.reference in html
    assert "Broken fridge door" in html
    assert "Received" in html  # the status in plain words, not the desk's "New"
    assert "The fridge door in the store is broken." in html
    assert "We are sending a technician tomorrow." in html
    assert "photo.png" in html
    assert "Spar East" in html


def test_internal_notes_and_agent_only_fields_are_never_shown(client: Client, setup: Setup) -> None:
    actions.update_ticket(setup.agent, setup.ticket, priority="urgent", tags=["vip-secret-tag"], queue="q-secret")
    html = client.get(setup.url).content.decode()
    assert "SECRET" not in html
    assert "internal.txt" not in html
    for hidden in ("vip-secret-tag", "q-secret", "Urgent", "urgent", setup.agent.username):
        assert hidden not in html


def test_private_headers_on_the_page_and_the_not_found_page(client: Client, setup: Setup) -> None:
    for url in (setup.url, "/t/not-a-real-token/"):
        response = client.get(url)
        assert response["Referrer-Policy"] == "no-referrer"
        assert "noindex" in response["X-Robots-Tag"]
        assert "no-store" in response["Cache-Control"]
        assert '<meta name="robots" content="noindex' in response.content.decode()


def test_unknown_and_expired_tokens_get_the_same_friendly_404_without_ticket_data(client: Client, setup: Setup) -> None:
    unknown = client.get("/t/" + "x" * 32 + "/")
    CustomerLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.get(setup.url)
    assert unknown.status_code == expired.status_code == 404
    assert unknown.content == expired.content  # nothing tells an expired link from one that never existed
    html = expired.content.decode()
    assert "not valid or has expired" in html
    for secret in (setup.ticket.reference, "Broken fridge", "Spar East", "technician"):
        assert secret not in html


def test_a_revoked_link_is_not_found(client: Client, setup: Setup) -> None:
    CustomerLink.objects.update(revoked_at=timezone.now())
    assert client.get(setup.url).status_code == 404
    assert client.post(setup.url + "reply/", {"body": "hello"}).status_code == 404
    assert Message.objects.filter(body_text="hello").count() == 0


def test_a_reply_with_a_file_becomes_an_inbound_public_message_and_reopens_a_solved_ticket(
        client: Client) -> None:
    s = make_setup(status=Status.SOLVED)
    upload = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", content_type="application/pdf")
    response = client.post(s.url + "reply/", {"body": "It is still broken.", "files": [upload], "nonce": "n1"})
    assert response.status_code == 303
    assert response["Location"].startswith(s.url) and "done=reply" in response["Location"]
    message = Message.objects.get(ticket=s.ticket, body_text="It is still broken.")
    assert (message.kind, message.direction) == (Message.Kind.PUBLIC, Message.Direction.INBOUND)
    assert message.author_contact_id == s.ticket.contact_id and message.author_user_id is None
    assert [a.filename for a in message.attachments.all()] == ["receipt.pdf"]
    s.ticket.refresh_from_db()
    assert s.ticket.status == Status.OPEN
    assert Event.objects.filter(ticket=s.ticket, kind="ticket.status_changed",
                                data__reason="customer_reply").exists()
    assert Event.objects.filter(ticket=s.ticket, kind="message.created", data__source="ticket_page").exists()
    page = client.get(response["Location"]).content.decode()
    assert "It is still broken." in page and "receipt.pdf" in page and "your message was sent" in page


def test_a_double_submitted_form_stores_one_message(client: Client, setup: Setup) -> None:
    for _attempt in range(2):
        assert client.post(setup.url + "reply/", {"body": "Twice?", "nonce": "same-form"}).status_code == 303
    assert Message.objects.filter(ticket=setup.ticket, body_text="Twice?").count() == 1


@pytest.mark.parametrize(("data", "text"), [
    ({"body": "   "}, "Please write a message or attach a file."),
    ({"body": "virus", "files": [SimpleUploadedFile("run.exe", b"MZ", "application/octet-stream")]},
     "Files of this type are not accepted."),
])
def test_a_bad_reply_shows_an_error_and_writes_nothing(client: Client, setup: Setup, data: dict[str, object],
                                                       text: str) -> None:
    before = (Message.objects.count(), Attachment.objects.count(), Event.objects.count())
    response = client.post(setup.url + "reply/", data)
    assert response.status_code == 400
    assert text in response.content.decode()
    assert (Message.objects.count(), Attachment.objects.count(), Event.objects.count()) == before


def test_a_closed_ticket_has_no_reply_box_and_refuses_replies(client: Client) -> None:
    s = make_setup(status=Status.CLOSED)
    html = client.get(s.url).content.decode()
    assert 'name="body"' not in html and "This request is closed" in html
    response = client.post(s.url + "reply/", {"body": "Hello?"})
    assert response.status_code == 400
    assert not Message.objects.filter(body_text="Hello?").exists()


def test_rating_is_offered_and_accepted_only_once_the_ticket_is_solved(client: Client, setup: Setup) -> None:
    assert 'name="score"' not in client.get(setup.url).content.decode()
    response = client.post(setup.url + "rate/", {"score": "5"})
    assert response.status_code == 400 and "once your request is solved" in response.content.decode()
    assert not Rating.objects.exists()
    actions.change_status(setup.agent, setup.ticket, Status.SOLVED)
    assert 'name="score"' in client.get(setup.url).content.decode()
    assert client.post(setup.url + "rate/", {"score": "2", "comment": "Slow"}).status_code == 303
    assert client.post(setup.url + "rate/", {"score": "4", "comment": "Better now"}).status_code == 303  # changed
    rating = Rating.objects.get(ticket=setup.ticket)
    assert (rating.score, rating.comment, rating.source) == (4, "Better now", "ticket_page")
    assert "Your rating: 4 of 5" in client.get(setup.url).content.decode()


@pytest.mark.parametrize("score", ["0", "6", "abc", "", "4.5"])
def test_a_bad_score_is_refused(client: Client, score: str) -> None:
    s = make_setup(status=Status.SOLVED)
    response = client.post(s.url + "rate/", {"score": score})
    assert response.status_code == 400
    assert "Choose from 1 to 5 stars." in response.content.decode()
    assert not Rating.objects.exists()


def test_posts_need_the_csrf_token(setup: Setup) -> None:
    strict = Client(enforce_csrf_checks=True)
    page = strict.get(setup.url)
    token = page.context["csrf_token"]
    assert strict.post(setup.url + "reply/", {"body": "no token"}).status_code == 403
    # Under Referrer-Policy: no-referrer the browser sends Origin: null; same-origin fetch metadata + token pass
    assert strict.post(setup.url + "reply/", {"body": "null origin, no metadata", "csrfmiddlewaretoken": str(token)},
                       HTTP_ORIGIN="null").status_code == 403
    ok = strict.post(setup.url + "reply/", {"body": "with token", "csrfmiddlewaretoken": str(token)},
                     HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="same-origin")
    assert ok.status_code == 303
    assert strict.post(setup.url + "reply/", {"body": "evil origin", "csrfmiddlewaretoken": str(token)},
                       HTTP_ORIGIN="https://evil.example").status_code == 403
    assert list(Message.objects.filter(body_text__in=["no token", "with token", "evil origin",
                                                      "null origin, no metadata"])
                .values_list("body_text", flat=True)) == ["with token"]


def test_images_open_inline_and_other_files_download_as_bytes(client: Client, setup: Setup) -> None:
    html_file = actions.add_message(setup.agent, setup.ticket, body="see file", attachments=[
        actions.NewAttachment("page.html", b"<script>alert(1)</script>", "text/html")]).attachments.get()
    image = Attachment.objects.get(filename="photo.png")
    response = client.get(f"{setup.url}files/{image.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG  # type: ignore[attr-defined]
    assert response["Content-Disposition"].startswith("inline")
    response = client.get(f"{setup.url}files/{html_file.pk}/")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_an_internal_notes_file_cannot_be_downloaded(client: Client, setup: Setup) -> None:
    secret = setup.note.attachments.get()
    response = client.get(f"{setup.url}files/{secret.pk}/")
    assert response.status_code == 404 and b"secret file" not in response.content


def test_a_token_of_one_ticket_cannot_download_another_tickets_file(client: Client, setup: Setup) -> None:
    other = actions.create_ticket(None, setup.tenant, subject="Other", channel="webform", body="x",
                                  attachments=[actions.NewAttachment("other.png", PNG, "image/png")])
    foreign = make_setup()  # another tenant
    for attachment in (Attachment.objects.get(message__ticket=other),
                       Attachment.objects.get(message__ticket=foreign.ticket, filename="photo.png")):
        assert client.get(f"{setup.url}files/{attachment.pk}/").status_code == 404
    assert "Other" not in client.get(setup.url).content.decode()


def test_a_link_shows_only_its_own_tenants_ticket(client: Client, setup: Setup) -> None:
    foreign = make_setup()
    actions.add_message(foreign.agent, foreign.ticket, body="Foreign tenant reply")
    assert "Foreign tenant reply" not in client.get(setup.url).content.decode()
    assert "Foreign tenant reply" in client.get(foreign.url).content.decode()


def test_customer_text_is_escaped(client: Client) -> None:
    tenant = factories.tenant()
    ticket = actions.create_ticket(None, tenant, subject='<img src=x onerror="alert(1)">', channel="webform",
                                   body="<script>alert('xss')</script>",
                                   attachments=[actions.NewAttachment('"><svg onload=alert(2)>.png', PNG, "image/png")])
    url = "/t/" + token_of(actions.issue_customer_link(ticket)) + "/"
    client.post(url + "reply/", {"body": "<b onmouseover=alert(3)>hi</b>"})
    html = client.get(url).content.decode()
    assert "<script>alert(" not in html and "<img src=x" not in html and "<svg onload" not in html
    assert "<b onmouseover" not in html
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in html
    assert "&lt;b onmouseover=alert(3)&gt;hi&lt;/b&gt;" in html


def test_dates_are_in_the_stores_time_zone(client: Client, setup: Setup) -> None:
    store = factories.store(setup.tenant, time_zone="Asia/Vladivostok")
    actions.update_ticket(setup.agent, setup.ticket, store=store.pk)
    html = client.get(setup.url).content.decode()
    assert "Asia/Vladivostok" in html
    created = setup.ticket.created_at.astimezone(ZoneInfo("Asia/Vladivostok"))
    assert created.utcoffset() == timedelta(hours=10)
    assert f'datetime="{created.isoformat()}"' in html


def test_a_merged_tickets_link_follows_it(client: Client, setup: Setup) -> None:
    target = actions.create_ticket(None, setup.tenant, subject="Kept ticket", channel="webform", body="kept")
    actions.merge_tickets(setup.agent, setup.ticket, target)
    html = client.get(setup.url).content.decode()
    assert target.reference in html and "We are sending a technician tomorrow." in html


def test_opening_the_page_remembers_when_the_link_was_used(client: Client, setup: Setup) -> None:
    assert CustomerLink.objects.get().last_used_at is None
    client.get(setup.url)
    assert CustomerLink.objects.get().last_used_at is not None


def _queries_of(client: Client, url: str) -> int:
    from django.db import connection

    count = 0

    def counting(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        assert client.get(url).status_code == 200
    return count


def test_the_page_reads_a_fixed_number_of_queries_however_long_the_thread(client: Client, setup: Setup) -> None:
    client.get(setup.url)  # the link's last_used_at is written once a minute at most
    before = _queries_of(client, setup.url)
    for n in range(15):
        actions.add_message(setup.agent, setup.ticket, body=f"update {n}",
                            attachments=[actions.NewAttachment(f"f{n}.png", PNG, "image/png")])
    assert _queries_of(client, setup.url) == before <= 4


def test_nul_characters_never_reach_the_database(client: Client) -> None:
    s = make_setup(status=Status.SOLVED)
    upload = SimpleUploadedFile("a\x00b.txt", b"data", content_type="text/plain")
    assert client.post(s.url + "reply/", {"body": "nul\x00here", "files": [upload]}).status_code == 303
    message = Message.objects.get(ticket=s.ticket, body_text="nulhere")
    assert "\x00" not in message.attachments.get().filename
    actions.change_status(s.agent, s.ticket, Status.SOLVED)
    assert client.post(s.url + "rate/", {"score": "3", "comment": "ok\x00"}).status_code == 303
    assert Rating.objects.get().comment == "ok"
