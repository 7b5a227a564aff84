"""The widget's HTTP endpoints: configuration, starting a chat (online and offline), files, transcript, rating."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from linia.dispatch.models import OutboundEmail
from linia.intake.chat.models import ChatMessage, ChatSession
from linia.routing.models import Task, TaskStatus
from linia.tickets.models import Interaction, Message, Rating, Ticket
from tests.chat.conftest import SHOP, Chat, start

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_config_speaks_the_visitors_language(chat: Chat) -> None:
    client = Client()
    body = client.get("/chat/api/pk_spar/config?lang=fr", HTTP_ORIGIN=SHOP).json()
    assert body["language"] == "fr" and body["open"] is True and body["next_open"] is None
    assert body["topics"][0] == {"code": "order", "label": "Ma commande"}
    assert body["topics"][1]["label"] == "Something else"  # no French label: English
    assert body["greeting"] == "Hello!"  # no French greeting: English before the channel's Russian
    ru = client.get("/chat/api/pk_spar/config", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9").json()
    assert ru["greeting"] == "Здравствуйте!" and ru["topics"][0]["label"] == "Мой заказ"
    assert body["max_message_chars"] > 0 and body["max_file_bytes"] > 0


def test_unknown_channel_is_404_in_the_visitors_language(chat: Chat) -> None:
    response = Client().get("/chat/api/nope/config?lang=pl")
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_channel" and "czat" in response.json()["message"].lower()


def test_start_creates_contact_ticket_interaction_and_routing_task(chat: Chat) -> None:
    response = start(Client(), text="Where is my order 123?")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "waiting" and body["offline"] is False and body["expected_reply"] is None
    assert body["ticket_reference"].startswith("SPR-") and len(body["token"]) > 30
    session = ChatSession.objects.get(pk=body["session_id"])
    assert session.token_hash != body["token"] and body["token"] not in str(ChatSession.objects.values().get())
    ticket = Ticket.objects.get(pk=session.ticket_id)
    assert ticket.channel == "chat" and ticket.category.code == "orders" and ticket.contact_id == session.contact_id
    assert ticket.contact.identities.get().value == "ivan@example.com"
    interaction = Interaction.objects.get(pk=session.interaction_id)
    assert interaction.channel == "chat" and interaction.ticket_id == ticket.pk
    task = Task.objects.get(pk=session.task_id)
    assert (task.channel, task.queue_id, task.ticket_id, task.interaction_id) == (
        "chat", chat.queue.pk, ticket.pk, interaction.pk)
    assert task.status == TaskStatus.QUEUED and task.attributes["chat_session_id"] == session.pk
    first = ChatMessage.objects.get(session=session)
    assert (first.seq, first.sender, first.text) == (1, "visitor", "Where is my order 123?")
    assert Message.objects.get(pk=first.message_id).body_text == "Where is my order 123?"
    assert Message.objects.get(pk=first.message_id).direction == "inbound"


@pytest.mark.parametrize(("lang", "expected"), [("ru", "Проверьте"), ("pl", "Sprawdź"), ("fr", "Vérifiez")])
def test_form_errors_are_per_field_in_the_visitors_language(chat: Chat, lang: str, expected: str) -> None:
    response = start(Client(), name="", email="not-an-email", topic="bogus", consent=False, language=lang)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_form" and expected in body["message"]
    assert set(body["fields"]) >= {"name", "email", "topic"}
    assert all(text and "Please" not in text for texts in body["fields"].values() for text in texts)
    assert not ChatSession.objects.exists() and not Ticket.objects.exists()


def test_consent_required(chat: Chat) -> None:
    chat.channel.consent_required = True
    chat.channel.save()
    response = start(Client(), consent=False)
    assert response.status_code == 400 and "consent" in response.json()["fields"]
    assert start(Client(), consent=True).status_code == 201


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"null"])
def test_bad_json_is_a_400_not_a_500(chat: Chat, body: bytes) -> None:
    response = Client().post("/chat/api/pk_spar/sessions", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] in ("invalid_json", "invalid_request")


def test_too_long_first_message_and_wrong_method(chat: Chat) -> None:
    response = start(Client(), text="x" * 5000)
    assert response.status_code == 400 and "text" in response.json()["fields"]
    assert Client().get("/chat/api/pk_spar/sessions").status_code == 405


def test_html_is_stored_as_text(chat: Chat) -> None:
    body = start(Client(), name="<b>Ivan</b>", text="<script>alert(1)</script>").json()
    msg = ChatMessage.objects.get(session_id=body["session_id"], seq=1)
    assert msg.text == "<script>alert(1)</script>"
    assert Message.objects.get(pk=msg.message_id).body_html == ""


def test_origins_cors_and_preflight(chat: Chat) -> None:
    client = Client()
    ok = client.get("/chat/api/pk_spar/config", HTTP_ORIGIN="https://shop.example")
    assert ok.status_code == 200 and ok["Access-Control-Allow-Origin"] == "https://shop.example"
    sub = client.get("/chat/api/pk_spar/config", HTTP_ORIGIN="https://www.spar.example")
    assert sub.status_code == 200
    for bad in ("https://evil.example", "http://shop.example", "https://shop.example.evil.example", "null"):
        refused = client.get("/chat/api/pk_spar/config", HTTP_ORIGIN=bad)
        assert refused.status_code == 403, bad
        assert "Access-Control-Allow-Origin" not in refused
    assert start(client, origin="https://evil.example").status_code == 403
    assert not ChatSession.objects.exists()
    preflight = client.options("/chat/api/pk_spar/sessions", HTTP_ORIGIN=SHOP,
                               HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert preflight.status_code == 204 and "POST" in preflight["Access-Control-Allow-Methods"]
    same_host = client.get("/chat/api/pk_spar/config", HTTP_ORIGIN="http://testserver")
    assert same_host.status_code == 200
    # another tenant's channel does not accept this tenant's shop
    assert client.get("/chat/api/pk_bieda/config", HTTP_ORIGIN=SHOP).status_code == 403


@override_settings(LINIA_CHAT_RATE_LIMITS={"start_ip": (2, 60)})
def test_starting_chats_is_rate_limited_per_ip(chat: Chat) -> None:
    client = Client()
    assert start(client).status_code == 201
    assert start(client).status_code == 201
    refused = client.post("/chat/api/pk_spar/sessions?lang=fr", {}, content_type="application/json")
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert "Trop" in refused.json()["message"] or "trop" in refused.json()["message"]
    assert ChatSession.objects.count() == 2


def _close_queue(chat: Chat) -> None:
    # closed every day but Monday 09:00-10:00 (Vladivostok): almost always closed; the test pins a Sunday
    chat.queue.opening_hours = {"mon": ["09:00-10:00"]}
    chat.queue.save()


def test_offline_chat_is_a_ticket_with_an_emailed_link(chat: Chat, monkeypatch: Any) -> None:
    _close_queue(chat)
    import datetime as dt

    from django.utils import timezone

    sunday = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: sunday)
    client = Client()
    config = client.get("/chat/api/pk_spar/config?lang=en").json()
    assert config["open"] is False and config["next_open"].startswith("2026-11-29T23:00")
    assert "offline" in config["offline_text"]
    refused = start(client, text="")
    assert refused.status_code == 400 and refused.json()["error"] == "text_required"
    body = start(client, text="Please call me back").json()
    assert body["offline"] is True and body["status"] == "offline"
    assert "Asia/Vladivostok" in body["expected_reply"]
    session = ChatSession.objects.get(pk=body["session_id"])
    assert session.task_id is None and not Task.objects.exists()
    assert Ticket.objects.get(pk=session.ticket_id).messages.get().body_text == "Please call me back"
    mail = OutboundEmail.objects.get(ticket_id=session.ticket_id)
    assert mail.to == ["ivan@example.com"] and "/t/" in mail.body_text and body["ticket_reference"] in mail.subject


def test_files_inline_only_for_real_images(chat: Chat, tmp_path: Any, settings: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    client = Client()
    token = start(client).json()["token"]
    base = f"/chat/api/pk_spar/sessions/{token}/files"
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = client.post(base, {"file": SimpleUploadedFile("a.png", PNG, "image/png"), "client_id": "f1"},
                      HTTP_ORIGIN=SHOP)
    assert png.status_code == 201, png.content
    msg = png.json()["message"]
    assert msg["attachment"]["name"] == "a.png" and msg["attachment"]["url"].endswith(f"/files/{msg['seq']}")
    shown = client.get(msg["attachment"]["url"])
    assert shown["Content-Type"] == "image/png" and "attachment" not in shown.get("Content-Disposition", "")
    assert shown["X-Content-Type-Options"] == "nosniff"
    html = client.post(base, {"file": SimpleUploadedFile("x.html", b"<script>alert(1)</script>", "text/html")})
    assert html.status_code == 201
    got = client.get(html.json()["message"]["attachment"]["url"])
    assert got["Content-Type"] == "application/octet-stream" and got["Content-Disposition"].startswith("attachment")
    fake = client.post(base, {"file": SimpleUploadedFile("y.png", b"<html>", "image/png")})
    assert client.get(fake.json()["message"]["attachment"]["url"])["Content-Type"] == "application/octet-stream"
    exe = client.post(base + "?lang=pl", {"file": SimpleUploadedFile("v.exe", b"MZ", "application/x-msdownload")})
    assert exe.status_code == 400 and exe.json()["error"] == "file_type"
    with override_settings(LINIA_CHAT_MAX_FILE_BYTES=10):
        big = client.post(base, {"file": SimpleUploadedFile("b.png", PNG, "image/png")})
    assert big.status_code == 400 and big.json()["error"] == "file_too_large"
    again = client.post(base, {"file": SimpleUploadedFile("a.png", PNG, "image/png"), "client_id": "f1"})
    assert again.json()["message"]["seq"] == msg["seq"]
    assert client.get(f"/chat/api/pk_spar/sessions/wrong-token/files/{msg['seq']}").status_code == 404
    assert client.get(f"/chat/api/pk_bieda/sessions/{token}/files/{msg['seq']}").status_code == 404


def test_transcript_by_email_and_rating(chat: Chat) -> None:
    client = Client()
    body = start(client, text="Hello").json()
    token = body["token"]
    bad = client.post(f"/chat/api/pk_spar/sessions/{token}/transcript", {"email": "nope"},
                      content_type="application/json")
    assert bad.status_code == 400 and "email" in bad.json()["fields"]
    sent = client.post(f"/chat/api/pk_spar/sessions/{token}/transcript", {"email": "Ivan@Example.com"},
                       content_type="application/json")
    assert sent.status_code == 202
    mail = OutboundEmail.objects.get()
    assert mail.to == ["ivan@example.com"] and "Hello" in mail.body_text
    for score in (0, 6, "5", True, None):
        wrong = client.post(f"/chat/api/pk_spar/sessions/{token}/rating", {"score": score},
                            content_type="application/json")
        assert wrong.status_code == 400, score
    ok = client.post(f"/chat/api/pk_spar/sessions/{token}/rating", {"score": 4, "comment": "fast"},
                     content_type="application/json")
    assert ok.status_code == 200
    rating = Rating.objects.get()
    assert (rating.score, rating.comment, rating.source, rating.channel) == (4, "fast", "chat", "chat")
    assert rating.interaction_id == ChatSession.objects.get().interaction_id
    assert client.post(f"/chat/api/pk_bieda/sessions/{token}/rating", {"score": 1},
                       content_type="application/json").status_code == 404
