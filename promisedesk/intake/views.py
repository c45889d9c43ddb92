"""Intake's pages: the customer's request form, the inbound webhook, and the staff's quarantine."""

from __future__ import annotations

import json
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from promisedesk.desk.access import actor, staff_required
from promisedesk.errors import DomainError
from promisedesk.notifications.events import case_link

from . import conf, hooks
from .actions import do_discard_message, do_release_message, do_submit_request
from .forms import DiscardForm, QuarantineFilter, ReleaseForm, RequestForm, current_locale, new_form_token
from .mailparse import parse_mail
from .models import QuarantinedMessage, WebhookSource

PAGE_SIZE = 50
# What staff are told when a decision is refused, in their language (the action's sentence is English).
FAILURES = {
    "already_decided": gettext_lazy("Someone decided about this message already."),
    "missing_customer": gettext_lazy("The message has no sender: give the customer number."),
    "missing_service": gettext_lazy("Choose the service for the new case."),
    "not_found": gettext_lazy("There is no such case or customer."),
    "unknown_service": gettext_lazy("There is no such service."),
}


# --- the customer's request form ---------------------------------------------------------


def _email_key(group: str, request: HttpRequest) -> str:
    return request.POST.get("email", "").strip().lower()


@never_cache  # each rendering carries its own token, and the answer may carry a case's link
@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    """GET: an empty form with a fresh token. POST: a case, or the form again with what was wrong.

    Order of checks: the per-IP rate limit (every POST counts), the form, a double
    submit of the same rendering (answered "we have this request already", with
    nothing of the case: whoever reuses a token may not be who sent it first), then
    the per-address rate limit (counted only for a new request).

    The case's link is shown only when this very submission made both the case and
    its customer. A customer found by the email or phone typed in gets the link by
    the case-received message instead: typing someone's address proves nothing.
    """
    if request.method == "GET":
        form = RequestForm(initial={"token": new_form_token(), "language": current_locale()})
        return _form_page(request, form)
    form = RequestForm(request.POST)
    if is_ratelimited(request, group="intake.form.ip", key="ip", rate=conf.form_rate_ip(), increment=True):
        return _form_page(request, form, status=429, limited=True)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    data = form.cleaned_data

    def admit() -> None:
        # Counted only for a new request, so a double submit never uses up the address's quota.
        limited = data["email"] and is_ratelimited(
            request, group="intake.form.email", key=_email_key, rate=conf.form_rate_email(), increment=True
        )
        if limited:
            raise DomainError("rate_limited", "too many requests from this address", "email", status=429)

    try:
        delivery = do_submit_request(
            now=timezone.now(),
            token=data["token"],
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            service=data["service"].code,
            need=data["need"],
            language=data["language"],
            admit=admit,
            complaint=data["kind"] == "complaint",
        )
    except DomainError as exc:
        if exc.code == "rate_limited":
            return _form_page(request, form, status=429, limited=True)
        form.add_error(None, _("Your request could not be recorded: %(reason)s") % {"reason": exc.message})
        return _form_page(request, form, status=400)
    if delivery.duplicate or delivery.outcome is None:
        return render(request, "intake/request_thanks.html", {"duplicate": True})
    case = delivery.case
    assert case is not None  # a web request always opens (or finds) a case
    outcome = delivery.outcome
    link = case_link(case) if outcome.created and outcome.customer_created else None
    return render(request, "intake/request_thanks.html", {"case": case, "link": link, "email": data["email"]})


def _form_page(request: HttpRequest, form: RequestForm, status: int = 200, limited: bool = False) -> HttpResponse:
    if form.is_bound and (form.token_refused or "token" not in request.POST):
        # A fresh rendering: the data the customer typed stays, the refused token does not.
        data = cast(QueryDict, form.data).copy()
        data["token"] = new_form_token()
        form.data = data
    return render(request, "intake/request_form.html", {"form": form, "limited": limited}, status=status)


# --- the inbound webhook ------------------------------------------------------------------


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "field": field}}, status=status)


@csrf_exempt
def hook(request: HttpRequest, source_code: str) -> HttpResponse:
    """POST /hooks/<code>/: a signed delivery from a chat or social-media tool (see intake.hooks).

    No session and no CSRF token: the signature under the source's secret is the
    only credential. 404 unknown source, 401 missing/bad signature or a timestamp
    outside ±5 minutes (a replay), 400 malformed JSON or payload; 201 when a case
    was opened, 200 otherwise (and for a redelivery, with "duplicate": true).
    """
    if request.method != "POST":
        return _error(405, "method_not_allowed", "webhooks are delivered with POST")
    now = timezone.now()
    source = WebhookSource.objects.select_related("default_service").filter(code=source_code, active=True).first()
    if source is None:
        return _error(404, "unknown_source", f"there is no active webhook source {source_code!r}")
    try:
        body = request.body
    except RequestDataTooBig:
        return _error(413, "too_large", "the body is larger than this server accepts")
    try:
        webhook_id = hooks.verify(source, body, request.headers, now)
        payload = hooks.read_payload(body)
        answer = hooks.receive(source, payload, webhook_id, now)
    except DomainError as exc:
        return _error(exc.status, exc.code, exc.message, exc.field)
    status = 201 if answer["created"] and not answer["duplicate"] else 200
    return HttpResponse(json.dumps(answer), status=status, content_type="application/json")


# --- the quarantine, for staff ------------------------------------------------------------


@require_GET
@staff_required
def quarantine_list(request: HttpRequest) -> HttpResponse:
    filters = QuarantineFilter(request.GET or None)
    status = filters.cleaned_data.get("status") if filters.is_valid() else ""
    status = status or "held"
    rows = QuarantinedMessage.objects.defer("raw").select_related("case", "decided_by")
    if status != "all":
        rows = rows.filter(status=status)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    held = QuarantinedMessage.objects.filter(status="held").count()
    context = {"section": "quarantine", "page": page, "status": status, "held": held, "filters": filters}
    return render(request, "intake/quarantine_list.html", context)


def _message(message_id: int) -> QuarantinedMessage:
    found = QuarantinedMessage.objects.select_related("case", "decided_by").filter(pk=message_id).first()
    if found is None:
        raise Http404("no such message")
    return found


def _detail(request: HttpRequest, message: QuarantinedMessage, status: int = 200, **forms: Any) -> HttpResponse:
    parsed = parse_mail(bytes(message.raw), message.recipients)
    context = {
        "section": "quarantine",
        "message": message,
        "parsed": parsed,
        "release_form": forms.get("release_form")
        or ReleaseForm(initial={"mode": "new" if not parsed.tokens else "thread"}),
        "discard_form": forms.get("discard_form") or DiscardForm(),
        "failure": forms.get("failure"),
    }
    return render(request, "intake/quarantine_detail.html", context, status=status)


def _failure(exc: DomainError) -> str:
    known = FAILURES.get(exc.code)
    return str(known) if known is not None else _(exc.message)


@require_GET
@staff_required
def quarantine_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    return _detail(request, _message(message_id))


@require_GET
@staff_required
def quarantine_raw(request: HttpRequest, message_id: int) -> HttpResponse:
    """The message exactly as received, as a file to open in a mail program (never shown as a page)."""
    message = _message(message_id)
    response = HttpResponse(bytes(message.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="quarantined-{message.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@staff_required
def quarantine_release(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _message(message_id)
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        return _detail(request, message, status=422, release_form=form)
    data = form.cleaned_data
    thread = data["mode"] == "thread"
    try:
        released = do_release_message(
            message.pk,
            actor=actor(request),
            now=timezone.now(),
            case_id=data["case"] if thread else None,
            service_code=data["service"].code if not thread and data["service"] else None,
            customer_id=data["customer"] if not thread else None,
            note=data["note"],
        )
    except DomainError as exc:
        return _detail(request, _message(message_id), status=422, release_form=form, failure=_failure(exc))
    messages.success(request, _("Message released into case #%(case)s.") % {"case": released.case_id})
    return redirect("intake:quarantine")


@require_POST
@staff_required
def quarantine_discard(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _message(message_id)
    form = DiscardForm(request.POST)
    if not form.is_valid():
        return _detail(request, message, status=422, discard_form=form)
    try:
        do_discard_message(message.pk, actor=actor(request), now=timezone.now(), reason=form.cleaned_data["reason"])
    except DomainError as exc:
        return _detail(request, _message(message_id), status=422, discard_form=form, failure=_failure(exc))
    messages.success(request, _("Message discarded; it stays listed under Discarded."))
    return redirect("intake:quarantine")
