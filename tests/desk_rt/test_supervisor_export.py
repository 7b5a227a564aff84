"""The supervisor view's tables as CSV and XLSX: what the wallboard shows now, only the tenant's own rows,
times in the tenant's time zone; refusals for other roles and unknown tables."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from linia.routing import actions
from linia.routing.models import AgentProfile, PresenceState
from tests.desk_rt.conftest import Center


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def _csv(response: object) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(body)))


def test_queues_and_agents_export_what_the_wallboard_shows(center: Center) -> None:
    actions.create_task(None, center.tenant, channel="call", queue=center.queue, external_id="w-1",
                        now=timezone.now() - timedelta(seconds=75))
    actions.create_task(None, center.other, channel="call", queue=center.foreign_queue, external_id="f-1")
    actions.set_presence(center.agent, center.agent, PresenceState.BREAK, "lunch")
    client = _client(center.supervisor)

    response = client.get("/desk/supervisor/export.csv", {"table": "queues"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="queues-spar-')
    header, *rows = _csv(response)
    assert header[:5] == ["Code", "Queue", "Open now", "Waiting", "Longest wait"]
    by_code = {r[0]: r for r in rows}
    assert set(by_code) == {"calls", "tech"}  # the other tenant's queue is not there
    assert by_code["calls"][3] == "1" and by_code["calls"][4].startswith("0:01:1")  # waiting 1, ~75 s
    assert by_code["tech"][3] == "0"

    response = client.get("/desk/supervisor/export.csv", {"table": "agents"})
    header, *rows = _csv(response)
    anna = next(r for r in rows if r[0] == center.agent.get_full_name() or r[0] == center.agent.username)
    since = AgentProfile.objects.get(user=center.agent).presence_since
    assert since is not None
    local = since.astimezone(ZoneInfo("Asia/Vladivostok")).strftime("%Y-%m-%d %H:%M")
    assert anna[1:4] == ["Break", "lunch", local]  # the tenant's zone, not UTC
    assert all(r[0] != center.foreign_agent.username for r in rows)


def test_contacts_export_as_xlsx(center: Center) -> None:
    actions.create_task(None, center.tenant, channel="chat", queue=center.queue, external_id="c-1")
    response = _client(center.supervisor).get("/desk/supervisor/export.xlsx", {"table": "tasks"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None and sheet.title == "Contacts"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("#", "Channel", "Queue", "Status")
    assert [(r[1], r[2], r[3]) for r in rows[1:]] == [("chat", "Customer line", "Queued")]


def test_only_supervisors_export_and_unknown_tables_are_refused(center: Center) -> None:
    assert _client(center.agent).get("/desk/supervisor/export.csv", {"table": "queues"}).status_code == 403
    response = _client(center.supervisor).get("/desk/supervisor/export.csv", {"table": "secrets"})
    assert response.status_code == 400 and b"choose queues, agents or tasks" in response.content
    assert _client(center.supervisor).get("/desk/supervisor/export.pdf").status_code == 404


def test_the_export_speaks_the_supervisors_language(center: Center) -> None:
    client = _client(center.supervisor)
    client.cookies["django_language"] = "ru"
    header, *_rows = _csv(client.get("/desk/supervisor/export.csv", {"table": "queues"}))
    assert "Поступило сегодня" in header and "Уровень сервиса сегодня (%)" in header
