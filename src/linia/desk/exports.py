"""CSV and XLSX exports of the ticket list and the store list (times in the tenant's time zone)."""

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


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # BOM: Excel opens UTF-8 (Cyrillic, Polish) correctly
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str, title: str) -> HttpResponse:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def _stamp(tenant: Tenant) -> str:
    return timezone.localtime(timezone.now(), _tz(tenant.time_zone)).strftime("%Y%m%d-%H%M")


def tickets_response(qs: QuerySet[Ticket], tenant: Tenant, fmt: str) -> HttpResponse | StreamingHttpResponse:
    name = f"tickets-{tenant.slug}-{_stamp(tenant)}"
    if fmt == "xlsx":
        return xlsx_response(ticket_header(), ticket_rows(qs, tenant), name, _("Tickets"))
    return csv_response(ticket_header(), ticket_rows(qs, tenant), name)


def stores_response(header: Sequence[str], rows: Iterable[Sequence[Any]], tenant: Tenant,
                    fmt: str) -> HttpResponse | StreamingHttpResponse:
    name = f"stores-{tenant.slug}-{_stamp(tenant)}"
    if fmt == "xlsx":
        return xlsx_response(header, rows, name, _("Stores"))
    return csv_response(header, rows, name)
