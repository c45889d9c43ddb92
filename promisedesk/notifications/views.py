"""The outbox on the desk: every message and its fate, the dead-letter queue with "retry now",
message templates (managers edit them) and webhook endpoints (managers only).

Views stay thin: they read through selectors, change things only through actions, and show a
DomainError inline with status 422 (409 for a retry that is no longer possible).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from promisedesk.actors import actor_of
from promisedesk.desk.access import is_htmx, staff_required
from promisedesk.errors import DomainError

from . import actions, selectors
from .access import is_manager, manager_required
from .forms import EndpointForm, OutboxFilter, TemplateForm
from .models import OutboxMessage, OutboxStatus, WebhookEndpoint
from .templating import LANGUAGES, builtin_source
from .transports import headers_of

PAGE_SIZE = 50


def explain(exc: DomainError) -> str:
    """A DomainError in the reader's language; template errors keep Django's own detail."""
    texts = {
        "not_failed": _("This message is not in the dead-letter queue any more."),
        "duplicate": _("That name is taken."),
        "invalid_url": _("The URL must be an http:// or https:// address."),
        "invalid_event": _("Event names are lower case words joined by dots, such as case.received."),
        "inactive": _("The endpoint is deactivated; activate it to send a test."),
        "forbidden": _("Only managers may do this."),
    }
    if exc.code in ("template_syntax", "template_forbidden", "template_render"):
        return _("The template cannot be used: %(detail)s") % {"detail": exc.message}
    return str(texts.get(exc.code, exc.message))


def _tabs(request: HttpRequest, section: str) -> dict[str, Any]:
    failed = OutboxMessage.objects.filter(status=OutboxStatus.FAILED).aggregate(n=Count("id"))["n"]
    return {"section": "outbox", "tab": section, "failed_count": failed, "manager": is_manager(request.user)}


# --- the outbox -----------------------------------------------------------------------------------


@require_GET
@staff_required
def outbox_list(request: HttpRequest) -> HttpResponse:
    """All messages, newest first, filtered by status, channel, event and case."""
    filters = OutboxFilter(request.GET or None)
    if filters.is_bound:
        filters.is_valid()
    chosen = filters.values()
    page = Paginator(selectors.outbox(**chosen), PAGE_SIZE).get_page(request.GET.get("page"))
    events = OutboxMessage.objects.order_by("event").values_list("event", flat=True).distinct()
    context = {"filters": filters, "chosen": chosen, "page": page, "events": [e for e in events if e]}
    return render(request, "notifications/outbox.html", context | _tabs(request, "outbox"))


@require_GET
@staff_required
def dead_letters(request: HttpRequest) -> HttpResponse:
    """Failed messages, the most recent first, each with "retry now"."""
    page = Paginator(selectors.outbox(status=OutboxStatus.FAILED), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/failed.html", {"page": page} | _tabs(request, "failed"))


def _message_or_404(message_id: int) -> OutboxMessage:
    try:
        return selectors.message(message_id)
    except DomainError as exc:
        raise Http404(exc.message) from exc


@require_GET
@staff_required
def message_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    """One message as it goes out: headers, body, attempts, last error, retries asked for."""
    found = _message_or_404(message_id)
    context = {"message": found, "headers": headers_of(found)}
    return render(request, "notifications/message.html", context | _tabs(request, "outbox"))


@require_POST
@staff_required
def retry(request: HttpRequest, message_id: int) -> HttpResponse:
    """Retry now: htmx gets the row back (with a notice or the reason it could not be done);
    a plain form goes back to the page it came from."""
    found = _message_or_404(message_id)
    failure = ""
    try:
        actions.do_retry(found, actor=actor_of(request), now=timezone.now())
    except DomainError as exc:
        failure = explain(exc)
    if is_htmx(request):
        context = {
            "m": _message_or_404(message_id),
            "failure": failure,
            "notice": "" if failure else _("Queued again."),
        }
        return render(request, "notifications/_failed_row.html", context, status=409 if failure else 200)
    if request.POST.get("next") == "message":
        return redirect("notifications:message", message_id=message_id)
    return redirect("notifications:failed")


# --- templates ------------------------------------------------------------------------------------------


@require_GET
@staff_required
def template_list(request: HttpRequest) -> HttpResponse:
    """Every event's wording in Chinese and English, and whether a manager changed it."""
    return render(
        request, "notifications/templates.html", {"rows": selectors.templates()} | _tabs(request, "templates")
    )


def _template_key(event: str, language: str) -> None:
    try:
        actions.check_template_key(event, language)
    except DomainError as exc:
        raise Http404(exc.message) from exc


@require_http_methods(["GET", "POST"])
@manager_required
def template_edit(request: HttpRequest, event: str, language: str) -> HttpResponse:
    """Edit one wording; a template that does not parse is a 422 with the reason, and nothing is saved."""
    _template_key(event, language)
    current = selectors.template(event, language)
    form = TemplateForm(request.POST or None, initial={"subject": current["subject"], "body": current["body"]})
    failure, status = "", 200
    if request.method == "POST":
        failure = _save_template(request, form, event, language)
        if not failure:
            return redirect(reverse("notifications:template", args=[event, language]) + "?saved=1")
        status = 422
    context = _template_context(event, language, current, form, failure, saved=request.GET.get("saved") == "1")
    return render(request, "notifications/template.html", context | _tabs(request, "templates"), status=status)


def _save_template(request: HttpRequest, form: TemplateForm, event: str, language: str) -> str:
    """The reason the template was not saved, or "" when it was."""
    if not form.is_valid():
        return " ".join(str(e) for errors in form.errors.values() for e in errors)
    try:
        actions.do_save_template(
            event=event, language=language, **form.cleaned_data, actor=actor_of(request), now=timezone.now()
        )
    except DomainError as exc:
        return explain(exc)
    return ""


def _template_context(
    event: str, language: str, current: dict[str, Any], form: TemplateForm, failure: str, saved: bool
) -> dict[str, Any]:
    subject, body = builtin_source(event)
    return {
        "event": event,
        "language": language,
        "languages": LANGUAGES,
        "current": current,
        "form": form,
        "failure": failure,
        "saved": saved,
        "builtin": {"subject": subject, "body": body},
        "syntax": "{{ case.pk }}, {{ case.customer.name }}, {{ link }}, {% if … %}, {% for … %}, {% translate … %}",
    }


@require_POST
@manager_required
def template_preview(request: HttpRequest, event: str, language: str) -> HttpResponse:
    """The edited wording rendered against a made-up case (htmx swaps it under the form)."""
    _template_key(event, language)
    form = TemplateForm(request.POST)
    context: dict[str, Any] = {"failure": "", "preview": None}
    if not form.is_valid():
        context["failure"] = " ".join(str(e) for errors in form.errors.values() for e in errors)
    else:
        try:
            subject, body = actions.preview_template(event=event, language=language, **form.cleaned_data)
            context["preview"] = {"subject": subject, "body": body}
        except DomainError as exc:
            context["failure"] = explain(exc)
    return render(request, "notifications/_preview.html", context, status=422 if context["failure"] else 200)


@require_POST
@manager_required
def template_reset(request: HttpRequest, event: str, language: str) -> HttpResponse:
    _template_key(event, language)
    actions.do_reset_template(event=event, language=language, actor=actor_of(request), now=timezone.now())
    return redirect("notifications:template", event=event, language=language)


# --- webhook endpoints ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@manager_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    """The endpoints, and a form to add one; its secret is shown once, right after creation."""
    form = EndpointForm(request.POST or None)
    failure, created, status = "", None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = actions.do_create_endpoint(
                    name=form.cleaned_data["name"],
                    url=form.cleaned_data["url"],
                    events=form.event_names(),
                    actor=actor_of(request),
                    now=timezone.now(),
                )
                form = EndpointForm()
            except DomainError as exc:
                failure = explain(exc)
        status = 200 if created else 422
    context = {"endpoints": WebhookEndpoint.objects.order_by("name"), "form": form, "failure": failure}
    context |= {"created": created}
    return render(request, "notifications/endpoints.html", context | _tabs(request, "endpoints"), status=status)


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    found = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if found is None:
        raise Http404("no such endpoint")
    return found


@require_http_methods(["GET", "POST"])
@manager_required
def endpoint_edit(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """Rename, move, choose events, deactivate, or give a new secret (shown once)."""
    endpoint = _endpoint_or_404(endpoint_id)
    initial = {"name": endpoint.name, "url": endpoint.url, "events": endpoint.events, "active": endpoint.active}
    form = EndpointForm(request.POST or None, initial=initial, chosen=endpoint.events)
    failure, secret, status = "", "", 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                endpoint = _update_endpoint(request, endpoint, form)
                secret = endpoint.secret if form.cleaned_data["rotate_secret"] else ""
                status = 200
            except DomainError as exc:
                failure = explain(exc)
    recent = selectors.outbox().filter(endpoint=endpoint)[:10]
    context = {"endpoint": endpoint, "form": form, "failure": failure, "secret": secret, "recent": recent}
    context["saved"] = request.method == "POST" and not failure and form.is_valid()
    return render(request, "notifications/endpoint.html", context | _tabs(request, "endpoints"), status=status)


def _update_endpoint(request: HttpRequest, endpoint: WebhookEndpoint, form: EndpointForm) -> WebhookEndpoint:
    data = form.cleaned_data
    return actions.do_update_endpoint(
        endpoint,
        actor=actor_of(request),
        now=timezone.now(),
        rotate_secret=data["rotate_secret"],
        name=data["name"],
        url=data["url"],
        events=form.event_names(),
        active=data["active"],
    )


@require_POST
@manager_required
def endpoint_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """Send a signed test message now and say how it went."""
    endpoint = _endpoint_or_404(endpoint_id)
    context: dict[str, Any] = {"endpoint": endpoint, "failure": "", "message": None}
    try:
        context["message"] = actions.do_send_test(endpoint, actor=actor_of(request), now=timezone.now())
    except DomainError as exc:
        context["failure"] = explain(exc)
    if is_htmx(request):
        return render(request, "notifications/_test_result.html", context, status=422 if context["failure"] else 200)
    if context["message"] is not None:
        return redirect("notifications:message", message_id=context["message"].pk)
    return redirect("notifications:endpoint", endpoint_id=endpoint.pk)
