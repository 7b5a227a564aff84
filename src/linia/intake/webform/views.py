"""The public form page /forms/<key>/ (no login, embeddable), its confirmation page and the store search.

CSRF: the page is meant to live in iframes on other sites, where browsers withhold cookies; a signed per-page
token (antispam.TOKEN) ties a post to a page this server rendered instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from linia.core import languages
from linia.core.errors import ActionError
from linia.core.ratelimit import client_ip
from linia.intake.webform import actions, antispam, queries
from linia.intake.webform.definition import DefinitionError, Field, parse
from linia.intake.webform.models import WebForm
from linia.intake.webform.page import colours, field_context
from linia.intake.webform.validation import Cleaned, clean
from linia.tickets.models import Ticket

DONE_SALT = "linia.webform.done"
DONE_MAX_AGE = 7 * 24 * 3600


def pick_language(request: HttpRequest, form: WebForm) -> str:
    """?lang= (or the posted one), else the browser's Accept-Language, else the form's / tenant's language."""
    return languages.pick(request.GET.get("lang") or request.POST.get("_lf_lang"),
                          accept_language=request.headers.get("Accept-Language", ""),
                          fallbacks=(form.default_language or form.tenant.default_language,))


def _framed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Framing allowed from this site and the form's allowed origins only (CSP frame-ancestors), in place of
    the site-wide X-Frame-Options: SAMEORIGIN."""

    def wrapped(request: HttpRequest, key: str, *args: Any, **kwargs: Any) -> HttpResponse:
        form = queries.active_form(key)
        if form is None:
            raise Http404(_("This form does not exist or is closed."))
        language = pick_language(request, form)
        with translation.override(language):
            response = view(request, form, language, *args, **kwargs)
        response["Content-Security-Policy"] = queries.content_security_policy(form)
        response["Referrer-Policy"] = "no-referrer"  # the confirmation page carries the private link
        response.headers.setdefault("Cache-Control", "no-store")
        response["Content-Language"] = language
        return response

    wrapped.__name__ = view.__name__
    return xframe_options_exempt(csrf_exempt(wrapped))


def _fields(form: WebForm) -> list[Field] | None:
    try:
        return parse(form.schema, form.ui)
    except DefinitionError:
        return None  # saved before a rule changed, or edited outside the admin: show "unavailable"


def _embed(request: HttpRequest) -> bool:
    return (request.GET.get("embed") or request.POST.get("_lf_embed")) == "1"


def _page(request: HttpRequest, form: WebForm, language: str, fields: list[Field], *, cleaned: Cleaned | None,
          token: antispam.Token, problem: str = "", status: int = 200) -> HttpResponse:
    errors = cleaned.errors if cleaned is not None else {}
    contexts = [field_context(form, f, language, cleaned) for f in fields]
    context = {
        "form": form, "language": language, "languages": settings.CUSTOMER_LANGUAGES,
        "title": form.text("titles", language, form.name), "intro": form.text("intros", language),
        "fields": contexts,
        "problem": problem, "error_count": sum(1 for _f in errors) + (1 if problem else 0),
        "token": token.value, "honeypot": antispam.HONEYPOT, "embed": _embed(request), "colours": colours(form),
        "action": reverse("webform:form", args=[form.public_key]),
        "has_files": any(f.kind == "file" for f in fields),
    }
    return render(request, "webform/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def _form_view(request: HttpRequest, form: WebForm, language: str) -> HttpResponse:
    ip = client_ip(request.META)
    fields = _fields(form)
    if fields is None:
        return render(request, "webform/unavailable.html", {"form": form, "colours": colours(form),
                                                             "embed": _embed(request)}, status=503)
    if request.method == "GET":
        if not antispam.allow_view(ip):
            return _limited(request, form)
        return _page(request, form, language, fields, cleaned=None, token=antispam.issue(form.public_key))
    if not antispam.allow_post(ip):
        return _limited(request, form)
    return _submit(request, form, language, fields, ip)


def _submit(request: HttpRequest, form: WebForm, language: str, fields: list[Field], ip: str) -> HttpResponse:
    token = antispam.read(str(request.POST.get(antispam.TOKEN, "")), form.public_key)
    cleaned = clean(form.tenant, fields, form.ui or {}, request.POST, request.FILES, language=language)
    if request.POST.get("_lf_find"):  # "Find stores" without JavaScript: show the matches, file nothing
        cleaned.errors.clear()
        return _page(request, form, language, fields, cleaned=cleaned,
                     token=token or antispam.issue(form.public_key))
    if token is None:
        return _page(request, form, language, fields, cleaned=cleaned, token=antispam.issue(form.public_key),
                     problem=_("This page was open for too long. Please check your answers and send the form "
                               "again."), status=400)
    if request.POST.get(antispam.HONEYPOT):
        return _page(request, form, language, fields, cleaned=cleaned, token=token, status=400,
                     problem=_("Your browser filled in a hidden field. Please send the form again."))
    if antispam.too_fast(token):
        return _page(request, form, language, fields, cleaned=cleaned, token=token, status=400,
                     problem=_("That was very quick! Please check your answers and send the form again."))
    if cleaned.errors:
        return _page(request, form, language, fields, cleaned=cleaned, token=token, status=400)
    try:
        filed = actions.submit(form, fields, cleaned, submission_id=token.submission_id, language=language, ip=ip)
    except ActionError as exc:
        for name, messages in exc.fields.items():  # the category's own rules for its custom fields
            key = name.removeprefix("custom_fields.")
            cleaned.errors.setdefault(key if key in {f.name for f in fields} else "__all__", []).extend(messages)
        return _page(request, form, language, fields, cleaned=cleaned, token=token, status=400,
                     problem=_("Some answers could not be accepted. Please check them."))
    blob = signing.dumps({"t": filed.ticket.pk, "l": filed.link}, salt=DONE_SALT, compress=True)
    query = {"lang": language} | ({"embed": "1"} if _embed(request) else {})
    url = reverse("webform:done", args=[form.public_key, blob]) + "?" + urlencode(query)
    return HttpResponseRedirect(url, status=303)


def _limited(request: HttpRequest, form: WebForm) -> HttpResponse:
    response = render(request, "webform/unavailable.html", {
        "form": form, "colours": colours(form), "embed": _embed(request),
        "message": _("Too many attempts from your network. Please wait a few minutes and try again.")}, status=429)
    response["Retry-After"] = "600"
    return response


@require_GET
def _done_view(request: HttpRequest, form: WebForm, language: str, blob: str) -> HttpResponse:
    try:
        data = signing.loads(blob, salt=DONE_SALT, max_age=DONE_MAX_AGE)
    except signing.BadSignature:
        raise Http404(_("This confirmation has expired.")) from None
    ticket = Ticket.objects.filter(tenant_id=form.tenant_id, pk=data.get("t")).first()
    if ticket is None:
        raise Http404(_("This confirmation has expired."))
    return render(request, "webform/done.html", {
        "form": form, "ticket": ticket, "link": data.get("l", ""), "colours": colours(form),
        "title": form.text("titles", language, form.name), "embed": _embed(request),
        "success": form.text("success_texts", language), "language": language,
        "again": reverse("webform:form", args=[form.public_key]) + "?" + urlencode(
            {"lang": language} | ({"embed": "1"} if _embed(request) else {}))})


@require_GET
def _stores_view(request: HttpRequest, form: WebForm, language: str) -> HttpResponse:
    fields = _fields(form) or []
    if not any(f.kind == "store" for f in fields):
        raise Http404(_("This form has no store picker."))
    if not antispam.allow_view(client_ip(request.META)):
        return JsonResponse({"error": "rate_limited", "message": _("Too many requests.")}, status=429)
    code = str(request.GET.get("code", ""))
    if code:  # the opening hours of the chosen store for the next days
        week = queries.store_week(form.tenant, code[:40])
        if week is None:
            return JsonResponse({"error": "not_found", "message": _("Please choose a store from the list.")},
                                status=404)
        return JsonResponse({"store": {"code": week.code, "name": week.name, "time_zone": week.time_zone,
                                       "days": [{"date": d, "day": label, "hours": h} for d, label, h in week.days]}})
    found = queries.find_stores(form.tenant, str(request.GET.get("q", "")))
    return JsonResponse({"stores": [{"code": s.code, "name": s.name, "city": s.city, "address": s.address,
                                     "time_zone": s.time_zone, "today": s.today} for s in found]})


form_view = _framed(_form_view)
done_view = _framed(_done_view)
stores_view = _framed(_stores_view)
