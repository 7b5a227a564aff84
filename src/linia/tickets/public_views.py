"""The customer's private ticket page, reached by the token link (no login): /t/<token>/.

Every response (the page, a file, the not-found and too-many-requests pages) carries no-referrer, noindex
and no-store: the token is in the URL and must not leak to other sites, search engines or shared caches.
An unknown, revoked or expired token gets the same friendly 404 after the same single look-up.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.decorators import decorator_from_middleware
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from linia.core import ratelimit
from linia.core.errors import ActionError
from linia.tickets import actions, customer_page
from linia.tickets.models import Attachment, CustomerLink, Message, Ticket
from linia.tickets.queries import (
    customer_attachment,
    customer_link_for_token,
    customer_messages,
    customer_ticket,
    page_rating,
)

VIEW_LIMITS = {"ip": ratelimit.Limit(120, 60), "token": ratelimit.Limit(60, 60)}
WRITE_LIMITS = {"ip": ratelimit.Limit(30, 600), "token": ratelimit.Limit(20, 600)}
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})  # never SVG (it can run script)
PAGE_CSP = ("default-src 'none'; img-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


class _CustomerCsrf(CsrfViewMiddleware):
    """Django's CSRF check, except that the browser's `Origin: null` is accepted for a same-origin form.

    The pages send Referrer-Policy: no-referrer, and under that policy browsers send `Origin: null` on a
    form POST. Sec-Fetch-Site (set by the browser, not by page script) still proves the form came from
    this origin, and the CSRF token must match its cookie as always."""

    def _origin_verified(self, request: HttpRequest) -> bool:
        if (request.META.get("HTTP_ORIGIN") == "null"
                and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"):
            return True
        return bool(super()._origin_verified(request))  # type: ignore[misc]  # private in django-stubs


View = Callable[..., HttpResponseBase]
customer_csrf: Callable[[View], View] = decorator_from_middleware(_CustomerCsrf)  # type: ignore[assignment]


def _private(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Headers every customer-page response carries (the token is in its URL)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow, noarchive"
        response["Cache-Control"] = "no-store, private"
        response.setdefault("Content-Security-Policy", PAGE_CSP)
        return response

    return wrapped


# --- shared steps -----------------------------------------------------------------------------------

def _limited(request: HttpRequest, token: str, limits: dict[str, ratelimit.Limit], scope: str) -> bool:
    """Count this request per IP and per token; True when either allowance is used up. The token is
    hashed into the key (cache keys are not secret)."""
    ip = ratelimit.client_ip(request.META) or "unknown"
    token_key = hashlib.sha256(token.encode()).hexdigest()[:32]
    ip_ok = ratelimit.allow(f"{scope}:ip", ip, limits["ip"])
    token_ok = ratelimit.allow(f"{scope}:token", token_key, limits["token"])
    return not (ip_ok and token_ok)


def _language_without_ticket(request: HttpRequest) -> str:
    return customer_page.browser_language(request.headers.get("Accept-Language", ""), request.GET.get("lang"),
                                          request.COOKIES.get(customer_page.LANG_COOKIE))


def _plain_page(request: HttpRequest, template: str, status: int) -> HttpResponse:
    """The not-found and too-many-requests pages: no ticket data at all."""
    language = _language_without_ticket(request)
    with translation.override(language):
        response = render(request, template, {"lang": language, "colours": customer_page.DEFAULT_COLOURS},
                          status=status)
    response["Content-Language"] = language
    if status == 429:
        response["Retry-After"] = "60"
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    return _plain_page(request, "tickets/customer/not_found.html", 404)


def _too_many(request: HttpRequest) -> HttpResponse:
    return _plain_page(request, "tickets/customer/too_many.html", 429)


def _open(request: HttpRequest, token: str, *, write: bool) -> tuple[CustomerLink, Ticket] | HttpResponse:
    """Rate limits, then the link and its ticket, or the response to send instead."""
    scope = "tpage_write" if write else "tpage"
    if _limited(request, token, WRITE_LIMITS if write else VIEW_LIMITS, scope):
        return _too_many(request)
    link = customer_link_for_token(token)
    if link is None:
        return _not_found(request)
    actions.touch_customer_link(link)
    return link, customer_ticket(link)


def _page_url(token: str, **query: str) -> str:
    url = reverse("customer:ticket", args=[token])
    return f"{url}?{urlencode(query)}" if query else url


# --- the page ---------------------------------------------------------------------------------------

ERROR_TEXTS: dict[str, Callable[[], str]] = {
    "invalid_value": lambda: _("Please write a message or attach a file."),
    "attachment_too_large": lambda: _("A file is larger than %(mb)s MB.") % {
        "mb": settings.LINIA_ATTACHMENT_MAX_BYTES // (1024 * 1024)},
    "attachment_type": lambda: _("Files of this type are not accepted."),
    "invalid_attachment": lambda: _("A file could not be accepted."),
    "too_many_files": lambda: _("You can attach at most %(count)s files at once.") % {
        "count": actions.MAX_PAGE_FILES},
    "ticket_closed": lambda: _("This request is closed. To tell us about something new, please contact us again."),
    "invalid_score": lambda: _("Choose from 1 to 5 stars."),
    "not_solved": lambda: _("You can rate the service once your request is solved."),
    "comment_too_long": lambda: _("The comment may be at most 2000 characters."),
}


def _error_text(exc: ActionError) -> str:
    text = ERROR_TEXTS.get(exc.code)
    return text() if text else _("Something in the form is not right; please check it.")


def _message_rows(ticket: Ticket, token: str) -> list[dict[str, Any]]:
    rows = []
    for message in customer_messages(ticket):
        mine = message.direction == Message.Direction.INBOUND
        rows.append({
            "pk": message.pk, "mine": mine, "created_at": message.created_at, "body": message.body_text,
            "author": _("You") if mine else ticket.tenant.name,
            "files": [{"name": a.filename, "size": a.size, "is_image": a.content_type in INLINE_IMAGES,
                       "url": reverse("customer:file", args=[token, a.pk])} for a in message.attachments.all()],
        })
    return rows


def _render_page(request: HttpRequest, token: str, ticket: Ticket, *, status: int = 200,
                 extra: dict[str, Any] | None = None) -> HttpResponse:
    asked = request.GET.get("lang")
    language = customer_page.choose_language(
        asked=asked, cookie=request.COOKIES.get(customer_page.LANG_COOKIE), ticket=ticket,
        accept_language=request.headers.get("Accept-Language", ""))
    zone = customer_page.time_zone(ticket)
    with translation.override(language), timezone.override(zone):
        label, explanation = customer_page.status_words(ticket.status)
        context: dict[str, Any] = {
            "ticket": ticket, "tenant_name": ticket.tenant.name, "status_label": label,
            "status_explanation": explanation, "messages": _message_rows(ticket, token),
            "can_reply": customer_page.can_reply(ticket), "can_rate": customer_page.can_rate(ticket),
            "rating": page_rating(ticket), "scores": [5, 4, 3, 2, 1], "lang": language,
            "languages": [(code, customer_page.LANGUAGE_NAMES.get(code, code), _page_url(token, lang=code))
                          for code in customer_page.customer_languages()],
            "reply_url": reverse("customer:reply", args=[token]), "rate_url": reverse("customer:rate", args=[token]),
            "nonce": secrets.token_urlsafe(16), "zone_name": str(zone), "done": request.GET.get("done", ""),
            "colours": customer_page.colours(ticket.tenant.settings), "max_files": actions.MAX_PAGE_FILES,
            "max_mb": settings.LINIA_ATTACHMENT_MAX_BYTES // (1024 * 1024),
        }
        context.update(extra or {})
        # errors are worded here, in the page's language
        context["errors"] = {form: _error_text(exc) for form, exc in context.pop("error_codes", {}).items()}
        response = render(request, "tickets/customer/ticket.html", context, status=status)
    response["Content-Language"] = language
    if asked and customer_page.supported_language(asked):  # the switcher's choice is remembered for these pages
        response.set_cookie(customer_page.LANG_COOKIE, language, max_age=365 * 86400, path="/t/",
                            samesite="Lax", secure=request.is_secure(), httponly=True)
    return response


@_private
@require_GET
def ticket_page(request: HttpRequest, token: str) -> HttpResponseBase:
    opened = _open(request, token, write=False)
    if isinstance(opened, HttpResponse):
        return opened
    _link, ticket = opened
    return _render_page(request, token, ticket)


def _uploaded(request: HttpRequest) -> list[actions.NewAttachment]:
    files = request.FILES.getlist("files")
    if len(files) > actions.MAX_PAGE_FILES:
        raise ActionError("too_many_files", "too many files")
    found = []
    for upload in files:
        if (upload.size or 0) > settings.LINIA_ATTACHMENT_MAX_BYTES:  # refused before it is read into memory
            raise ActionError("attachment_too_large", "too large")
        found.append(actions.NewAttachment(filename=(upload.name or "").replace("\x00", "") or "file", data=upload.read(),
                                           content_type=upload.content_type or ""))
    return found


@_private
@csrf_exempt  # the project-wide check is replaced by _CustomerCsrf (same token check, see its docstring)
@customer_csrf
@require_POST
def reply(request: HttpRequest, token: str) -> HttpResponseBase:
    opened = _open(request, token, write=True)
    if isinstance(opened, HttpResponse):
        return opened
    link, ticket = opened
    body = request.POST.get("body", "")
    try:
        actions.reply_on_ticket_page(link, ticket, body=body, attachments=_uploaded(request),
                                     nonce=request.POST.get("nonce", ""))
    except ActionError as exc:
        ticket.refresh_from_db()
        return _render_page(request, token, ticket, status=400,
                            extra={"error_codes": {"reply": exc}, "reply_body": body})
    return HttpResponseRedirect(_page_url(token, done="reply") + "#messages", status=303)


@_private
@csrf_exempt
@customer_csrf
@require_POST
def rate(request: HttpRequest, token: str) -> HttpResponseBase:
    opened = _open(request, token, write=True)
    if isinstance(opened, HttpResponse):
        return opened
    _link, ticket = opened
    comment = request.POST.get("comment", "")
    try:
        actions.rate_on_ticket_page(ticket, score=request.POST.get("score", ""), comment=comment)
    except ActionError as exc:
        return _render_page(request, token, ticket, status=400,
                            extra={"error_codes": {"rating": exc}, "rating_comment": comment})
    return HttpResponseRedirect(_page_url(token, done="rated") + "#rating", status=303)


@_private
@require_GET
def file(request: HttpRequest, token: str, attachment_id: int) -> HttpResponseBase:
    """A file of a public message of this link's ticket. Images open in the browser; anything else is
    downloaded as bytes (never rendered as HTML, never sniffed)."""
    opened = _open(request, token, write=False)
    if isinstance(opened, HttpResponse):
        return opened
    _link, ticket = opened
    attachment: Attachment | None = customer_attachment(ticket, attachment_id)
    if attachment is None:
        return _not_found(request)
    inline = attachment.content_type in INLINE_IMAGES
    response = FileResponse(attachment.file.open("rb"), as_attachment=not inline, filename=attachment.filename,
                            content_type=attachment.content_type if inline else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    return response
