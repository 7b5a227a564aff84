"""The agent desktop and supervisor pages, the task screen-pop partial and the nav links (no browser)."""

from __future__ import annotations

import json
import re

from django.test import Client

from linia.routing import actions
from linia.routing.models import BreakReason, Disposition, PresenceState, Reservation, ReservationStatus, Task
from linia.tickets import actions as ticket_actions
from tests.desk_rt.conftest import Center


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def _config(html: str) -> dict[str, object]:
    match = re.search(r'<script id="desk-rt-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, "config missing"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_agent_desktop_page_carries_break_reasons_dispositions_and_the_socket(center: Center) -> None:
    BreakReason.objects.create(tenant=center.tenant, code="lunch", name="Lunch")
    Disposition.objects.create(tenant=center.tenant, code="solved", name="Solved on the call")
    Disposition.objects.create(tenant=center.other, code="secret", name="Foreign code")
    response = _client(center.agent).get("/desk/agent/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lunch" in html and 'id="nav-agent"' in html and 'id="nav-supervisor"' not in html
    config = _config(html)
    assert config["ws"] == "/ws/desk/agent/"
    assert "Solved on the call" in str(config["dispositions"]) and "Foreign code" not in html


def test_supervisor_page_only_for_supervisors(center: Center) -> None:
    assert _client(center.agent).get("/desk/supervisor/").status_code == 403
    response = _client(center.supervisor).get("/desk/supervisor/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Customer line" in html and "Technical line" in html and "Bieda line" not in html
    assert _config(html)["ws"] == f"/ws/desk/supervisor/?tenant={center.tenant.pk}"
    assert 'id="nav-supervisor"' in html


def test_pages_need_login_and_speak_russian_and_polish(center: Center) -> None:
    assert Client().get("/desk/agent/").status_code == 302
    client = _client(center.supervisor)
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    assert "Рабочее место" in client.get("/desk/agent/").content.decode()
    supervisor = client.get("/desk/supervisor/").content.decode()
    assert "Уровень обслуживания сегодня" in supervisor
    assert "<th class=\"num\">Отвечено</th><th class=\"num\">Потеряно</th>" in supervisor  # counts, in agreement
    client.post("/i18n/setlang/", {"language": "pl", "next": "/"})
    page = client.get("/desk/agent/").content.decode()
    assert "Przyjmij" in page and "Odrzuć" in page


def test_task_context_shows_the_callers_tickets_only_to_the_holder(center: Center) -> None:
    contact = ticket_actions.find_or_create_contact(None, center.tenant, name="Ivan Petrov",
                                                    phones=["+7 423 222 33 44"])
    ticket_actions.create_ticket(None, center.tenant, subject="Sour milk", channel="call", contact=contact.pk)
    actions.set_presence(center.agent, center.agent, PresenceState.AVAILABLE)
    actions.create_task(None, center.tenant, channel="call", queue=center.queue, external_id="c-1",
                        attributes={"caller": "+74232223344"})
    actions.dispatch(center.tenant)
    task = Task.objects.get(external_id="c-1")
    res = Reservation.objects.get(task=task, status=ReservationStatus.PENDING)
    url = f"/desk/agent/tasks/{task.pk}/context/"
    assert _client(center.colleague).get(url).status_code == 404
    assert _client(center.foreign_agent).get(url).status_code == 404
    actions.accept_offer(center.agent, res.pk)
    page = _client(center.agent).get(url).content.decode()
    assert "Ivan Petrov" in page and "Sour milk" in page and "+74232223344" in page
    assert _client(center.agent).get("/desk/agent/tasks/999999/context/").status_code == 404


def _assigned_call(center: Center) -> Task:
    from django.utils import timezone

    from linia.tickets.models import Interaction

    interaction = Interaction.objects.create(tenant=center.tenant, channel="call", started_at=timezone.now())
    actions.set_presence(center.agent, center.agent, PresenceState.AVAILABLE)
    task = actions.create_task(None, center.tenant, channel="call", queue=center.queue, external_id="pbx-link",
                               interaction=interaction)
    actions.dispatch(center.tenant)
    offer = Reservation.objects.get(task=task, status=ReservationStatus.PENDING)
    return actions.accept_offer(center.agent, offer.pk)


def test_ticket_registered_from_the_contact_tab_is_linked_to_the_task_and_call(center: Center) -> None:
    task = _assigned_call(center)
    client = _client(center.agent)
    form = client.get(f"/tickets/new/?channel=call&task={task.pk}").content.decode()
    assert f'name="task" value="{task.pk}"' in form
    response = client.post("/tickets/new/", {"channel": "call", "priority": "normal", "subject": "Where is my order",
                                             "contact_phone": "+74232223344", "task": str(task.pk)})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.ticket is not None and task.ticket.subject == "Where is my order"
    assert task.interaction is not None and task.interaction.ticket_id == task.ticket_id
    assert task.interaction.contact_id == task.ticket.contact_id


def test_a_task_the_agent_does_not_hold_leaves_no_ticket(center: Center) -> None:
    task = _assigned_call(center)
    from linia.tickets.models import Ticket

    response = _client(center.colleague).post(
        "/tickets/new/", {"channel": "call", "priority": "normal", "subject": "Not mine", "task": str(task.pk)})
    assert response.status_code == 400 and "not yours" in response.content.decode()
    assert not Ticket.objects.filter(subject="Not mine").exists()
    task.refresh_from_db()
    assert task.ticket_id is None
