"""Form definitions: JSON Schema and UI hints are checked when saved; the admin shows a clear error and is
tenant-scoped like the other admins."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from linia.core.models import Role
from linia.intake.webform.definition import DefinitionError, parse
from linia.intake.webform.models import Submission, WebForm
from tests import factories as f
from tests.webform.conftest import FULL_SCHEMA, FULL_UI, World


def test_the_full_form_parses_with_every_kind() -> None:
    kinds = {fld.name: fld.kind for fld in parse(FULL_SCHEMA, FULL_UI)}
    assert kinds == {"name": "text", "email": "email", "phone": "phone", "bio": "textarea", "colour": "choice",
                     "extras": "multichoice", "when": "datetime", "count": "number", "store": "store",
                     "pickup_date": "date", "pickup_time": "time", "items": "quantities", "doc": "file",
                     "code": "text", "consent": "consent"}
    assert list(kinds)[:3] == ["name", "email", "phone"]  # ui order first


@pytest.mark.parametrize(("schema", "ui", "message"), [
    ([], {}, "JSON object"),
    ({"type": "object", "properties": {"a": {"type": "strin"}}}, {}, "not a valid JSON Schema"),
    ({"type": "object", "properties": {"a": {"minLength": "two"}}}, {}, "not a valid JSON Schema"),
    ({"type": "array"}, {}, '"type": "object"'),
    ({"type": "object", "properties": {}}, {}, "at least one field"),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]}, {}, "required"),
    ({"type": "object", "properties": {"a": {"type": "string", "format": "colour"}}}, {}, "unknown format"),
    ({"type": "object", "properties": {"a": {"type": "object"}}}, {}, '"type" must be'),
    ({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}}}, {}, "a list must"),
    ({"type": "object", "properties": {"_lf_token": {"type": "string"}}}, {}, "field name"),
    ({"type": "object", "properties": {"a": {"type": "string"}}}, {"fields": {"b": {}}}, "does not have: b"),
    ({"type": "object", "properties": {"a": {"type": "string"}}}, {"fields": {"a": {"widget": "radio"}}},
     "does not fit"),
    ({"type": "object", "properties": {"a": {"type": "string"}}}, {"order": ["z"]}, '"order"'),
    ({"type": "object", "properties": {"a": {"type": "string", "format": "file"}}},
     {"fields": {"a": {"max_mb": 500}}}, "max_mb"),
    ({"type": "object", "properties": {"a": {"type": "string", "format": "file"}}},
     {"fields": {"a": {"accept": ["pdf"]}}}, "accept"),
    ({"type": "object", "properties": {"a": {"type": "string"}}},
     {"checks": [{"check": "store_hours", "store": "a", "date": "a", "time": "a"}]}, "must name a store field"),
])
def test_bad_definitions_say_what_to_fix(schema: Any, ui: Any, message: str) -> None:
    with pytest.raises(DefinitionError, match=message.replace("(", r"\(").replace('"', '"')):
        parse(schema, ui)


def _admin_post(client: Client, url: str, **changes: Any) -> Any:
    data = {"name": "Feedback", "public_key": "fb-1", "is_active": "on", "default_language": "",
            "titles": json.dumps({"en": "Feedback"}), "intros": "{}", "success_texts": "{}", "subject": "",
            "schema": json.dumps({"type": "object", "properties": {"text": {"type": "string"}}}), "ui": "{}",
            "category": "", "department": "", "queue": "", "allowed_origins": "[]"}
    data.update(changes)
    return client.post(url, data)


def test_admin_refuses_a_bad_schema_with_a_clear_error_and_saves_a_good_one(world: World) -> None:
    boss = f.user("boss", tenant=world.tenant, role=Role.SUPERVISOR)
    boss.is_staff = True
    boss.save()
    client = Client()
    client.force_login(boss)
    url = "/admin/webform/webform/add/"
    response = _admin_post(client, url, schema=json.dumps({"type": "object", "properties": {
        "when": {"type": "string", "format": "colour"}}}))
    assert response.status_code == 200
    assert "unknown format" in response.content.decode()
    response = _admin_post(client, url, allowed_origins=json.dumps(["https://ok.example/path"]))
    assert "Not an origin" in response.content.decode()
    response = _admin_post(client, url, titles=json.dumps({"de": "Feedback"}))
    assert "Use language codes" in response.content.decode()
    assert not WebForm.objects.filter(public_key="fb-1").exists()
    response = _admin_post(client, url)
    assert response.status_code == 302
    saved = WebForm.objects.get(public_key="fb-1")
    assert saved.tenant == world.tenant  # filled in for a user of one tenant


def test_admin_is_tenant_scoped(world: World) -> None:
    boss = f.user("boss-b", tenant=world.other, role=Role.SUPERVISOR)
    boss.is_staff = True
    boss.save()
    client = Client()
    client.force_login(boss)
    listing = client.get("/admin/webform/webform/").content.decode()
    assert "Beta form" in listing and "alfa-full" not in listing
    assert client.get(f"/admin/webform/webform/{world.form.pk}/change/").status_code == 404
    assert world.post({"name": "Jan", "consent": "on"}).status_code == 303  # a submission of tenant A
    assert world.post({"name": "Ann", "consent": "on"}, key=world.foreign_form.public_key).status_code == 303
    submissions = client.get("/admin/webform/submission/")
    assert submissions.status_code == 200
    assert {s.tenant_id for s in submissions.context["cl"].queryset} == {world.other.pk}
    mine = Submission.objects.get(tenant=world.tenant)
    assert client.get(f"/admin/webform/submission/{mine.pk}/change/").status_code == 404
    agent = f.user("agent-b", tenant=world.other, role=Role.AGENT)
    agent.is_staff = True
    agent.save()
    client.force_login(agent)
    assert client.get("/admin/webform/webform/").status_code in (302, 403)


def test_a_form_broken_outside_the_admin_shows_unavailable_not_500(world: World) -> None:
    WebForm.objects.filter(pk=world.form.pk).update(schema={"type": "object", "properties": {"x": {"type": "null"}}})
    response = world.client.get(f"/forms/{world.form.public_key}/?lang=ru")
    assert response.status_code == 503 and "недоступна" in response.content.decode()
