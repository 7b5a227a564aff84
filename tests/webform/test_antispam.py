"""Honeypot, time-to-submit and per-IP rate limits: each refuses with a visible, gentle message, keeps what was
typed and files nothing."""

from __future__ import annotations

from typing import Any

from linia.intake.webform import antispam
from linia.tickets.models import Ticket
from tests.webform.conftest import World

BASE = {"name": "Jan Kowalski", "consent": "on", "bio": "kept text"}


def test_honeypot_filled_is_refused_visibly(world: World) -> None:
    response = world.post({**BASE, antispam.HONEYPOT: "http://spam.example"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "hidden field" in html and "kept text" in html
    assert f'name="{antispam.HONEYPOT}" value=""' in html  # not echoed back
    assert not Ticket.objects.exists()


def test_too_fast_submit_gets_a_gentle_error_then_goes_through(world: World, settings: Any) -> None:
    settings.LINIA_WEBFORM_MIN_SECONDS = 3600
    response = world.post(BASE)
    assert response.status_code == 400
    html = response.content.decode()
    assert "very quick" in html and "kept text" in html and 'value="Jan Kowalski"' in html
    assert not Ticket.objects.exists()
    settings.LINIA_WEBFORM_MIN_SECONDS = 0
    token = world.page()[2]
    assert world.post(BASE, token=token).status_code == 303
    assert Ticket.objects.count() == 1


def test_missing_or_forged_token_is_refused(world: World) -> None:
    assert world.post(BASE, token="").status_code == 400
    other_form_token = world.page(world.foreign_form.public_key)[2]
    response = world.post(BASE, token=other_form_token)  # a token of another form does not count
    assert response.status_code == 400 and "too long" in response.content.decode()
    assert not Ticket.objects.exists()


def test_rate_limit_per_ip(world: World, settings: Any) -> None:
    settings.LINIA_WEBFORM_POSTS_PER_IP = 2
    token = world.page()[2]
    for _attempt in range(2):
        assert world.post({"name": ""}, token=token, REMOTE_ADDR="203.0.113.7").status_code == 400
    limited = world.post(BASE, token=token, REMOTE_ADDR="203.0.113.7")
    assert limited.status_code == 429 and limited["Retry-After"] == "600"
    assert "Too many attempts" in limited.content.decode()
    assert world.post(BASE, token=token, REMOTE_ADDR="203.0.113.8").status_code == 303  # another visitor
    assert Ticket.objects.count() == 1
