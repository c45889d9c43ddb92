"""The desk's complaints: the queue by recovery due time, the "new complaint" form, and the guided
complaint page with its six steps. Thin views over `selectors` and `actions`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from promisedesk.breaches.compensations import approval_limit, do_approve_compensation, do_issue_compensation
from promisedesk.breaches.models import Compensation, RootCause
from promisedesk.desk.access import actor, staff_required
from promisedesk.desk.display import above_limit_text
from promisedesk.desk.display import error_text as desk_error_text
from promisedesk.desk.forms import ApproveForm, IssueForm, errors_text
from promisedesk.errors import DomainError
from promisedesk.lib.money import format_money

from . import selectors
from .actions import do_close_complaint, do_handover, do_open_complaint, do_record_step
from .forms import CloseForm, ComplaintForm, HandoverForm, QueueFilter, StepForm, new_key
from .models import STEP_ORDER, Complaint, Step
from .page import complaint_page

PAGE_SIZE = 50
# What the complaint forms say for the refusals only complaints make, in the reader's language.
ERROR_TEXTS: dict[str, Any] = {
    "not_your_case": gettext_lazy("That case belongs to another customer."),
    "step_out_of_order": gettext_lazy("Take or skip the earlier steps first."),
    "step_recorded": gettext_lazy("This step is already recorded."),
    "steps_open": gettext_lazy("A complaint closes after its follow-up is done or skipped."),
    "complaint_closed": gettext_lazy("The complaint is closed."),
    "unknown_category": gettext_lazy("That is not a complaint category in the list."),
    "in_past": gettext_lazy("The follow-up must fall after now."),
    "external_ref_taken": gettext_lazy("That reference is already used for another case."),
    "reserved_reference": gettext_lazy("References starting with “breach-” are reserved for promisedesk."),
    "step_required": gettext_lazy("The customer must be told the result: this step cannot be skipped."),
    "nothing_changes": gettext_lazy("The complaint is already with that department and person."),
    "before_case": gettext_lazy("A complaint cannot open before the case it is about."),
}


def error_text(exc: DomainError) -> str:
    """The refusal in the reader's language: the complaint's own texts first, then the desk's."""
    text = ERROR_TEXTS.get(exc.code)
    return str(text) if text is not None else desk_error_text(exc)


def _language() -> str:
    return get_language() or "en"


@require_GET
@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """Complaints by next recovery due time: overdue first, then the soonest due."""
    filters = QueueFilter(request.GET or None)
    chosen = filters.values()
    rows = selectors.complaints(
        status=chosen["status"],
        severity=chosen["severity"],
        department=chosen["department"],
        mine=request.user if chosen["mine"] else None,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    shown = [
        {
            "complaint": c,
            "step": selectors.current_step(c),
            "overdue": c.next_due_at is not None and c.next_due_at <= now,
        }
        for c in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "section": "complaints",
        "filters": filters,
        "chosen": chosen,
        "page": page,
        "rows": shown,
        "now": now,
        "query": query.urlencode(),
        "steps": dict(Step.choices),
    }
    return render(request, "complaints/queue.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def new(request: HttpRequest) -> HttpResponse:
    """Log a complaint from any channel; `?about=<case>` fills in the case it is about."""
    language = _language()
    if request.method == "GET":
        initial = {
            "key": new_key(),
            "about": request.GET.get("about") if (request.GET.get("about") or "").isdigit() else None,
        }
        form = ComplaintForm(initial=initial, language=language)
        return render(request, "complaints/new.html", {"section": "complaints", "form": form})
    form = ComplaintForm(request.POST, language=language)
    if form.is_valid():
        customer = form.customer_id()
        if not form.errors:
            data = form.cleaned_data
            try:
                complaint, _created = do_open_complaint(
                    actor=actor(request),
                    now=timezone.now(),
                    account=data["account"],
                    customer_id=customer,
                    about_case_id=data.get("about"),
                    service_code=data.get("service") or None,
                    channel=data["channel"],
                    remedy_wanted=data["remedy_wanted"],
                    remedy_detail=data.get("remedy_detail") or "",
                    severity=data["severity"],
                    category=data.get("category") or None,
                    department=data.get("department") or None,
                    external_ref=f"desk-complaint-{data['key']}",
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, error_text(exc))
            else:
                return redirect("complaints:complaint", complaint_id=complaint.pk)
    return render(request, "complaints/new.html", {"section": "complaints", "form": form}, status=422)


def _complaint(complaint_id: int) -> Complaint:
    try:
        return selectors.get_complaint(complaint_id)
    except DomainError as exc:
        raise Http404("no such complaint") from exc


def _render_page(request: HttpRequest, complaint: Complaint, *, status: int = 200, **forms: Any) -> HttpResponse:
    now = timezone.now()
    context = complaint_page(complaint, now, _language(), request.user)
    context.update(
        section="complaints",
        step_form=forms.get("step_form") or StepForm(),
        handover_form=forms.get("handover_form")
        or HandoverForm(initial={"department": complaint.case.department.code if complaint.case.department else ""}),
        close_form=forms.get("close_form") or CloseForm(),
        failed_step=forms.get("failed_step"),
        root_causes=[(r.code, r.name_in(_language())) for r in RootCause.objects.filter(active=True)],
    )
    return render(request, "complaints/complaint.html", context, status=status)


@require_GET
@staff_required
def complaint(request: HttpRequest, complaint_id: int) -> HttpResponse:
    return _render_page(request, _complaint(complaint_id))


@require_POST
@staff_required
def take_step(request: HttpRequest, complaint_id: int, step: str) -> HttpResponse:
    """Take or skip the current step; the page again with the errors when it cannot be done."""
    found = _complaint(complaint_id)
    if step not in STEP_ORDER:
        raise Http404("no such step")
    form = StepForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            do_record_step(
                found,
                actor=actor(request),
                now=timezone.now(),
                step=step,
                action=form.cleaned_data["action"],
                reason=form.cleaned_data.get("reason") or "",
                fields=form.fields_for(step, request.FILES.getlist("files")),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, error_text(exc))
        else:
            messages.success(request, _("Step recorded: %(step)s.") % {"step": Step(step).label})
            return redirect("complaints:complaint", complaint_id=found.pk)
    return _render_page(request, _complaint(complaint_id), status=422, step_form=form, failed_step=step)


@require_POST
@staff_required
def handover(request: HttpRequest, complaint_id: int) -> HttpResponse:
    found = _complaint(complaint_id)
    form = HandoverForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            do_handover(
                found,
                actor=actor(request),
                now=timezone.now(),
                department=data["department"] or None,
                assignee=data.get("assignee") or None,
                reason=data["reason"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, error_text(exc))
        else:
            messages.success(request, _("Handed over."))
            return redirect("complaints:complaint", complaint_id=found.pk)
    return _render_page(request, _complaint(complaint_id), status=422, handover_form=form)


@require_POST
@staff_required
def close(request: HttpRequest, complaint_id: int) -> HttpResponse:
    found = _complaint(complaint_id)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            do_close_complaint(
                found, actor=actor(request), now=timezone.now(), root_cause=form.cleaned_data["root_cause"]
            )
        except DomainError as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(request, _("Complaint closed."))
            return redirect("complaints:complaint", complaint_id=found.pk)
    return _render_page(request, _complaint(complaint_id), status=422, close_form=form)


@require_POST
@staff_required
def compensation(request: HttpRequest, complaint_id: int, what: str) -> HttpResponse:
    """Approve (within the user's limit) or issue the compensation offered on the complaint."""
    found = _complaint(complaint_id)
    grant = selectors.detail(found, timeline_limit=0).compensation
    if grant is None or what not in ("approve", "issue"):
        raise Http404("no compensation")
    form = ApproveForm(request.POST) if what == "approve" else IssueForm(request.POST)
    if not form.is_valid():  # the same forms and checks as the desk's compensation buttons
        messages.error(request, errors_text(form))
        return redirect("complaints:complaint", complaint_id=found.pk)
    data, who, now = form.cleaned_data, actor(request), timezone.now()
    try:
        if what == "approve":
            do_approve_compensation(grant, actor=who, now=now, amount=data["amount"], note=data["note"])
        else:
            do_issue_compensation(grant, actor=who, now=now, reference=data["reference"])
    except DomainError as exc:
        messages.error(request, _compensation_error(exc, grant, who, data.get("amount")))
    else:
        messages.success(request, _("Compensation approved.") if what == "approve" else _("Compensation issued."))
    return redirect("complaints:complaint", complaint_id=found.pk)


def _compensation_error(exc: DomainError, grant: Compensation, who: Any, amount: Any) -> str:
    """Above the approver's limit says the limit, as on the desk; any other refusal its own sentence."""
    if exc.code != "above_limit":
        return error_text(exc)
    currency = grant.currency
    shown = format_money(amount if amount is not None else grant.amount, currency) or ""
    limit = format_money(approval_limit(who, currency), currency)
    return above_limit_text(f"{shown} {currency}", f"{limit} {currency}")
