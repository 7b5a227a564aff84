"""CSV and XLSX exports of the ticket list, the store list and the supervisor's live tables (times in the
tenant's time zone)."""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from linia.core.models import Tenant
from linia.tickets.models import Ticket

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _tz(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _local(value: datetime | None, tz: zoneinfo.ZoneInfo) -> str:
    return timezone.localtime(value, tz).strftime("%Y-%m-%d %H:%M") if value else ""


def ticket_header() -> list[str]:
    return [_("Reference"), _("Subject"), _("Status"), _("Priority"), _("Channel"), _("Category"), _("Store"),
            _("Contact"), _("Assignee"), _("Tags"), _("Created"), _("Updated")]


def ticket_rows(qs: QuerySet[Ticket], tenant: Tenant) -> Iterator[list[str]]:
    tz = _tz(tenant.time_zone)
    qs = qs.select_related("category", "store", "contact", "assignee").prefetch_related("tags")
    for t in qs.iterator(chunk_size=500):
        yield [
            t.reference, t.subject, t.get_status_display(), t.get_priority_display(), t.get_channel_display(),
            t.category.name if t.category else "", str(t.store) if t.store else "",
            str(t.contact) if t.contact else "", t.assignee.get_username() if t.assignee else "",
            ", ".join(tag.name for tag in t.tags.all()), _local(t.created_at, tz), _local(t.updated_at, tz),
        ]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (a customer's subject "=HYPERLINK(...)") gets a leading
    apostrophe, as OWASP advises for CSV; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # BOM: Excel opens UTF-8 (Cyrillic, Polish) correctly
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([csv_safe(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str, title: str) -> HttpResponse:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([_text_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def _text_cell(sheet: Any, value: Any) -> Any:
    """openpyxl stores a string starting with "=" as a formula; such text is written as a plain string cell."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def _stamp(tenant: Tenant) -> str:
    return timezone.localtime(timezone.now(), _tz(tenant.time_zone)).strftime("%Y%m%d-%H%M")


def tickets_response(qs: QuerySet[Ticket], tenant: Tenant, fmt: str) -> HttpResponse | StreamingHttpResponse:
    name = f"tickets-{tenant.slug}-{_stamp(tenant)}"
    if fmt == "xlsx":
        return xlsx_response(ticket_header(), ticket_rows(qs, tenant), name, _("Tickets"))
    return csv_response(ticket_header(), ticket_rows(qs, tenant), name)


def table_response(kind: str, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], tenant: Tenant,
                   fmt: str) -> HttpResponse | StreamingHttpResponse:
    """``rows`` as a file named ``<kind>-<tenant>-<local time>.<fmt>`` (the sheet titled ``title``)."""
    name = f"{kind}-{tenant.slug}-{_stamp(tenant)}"
    if fmt == "xlsx":
        return xlsx_response(header, rows, name, title)
    return csv_response(header, rows, name)


def stores_response(header: Sequence[str], rows: Iterable[Sequence[Any]], tenant: Tenant,
                    fmt: str) -> HttpResponse | StreamingHttpResponse:
    return table_response("stores", _("Stores"), header, rows, tenant, fmt)


def duration(seconds: float | None) -> str:
    """h:mm:ss (what the wallboard shows as time in state and waits)."""
    if seconds is None:
        return ""
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def supervisor_queue_rows(snapshot: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = [_("Code"), _("Queue"), _("Open now"), _("Waiting"), _("Longest wait"), _("Offered today"),
              _("Answered"), _("Abandoned"), _("Short abandoned"), _("Answered within T"), _("Target T (s)"),
              _("Service level today (%)"), _("ASA (s)")]
    rows = [[q["code"], q["name"], _("yes") if q["open"] else _("no"), q["waiting"],
             duration(q["longest_wait_seconds"]), q["offered"], q["answered"], q["abandoned"], q["short_abandoned"],
             q["answered_within_t"], q["target_answer_seconds"], q["service_level"],
             q["asa_seconds"]] for q in snapshot["queues"]]  # None (no calls yet): an empty cell
    return header, rows


def supervisor_agent_rows(snapshot: dict[str, Any], tenant: Tenant,
                          state_labels: dict[str, str]) -> tuple[list[str], list[list[Any]]]:
    tz = _tz(tenant.time_zone)
    header = [_("Agent"), _("State"), _("Reason"), _("In this state since"), _("Time in state"), _("Contacts"),
              _("Not answering offers")]
    rows = []
    for a in snapshot["agents"]:
        since = datetime.fromisoformat(a["since"]) if a["since"] else None
        contacts = ", ".join(f"{channel} {n}" for channel, n in sorted(a["tasks"].items()))
        rows.append([a["name"], state_labels.get(a["state"], a["state"]), a["reason"], _local(since, tz),
                     duration(a["seconds_in_state"]), contacts, _("yes") if a["not_responding"] else ""])
    return header, rows


def supervisor_task_rows(tasks: list[dict[str, Any]], tenant: Tenant,
                         task_labels: dict[str, str]) -> tuple[list[str], list[list[Any]]]:
    tz = _tz(tenant.time_zone)
    now = timezone.now()
    header = ["#", _("Channel"), _("Queue"), _("Status"), _("Agent"), _("Queued at"), _("Waiting")]
    rows = []
    for t in tasks:
        queued = datetime.fromisoformat(t["queued_at"]) if t["queued_at"] else None
        rows.append([t["id"], t["channel"], t["queue"]["name"], task_labels.get(t["status"], t["status"]),
                     t["agent_name"], _local(queued, tz), duration((now - queued).total_seconds() if queued else None)])
    return header, rows
