"""The desk's incident pages: the list, declaring one, and the incident page with its live counts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from promisedesk.accounts.roles import is_manager
from promisedesk.desk.access import actor, staff_required
from promisedesk.errors import DomainError
from promisedesk.lib.money import format_money

from . import selectors
from .actions import (
    do_attach_by_query,
    do_attach_references,
    do_cancel_run,
    do_close_incident,
    do_declare_incident,
    do_launch_compensation,
    do_launch_notify,
    do_set_force_majeure,
)
from .display import ERROR_TEXTS, SKIP_REASONS
from .forms import CompensateForm, CsvForm, DeclareForm, ForceMajeureForm, NotifyForm, QueryForm
from .models import AttachMethod, Incident, IncidentStatus
from .preview import notice_preview
from .references import UnknownReferences, parse_csv

PAGE_SIZE = 50


def error_text(exc: DomainError) -> str:
    """A refusal in the reader's language (a code not listed keeps the action's English sentence)."""
    if isinstance(exc, UnknownReferences):
        shown = [_("%(reference)s (line %(line)d)") % {"reference": repr(r.text), "line": r.line} for r in exc.unknown]
        return _("%(count)d reference(s) match no case, nothing was attached: %(unknown)s") % {
            "count": len(exc.unknown),
            "unknown": ", ".join(shown[:20]) + (" …" if len(shown) > 20 else ""),
        }
    return str(ERROR_TEXTS.get(exc.code, exc.message))


STATES = ("", "not_notified", "notified", "compensated", "awaiting_approval", "not_compensated", "excluded", "skipped")


def _incident(incident_id: int) -> Incident:
    try:
        return selectors.get_incident(incident_id)
    except DomainError as exc:
        raise Http404(exc.message) from exc


def _promise_codes() -> list[str]:
    from promisedesk.promises.models import Promise

    return list(Promise.objects.order_by("code").values_list("code", flat=True))


@require_GET
@staff_required
def incident_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in IncidentStatus.values:
        status = ""
    page = Paginator(selectors.incidents(status or None), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(incident, selectors.counts_of(incident)) for incident in page.object_list]
    return render(request, "recovery/list.html", {"section": "incidents", "page": page, "rows": rows, "status": status})


@require_http_methods(["GET", "POST"])
@staff_required
def declare(request: HttpRequest) -> HttpResponse:
    form = DeclareForm(
        request.POST or None, initial={"starts_at": timezone.localtime().replace(second=0, microsecond=0)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            incident = do_declare_incident(actor=actor(request), now=timezone.now(), **form.cleaned())
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("The incident was declared. Attach the cases it affected next."))
            return redirect("recovery:incident", incident.pk)
    status = 422 if form.errors else 200
    return render(request, "recovery/declare.html", {"section": "incidents", "form": form}, status=status)


def _page(request: HttpRequest, incident: Incident, status: int = 200, **forms: Any) -> HttpResponse:
    state = request.GET.get("state", "")
    state = state if state in STATES else ""
    cases = Paginator(selectors.affected_cases(incident, state), PAGE_SIZE).get_page(request.GET.get("page"))
    for link in cases.object_list:
        grant = link.compensation
        link.money = f"{format_money(grant.amount, grant.currency)} {grant.currency}" if grant else ""  # type: ignore[attr-defined]
    context = {
        "section": "incidents",
        "incident": incident,
        "services": list(incident.services.all()),
        "state": state,
        "cases": cases,
        "can_decide": is_manager(request.user),
        "preview": notice_preview(incident, ""),
        "query_form": forms.get("query_form") or QueryForm(),
        "csv_form": forms.get("csv_form") or CsvForm(),
        "notify_form": forms.get("notify_form") or NotifyForm(),
        "compensate_form": forms.get("compensate_form") or CompensateForm(promise_codes=_promise_codes()),
        "force_form": forms.get("force_form") or ForceMajeureForm(),
        **_live(incident),
    }
    return render(request, "recovery/incident.html", context, status=status)


def _live(incident: Incident) -> dict[str, Any]:
    runs = selectors.runs_of(incident)
    for run in runs:
        run.reason_lines = [(SKIP_REASONS.get(code, code), n) for code, n in run.skip_reasons.items()]  # type: ignore[attr-defined]
    return {
        "incident": incident,
        "counts": selectors.counts_of(incident),
        "runs": runs[:6],
        "polling": selectors.any_running(runs),
    }


@require_GET
@staff_required
def incident_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _page(request, _incident(incident_id))


@require_GET
@staff_required
def live(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The counts and run progress alone, polled by the page while a run is running."""
    incident = _incident(incident_id)
    return render(request, "recovery/_live.html", _live(incident))


@require_POST
@staff_required
def preview(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The notice as the first affected customer would get it, with the message typed so far."""
    incident = _incident(incident_id)
    form = NotifyForm(request.POST)
    message = form.cleaned_data["message"] if form.is_valid() else ""
    return render(request, "recovery/_preview.html", {"preview": notice_preview(incident, message)})


def _done(request: HttpRequest, incident: Incident, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("recovery:incident", incident.pk)


def _failed(request: HttpRequest, incident: Incident, exc: DomainError, form_name: str, form: Any) -> HttpResponse:
    form.add_error(exc.field if exc.field in form.fields else None, error_text(exc))
    return _page(request, incident, 422, **{form_name: form})


@require_POST
@staff_required
def attach_query(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    form = QueryForm(request.POST)
    if not form.is_valid():
        return _page(request, incident, 422, query_form=form)
    try:
        result = do_attach_by_query(
            incident,
            actor=actor(request),
            now=timezone.now(),
            stages=form.cleaned_data["stages"],
            channels=form.cleaned_data["channels"],
            tiers=form.tier_list(),
            open_only=form.cleaned_data["open_only"],
        )
    except DomainError as exc:
        return _failed(request, incident, exc, "query_form", form)
    text = _("%(attached)d cases attached; %(already)d were attached already.")
    return _done(request, incident, text % {"attached": result.attached, "already": result.already})


@require_POST
@staff_required
def attach_csv(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    form = CsvForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, incident, 422, csv_form=form)
    try:
        result = do_attach_references(
            incident,
            actor=actor(request),
            now=timezone.now(),
            references=parse_csv(form.content()),
            method=AttachMethod.CSV,
            skip_unknown=form.cleaned_data["skip_unknown"],
        )
    except DomainError as exc:
        return _failed(request, incident, exc, "csv_form", form)
    text = _("%(attached)d cases attached; %(already)d were attached already.") % {
        "attached": result.attached,
        "already": result.already,
    }
    if result.unknown:
        unknown = ", ".join(f"{ref.text} ({ref.line})" for ref in result.unknown[:20])
        text += " " + _("Not found (line): %(unknown)s") % {"unknown": unknown}
    return _done(request, incident, text)


@require_POST
@staff_required
def notify(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    form = NotifyForm(request.POST)
    if not form.is_valid():
        return _page(request, incident, 422, notify_form=form)
    try:
        do_launch_notify(incident, actor=actor(request), now=timezone.now(), message=form.cleaned_data["message"])
    except DomainError as exc:
        return _failed(request, incident, exc, "notify_form", form)
    return _done(request, incident, _("Telling every affected customer has started."))


@require_POST
@staff_required
def compensate(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    form = CompensateForm(request.POST, promise_codes=_promise_codes())
    if not form.is_valid():
        return _page(request, incident, 422, compensate_form=form)
    try:
        do_launch_compensation(incident, actor=actor(request), now=timezone.now(), rule=form.rule())
    except DomainError as exc:
        return _failed(request, incident, exc, "compensate_form", form)
    return _done(request, incident, _("Compensating every affected customer has started."))


@require_POST
@staff_required
def force_majeure(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    form = ForceMajeureForm(request.POST)
    if not form.is_valid():
        return _page(request, incident, 422, force_form=form)
    try:
        changed = do_set_force_majeure(
            incident, actor=actor(request), now=timezone.now(), on=None, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        return _failed(request, incident, exc, "force_form", form)
    if not changed.force_majeure:
        return _done(request, incident, _("The incident is no longer force majeure."))
    return _done(request, incident, _("The incident is force majeure: its cases' promises pay no liability."))


@require_POST
@staff_required
def close(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    try:
        do_close_incident(incident, actor=actor(request), now=timezone.now())
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return redirect("recovery:incident", incident.pk)
    return _done(request, incident, _("The incident is closed."))


@require_POST
@staff_required
def cancel_run(request: HttpRequest, incident_id: int, run_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    try:
        run = selectors.get_run(incident, run_id)
        do_cancel_run(run, actor=actor(request), now=timezone.now())
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return redirect("recovery:incident", incident.pk)
    return _done(request, incident, _("The run was stopped; what it did stays done."))
