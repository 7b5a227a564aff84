"""The routing REST endpoints with real bearer tokens: agent flow, supervisor view, isolation, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from linia.core.actions import create_api_token
from linia.core.models import Membership, Role, Tenant, User
from linia.routing.models import Disposition, Reservation, Task, TaskStatus
from tests import factories
from tests.routing.helpers import agent, queue

pytestmark = pytest.mark.django_db


class Api:
    def __init__(self, t: Tenant, u: User) -> None:
        raw, _row = create_api_token(None, t, u)
        self.client = Client()
        self.headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1/{path}", **self.headers)

    def post(self, path: str, body: Any = None, raw: str | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(f"/api/v1/{path}", data=data, content_type="application/json", **self.headers)


def _error(resp: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.content
    body: dict[str, Any] = resp.json()["error"]
    assert set(body) == {"code", "message", "fields"}
    if code:
        assert body["code"] == code
    return body


@pytest.fixture
def world() -> dict[str, Any]:
    t = factories.tenant("acme")
    q = queue(t, wrapup_seconds=30)
    queue(t, "expert", tier=2)
    Disposition.objects.create(tenant=t, code="solved", name="Solved")
    a = agent(t, idle_minutes=10)
    b = agent(t, idle_minutes=1)
    sup = agent(t, role=Role.SUPERVISOR, presence="offline")
    return {"t": t, "q": q, "a": a, "b": b, "sup": sup,
            "api_a": Api(t, a), "api_b": Api(t, b), "api_sup": Api(t, sup)}


def test_agent_flow_through_the_api(world: dict[str, Any]) -> None:
    sup, api_a = world["api_sup"], world["api_a"]
    resp = sup.post("routing/tasks", {"channel": "call", "queue": "support", "external_id": "pbx-7",
                                      "attributes": {"caller": "+48 600 100 200"}})
    assert resp.status_code == 201, resp.content
    task_id = resp.json()["id"]
    assert sup.post("routing/tasks", {"channel": "call", "queue": "support", "external_id": "pbx-7"}).status_code == 200
    me = api_a.get("routing/me").json()
    assert [o["task"]["id"] for o in me["offers"]] == [task_id]  # the create dispatched at once
    assert me["offers"][0]["task"]["attributes"]["caller"] == "+48 600 100 200"
    res_id = me["offers"][0]["reservation_id"]
    accepted = api_a.post(f"routing/offers/{res_id}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "assigned"
    _error(api_a.post(f"routing/offers/{res_id}/accept"), 409, "offer_expired")
    _error(api_a.post(f"routing/tasks/{task_id}/complete", {"disposition": "zzz"}), 422, "invalid_disposition")
    done = api_a.post(f"routing/tasks/{task_id}/complete", {"disposition": "solved"})
    assert done.json()["status"] == "wrap_up"
    assert api_a.get("routing/presence").json()["presence"] == "wrap_up"
    assert api_a.post("routing/wrapup/finish").json()["presence"] == "available"
    _error(api_a.post("routing/wrapup/finish"), 409, "not_in_wrapup")
    assert Task.objects.get(pk=task_id).status == TaskStatus.COMPLETED


def test_decline_transfer_escalate(world: dict[str, Any]) -> None:
    api_a, api_b, sup = world["api_a"], world["api_b"], world["api_sup"]
    expert = agent(world["t"], tier=2)
    task_id = sup.post("routing/tasks", {"channel": "chat", "queue": "support"}).json()["id"]
    res = Reservation.objects.get(task_id=task_id, status="pending")
    assert res.agent_id == world["a"].pk
    assert api_a.post(f"routing/offers/{res.pk}/decline").status_code == 200
    res = Reservation.objects.get(task_id=task_id, status="pending")
    assert res.agent_id == world["b"].pk
    api_b.post(f"routing/offers/{res.pk}/accept")
    _error(api_b.post(f"routing/tasks/{task_id}/transfer", {}), 422, "invalid_target")
    _error(api_b.post(f"routing/tasks/{task_id}/transfer", {"to_queue": "nope"}), 422, "invalid_queue")
    up = api_b.post(f"routing/tasks/{task_id}/escalate", {"note": "needs a refund"})
    assert up.status_code == 200 and up.json()["queue"]["code"] == "expert"
    assert up.json()["attributes"]["context"] == "needs a refund"
    assert Reservation.objects.get(task_id=task_id, status="pending").agent_id == expert.pk


def test_presence_and_supervisor_snapshot(world: dict[str, Any]) -> None:
    api_a, sup, api_b = world["api_a"], world["api_sup"], world["api_b"]
    assert api_a.post("routing/presence", {"state": "break", "reason": "lunch"}).json()["presence"] == "break"
    _error(api_a.post("routing/presence", {"state": "busy"}), 422, "invalid_state")
    _error(api_b.post("routing/presence", {"state": "offline", "user_id": world["a"].pk}), 403, "forbidden")
    assert sup.post("routing/presence", {"state": "available", "user_id": world["a"].pk}).status_code == 200
    sup.post("routing/tasks", {"channel": "call", "queue": "support"})
    sup.post("routing/tasks", {"channel": "call", "queue": "support"})
    sup.post("routing/tasks", {"channel": "call", "queue": "support"})
    snap = sup.get("routing/supervisor").json()
    support = next(q for q in snap["queues"] if q["code"] == "support")
    assert support["waiting"] == 3 and support["offered"] == 3 and support["service_level"] is None
    assert snap["agents_by_state"]["available"] == 2
    _error(api_a.get("routing/supervisor"), 403, "forbidden")
    assert [q["code"] for q in api_a.get("routing/queues").json()["items"]] == ["expert", "support"]


def test_bad_input_is_a_json_4xx(world: dict[str, Any]) -> None:
    sup = world["api_sup"]
    _error(sup.post("routing/tasks", raw="{not json"), 400)
    _error(sup.post("routing/tasks", {"channel": "fax", "queue": "support"}), 422, "invalid_task")
    _error(sup.post("routing/tasks", {"channel": "call"}), 422)
    _error(sup.post("routing/tasks", {"channel": "call", "queue": "support", "priority": "high"}), 422)
    _error(sup.post("routing/tasks", {"channel": "call", "queue": "support", "required_skills": {"pl": 0}}), 422)
    _error(sup.post("routing/tasks", {"channel": "call", "queue": "x\u0000"}), 422)
    _error(sup.post("routing/tasks", []), 422)
    _error(sup.post("routing/offers/0/accept"), 422)
    _error(sup.post("routing/offers/99999999/accept"), 404, "not_found")
    _error(sup.post("routing/tasks/abc/complete", {}), 422)
    _error(sup.post("routing/presence", {"state": "available", "reason": "x" * 500}), 422)
    _error(sup.get("routing/offers/1/accept"), 405)
    _error(Client().get("/api/v1/routing/me"), 401)


def test_other_tenants_ids_are_not_found(world: dict[str, Any]) -> None:
    other = factories.tenant("other")
    queue(other)
    intruder = agent(other, idle_minutes=100)
    api_other = Api(other, intruder)
    task_id = world["api_sup"].post("routing/tasks", {"channel": "call", "queue": "support"}).json()["id"]
    res = Reservation.objects.get(task_id=task_id)
    assert res.agent_id != intruder.pk  # longest idle, but not an agent of this tenant
    _error(api_other.post(f"routing/offers/{res.pk}/accept"), 404, "not_found")
    _error(api_other.post(f"routing/tasks/{task_id}/complete", {}), 404, "not_found")
    _error(api_other.get(f"routing/tasks/{task_id}"), 404, "not_found")
    own = world["api_sup"].get(f"routing/tasks/{task_id}")
    assert own.status_code == 200 and own.json()["status"] == "reserved" and own.json()["id"] == task_id
    _error(api_other.post(f"routing/tasks/{task_id}/transfer", {"to_queue": "support"}), 404, "not_found")
    _error(api_other.post("routing/presence", {"state": "break", "user_id": world["a"].pk}), 404, "not_found")
    # An agent serving both tenants still cannot use tenant A's ids with tenant B's token.
    Membership.objects.create(user=world["a"], tenant=other, role=Role.AGENT)
    api_both = Api(other, world["a"])
    _error(api_both.post(f"routing/offers/{res.pk}/accept"), 404, "not_found")
    _error(api_both.post(f"routing/tasks/{task_id}/escalate", {}), 404, "not_found")
