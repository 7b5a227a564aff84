"""Lines are configured in the admin (checked numbers, route mode needs a queue); calls are read-only."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from linia.intake.voice.models import Line, LineMode
from linia.routing.models import Queue
from tests import factories as f

from .conftest import World, event


def test_line_validation(world: World) -> None:
    a, b = world.a, world.b
    line = Line(tenant=a.tenant, number="22 765 43 21", name="Techniczna", kind="store_technical")
    line.full_clean()
    assert line.number == "+48227654321"  # the tenant's region completes a national number
    with pytest.raises(ValidationError, match="international form"):
        Line(tenant=a.tenant, number="call me", name="x").full_clean()
    routed = Line(tenant=a.tenant, number="+48227654322", mode=LineMode.ROUTE)
    with pytest.raises(ValidationError, match="needs the routing queue"):
        routed.full_clean()
    routed.queue = Queue.objects.create(tenant=b.tenant, code="calls", name="Calls")
    with pytest.raises(ValidationError, match="another tenant"):
        routed.full_clean()
    with pytest.raises(ValidationError, match="already exists"):
        Line(tenant=b.tenant, number=a.line.number).full_clean()  # unique across the installation


def test_admin_pages(world: World) -> None:
    a = world.a
    assert a.api.post("voice/events", event("adm-1", 1, "offered")).status_code == 200
    a.api.post("voice/events", event("adm-1", 1, "exploded"))
    client = Client()
    client.force_login(f.user("root", superuser=True))
    for url in ("/admin/voice/line/", f"/admin/voice/line/{a.line.pk}/change/", "/admin/voice/call/",
                "/admin/voice/ctievent/", "/admin/voice/rejectedctievent/"):
        assert client.get(url).status_code == 200, url
    a.boss.is_staff = True
    a.boss.save()
    supervisor = Client()
    supervisor.force_login(a.boss)
    assert b"+48221234567" in supervisor.get("/admin/voice/line/").content
    assert b"+48127654321" not in supervisor.get("/admin/voice/line/").content  # the other tenant's line


def test_rejected_log_endpoint(world: World) -> None:
    a, b = world.a, world.b
    a.api.post("voice/events", event("rej-1", 1, "answered"))
    rows = a.api.get("voice/rejected").json()
    assert [(r["call_id"], r["code"]) for r in rows] == [("rej-1", "unknown_call")]
    assert b.api.get("voice/rejected").json() == []
    assert a.agent_api.get("voice/rejected").status_code == 403
