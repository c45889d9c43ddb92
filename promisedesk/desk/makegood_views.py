"""Breach and make-good on the desk: report a breach or a claim, give it its verdict and root cause,
approve, issue or decline its compensation; the breach queue and the compensation ledger.

Views stay thin: they check the form's shape, call the breach actions, and render the part of
the page that changed. Every form posts `view` (case, queue or ledger: where it was sent from)
and `next` (the page to come back to without htmx).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from promisedesk.actors import actor_of
from promisedesk.breaches.actions import do_report_breach, do_set_root_cause, do_verify_breach
from promisedesk.breaches.api import compensations_csv, filtered_compensations, totals
from promisedesk.breaches.compensations import (
    approval_limit,
    do_approve_compensation,
    do_decline_compensation,
    do_issue_compensation,
)
from promisedesk.breaches.models import Breach, Compensation
from promisedesk.errors import DomainError
from promisedesk.lib.money import format_money

from . import display, makegood, selectors
from .access import access_breach, access_case, access_compensation, is_htmx, staff_required
from .forms import (
    ApproveForm,
    BreachFilter,
    BreachReportForm,
    DeclineForm,
    IssueForm,
    LedgerFilter,
    RootCauseForm,
    VerdictForm,
    errors_text,
)
from .makegood import Failure
from .views import PAGE_SIZE, _case_context, _language

Explain = Callable[[DomainError], str]


def _attempt(
    request: HttpRequest,
    form: forms.Form,
    kind: str,
    pk: int | None,
    act: Callable[[dict[str, Any]], object],
    explain: Explain = display.error_text,
) -> Failure | None:
    """Validate form and run act on its cleaned data; a Failure to show inline when either says no."""
    values = {name: request.POST.get(name, "") for name in form.fields}
    if not form.is_valid():
        return Failure(kind, errors_text(form), pk, values)
    try:
        act(form.cleaned_data)
    except DomainError as exc:
        return Failure(kind, explain(exc), pk, values)
    return None


def _where(request: HttpRequest) -> str:
    where = request.POST.get("view", "case")
    return where if where in ("case", "queue", "ledger") else "case"


def _next(request: HttpRequest, default: str) -> str:
    """The desk page the form was on (its filters and page included); default when missing or foreign."""
    wanted = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=False)
    return wanted if safe and urlsplit(wanted).path.startswith("/desk/") else default


def _params_of(url: str) -> QueryDict:
    return QueryDict(urlsplit(url).query)


# The case page ---------------------------------------------------------------------------------


def _case_response(request: HttpRequest, case_id: int, failure: Failure | None, notice: str = "") -> HttpResponse:
    """htmx: the make-good section again, with the clocks, timeline and stage out of band.
    Without htmx: back to the case when it worked, the case page with the error when not."""
    case = access_case(request.user, case_id)
    context = _case_context(request, case, failure=failure, makegood_notice="" if failure else notice)
    status = 422 if failure else 200
    if is_htmx(request):
        return render(request, "desk/_makegood_update.html", context, status=status)
    if failure is None:
        return redirect(reverse("desk:case", args=[case.pk]) + "#makegood")
    return render(request, "desk/case.html", context, status=status)


@require_POST
@staff_required
def breach_report(request: HttpRequest, case_id: int) -> HttpResponse:
    """Report a broken promise, or claim it on the customer's behalf: pick the promise, say what happened."""
    case = access_case(request.user, case_id)
    form = BreachReportForm(request.POST)

    def act(data: dict[str, Any]) -> None:
        do_report_breach(
            actor=actor_of(request),
            now=timezone.now(),
            case=case,
            source=form.cleaned_source(),
            description=data["description"],
            commitment_id=data["commitment"],
            idempotency_key=request.POST.get("idempotency_key") or None,
        )

    failure = _attempt(request, form, "report", None, act)
    return _case_response(request, case.pk, failure, notice=_("Recorded."))


# Breaches: verdict and root cause ----------------------------------------------------------------


def _breach_response(request: HttpRequest, breach: Breach, failure: Failure | None, notice: str) -> HttpResponse:
    if _where(request) == "case":
        return _case_response(request, breach.case_id, failure, notice)
    back = _next(request, reverse("desk:breaches"))
    if not is_htmx(request):
        if failure is None:
            return redirect(back)
        return render(request, "desk/breaches.html", _breaches_context(request, _params_of(back), failure), status=422)
    fresh = access_breach(request.user, breach.pk)
    language = _language()
    row = makegood.breach_row(fresh, language, makegood.root_causes(language))
    makegood.attach_failure([row], failure)
    chosen = _breach_filter(_params_of(back)).values()  # the page the row is on: its tab counts
    context = {
        "row": row,
        "notice": "" if failure else notice,
        "counts": makegood.breach_counts(source=chosen["source"], promise=chosen["promise"]),
        "chosen": chosen,
        "next": back,
    }
    return render(request, "desk/_breach_row_update.html", context, status=422 if failure else 200)


@require_POST
@staff_required
def breach_verify(request: HttpRequest, breach_id: int) -> HttpResponse:
    """Verify a suspected breach with its root cause (it is made good at once), or reject it with the reason."""
    breach = access_breach(request.user, breach_id)

    def act(data: dict[str, Any]) -> None:
        do_verify_breach(
            breach,
            actor=actor_of(request),
            now=timezone.now(),
            verdict=data["verdict"],
            root_cause=data["root_cause"],
            note=data["note"],
        )

    failure = _attempt(request, VerdictForm(request.POST), "breach", breach.pk, act)
    verdict = request.POST.get("verdict")
    return _breach_response(request, breach, failure, _("Verified.") if verdict == "verified" else _("Rejected."))


@require_POST
@staff_required
def breach_root_cause(request: HttpRequest, breach_id: int) -> HttpResponse:
    """Name (or correct) the root cause of a verified breach, such as one the clock found."""
    breach = access_breach(request.user, breach_id)

    def act(data: dict[str, Any]) -> None:
        do_set_root_cause(breach, actor=actor_of(request), now=timezone.now(), root_cause=data["root_cause"])

    failure = _attempt(request, RootCauseForm(request.POST), "breach", breach.pk, act)
    return _breach_response(request, breach, failure, _("Saved."))


# Compensations: approve, issue, decline ----------------------------------------------------------


def _compensation_response(
    request: HttpRequest, compensation: Compensation, failure: Failure | None, notice: str
) -> HttpResponse:
    if _where(request) != "ledger":
        return _case_response(request, compensation.case_id, failure, notice)
    back = _next(request, reverse("desk:ledger"))
    if not is_htmx(request):
        if failure is None:
            return redirect(back)
        return render(request, "desk/ledger.html", _ledger_context(request, _params_of(back), failure), status=422)
    fresh = access_compensation(request.user, compensation.pk)
    context = {
        "row": makegood.ledger_row(fresh, _language(), failure),
        "notice": "" if failure else notice,
        "totals": totals(filtered_compensations(**_ledger_filter(_params_of(back)).query())),  # the page's totals
        "next": back,
    }
    return render(request, "desk/_ledger_row_update.html", context, status=422 if failure else 200)


def _above_limit(request: HttpRequest, compensation: Compensation) -> Explain:
    """Say the approver's limit in their language; the action's own sentence for every other error."""

    def explain(exc: DomainError) -> str:
        if exc.code != "above_limit":
            return display.error_text(exc)
        currency = compensation.currency
        limit = approval_limit(actor_of(request), currency)
        amount = request.POST.get("amount") or format_money(compensation.amount, currency) or ""
        return display.above_limit_text(f"{amount} {currency}", f"{format_money(limit, currency)} {currency}")

    return explain


@require_POST
@staff_required
def compensation_approve(request: HttpRequest, compensation_id: int) -> HttpResponse:
    """Approve within the approver's limit; the amount is entered only when none could be computed."""
    compensation = access_compensation(request.user, compensation_id)

    def act(data: dict[str, Any]) -> None:
        do_approve_compensation(
            compensation, actor=actor_of(request), now=timezone.now(), amount=data["amount"], note=data["note"]
        )

    failure = _attempt(
        request, ApproveForm(request.POST), "compensation", compensation.pk, act, _above_limit(request, compensation)
    )
    return _compensation_response(request, compensation, failure, _("Approved."))


@require_POST
@staff_required
def compensation_issue(request: HttpRequest, compensation_id: int) -> HttpResponse:
    """Hand the compensation over; without a reference (voucher code, refund number) one is made up."""
    compensation = access_compensation(request.user, compensation_id)

    def act(data: dict[str, Any]) -> None:
        do_issue_compensation(compensation, actor=actor_of(request), now=timezone.now(), reference=data["reference"])

    failure = _attempt(request, IssueForm(request.POST), "compensation", compensation.pk, act)
    return _compensation_response(request, compensation, failure, _("Issued."))


@require_POST
@staff_required
def compensation_decline(request: HttpRequest, compensation_id: int) -> HttpResponse:
    compensation = access_compensation(request.user, compensation_id)

    def act(data: dict[str, Any]) -> None:
        do_decline_compensation(compensation, actor=actor_of(request), now=timezone.now(), reason=data["reason"])

    failure = _attempt(request, DeclineForm(request.POST), "compensation", compensation.pk, act)
    return _compensation_response(request, compensation, failure, _("Declined."))


# The breach queue --------------------------------------------------------------------------------


def _breach_filter(params: QueryDict) -> BreachFilter:
    """The queue's filters from its query string, checked (bad values are reported and left out)."""
    filters = BreachFilter(params or None, promise_codes=selectors.promise_codes())
    if filters.is_bound:
        filters.is_valid()
    return filters


def _breaches_context(request: HttpRequest, params: QueryDict, failure: Failure | None = None) -> dict[str, Any]:
    filters = _breach_filter(params)
    chosen = filters.values()
    page = Paginator(makegood.breach_queue(**chosen), PAGE_SIZE).get_page(params.get("page"))
    language = _language()
    causes = makegood.root_causes(language)
    rows = [makegood.breach_row(b, language, causes) for b in page.object_list]
    makegood.attach_failure(rows, failure)
    return {
        "section": "breaches",
        "filters": filters,
        "chosen": chosen,
        "promise_codes": filters.promise_codes,
        "page": page,
        "rows": rows,
        "root_causes": causes.choices,
        "counts": makegood.breach_counts(source=chosen["source"], promise=chosen["promise"]),
        "next": request.get_full_path() if request.method == "GET" else _next(request, reverse("desk:breaches")),
    }


@require_GET
@staff_required
def breach_list(request: HttpRequest) -> HttpResponse:
    """Breaches to decide on, the oldest suspected one first; tabs for the others."""
    return render(request, "desk/breaches.html", _breaches_context(request, request.GET))


# The compensation ledger -------------------------------------------------------------------------


def _ledger_filter(params: QueryDict) -> LedgerFilter:
    """The ledger's filters from its query string, checked (bad values are reported and left out)."""
    filters = LedgerFilter(params or None, promise_codes=selectors.promise_codes())
    if filters.is_bound:
        filters.is_valid()
    return filters


def _ledger_context(request: HttpRequest, params: QueryDict, failure: Failure | None = None) -> dict[str, Any]:
    filters = _ledger_filter(params)
    query = makegood.ledger_query(**filters.query())
    page = Paginator(query, PAGE_SIZE).get_page(params.get("page"))
    language = _language()
    export = params.copy()
    export.pop("page", None)
    return {
        "section": "ledger",
        "filters": filters,
        "chosen": filters.values(),
        "promise_codes": filters.promise_codes,
        "page": page,
        "rows": [makegood.ledger_row(c, language, failure) for c in page.object_list],
        "totals": totals(query),
        "export_url": reverse("desk:ledger_csv") + (f"?{export.urlencode()}" if export else ""),
        "next": request.get_full_path() if request.method == "GET" else _next(request, reverse("desk:ledger")),
    }


@require_GET
@staff_required
def ledger(request: HttpRequest) -> HttpResponse:
    """Every compensation in a period, for a promise, in a status; totals per currency (declined ones cost nothing)."""
    return render(request, "desk/ledger.html", _ledger_context(request, request.GET))


@require_GET
@staff_required
def ledger_csv(request: HttpRequest) -> HttpResponse:
    """The ledger's rows as CSV, with the same filters as the page."""
    return compensations_csv(filtered_compensations(**_ledger_filter(request.GET).query()))
