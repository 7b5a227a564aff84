"""The demo's chat channels: one per tenant with a known key, its chat queue, idempotent."""

from __future__ import annotations

import pytest
from django.test import Client

from linia.intake.chat.demo import seed_chat_channels
from linia.intake.chat.models import ChatChannel
from linia.workforce.setup import ensure_contact_center
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_demo_channels_are_keyed_by_slug_and_idempotent() -> None:
    tenant = f.tenant("maison-mode", default_language="fr", time_zone="Europe/Paris")
    _line, chats = ensure_contact_center(tenant)
    seed_chat_channels([tenant])
    channel = ChatChannel.objects.get(public_key="demo-maison-mode")
    assert channel.queue_id == chats.pk and channel.default_language == "fr"
    channel.greeting = {"fr": "Changé par un admin"}
    channel.save()
    seed_chat_channels([tenant])
    assert ChatChannel.objects.get().greeting == {"fr": "Changé par un admin"}
    config = Client().get("/chat/api/demo-maison-mode/config", HTTP_ORIGIN="http://localhost:8000")
    assert config.status_code == 200 and config.json()["topics"][0]["label"] == "Ma commande"
