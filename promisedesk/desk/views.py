"""The staff desk: thin views that read through selectors and change things only through actions."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from promisedesk.cases.actions import do_append_event, do_record_oral_commitment
from promisedesk.cases.models import Case
from promisedesk.cases.selectors import StageNames
from promisedesk.commitments.actions import do_fulfil_commitment
from promisedesk.errors import DomainError
from promisedesk.promises.models import Promise

from . import display, makegood, selectors
from .access import access_case, access_commitment, actor, is_htmx, staff_required
from .forms import EventForm, OralPromiseForm, QueueFilter

PAGE_SIZE = 50
EVENT_UPDATE = "desk/_event_form_update.html"
ORAL_UPDATE = "desk/_oral_form_update.html"


def _language() -> str:
    return get_language() or "en"


def _queue_context(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    codes = selectors.promise_codes()
    people = selectors.queue_people()
    filters = QueueFilter(
        request.GET or None,
        promise_codes=codes,
        departments=[code for code, _name in people.departments],
        staff=people.staff,
    )
    if filters.is_bound:
        filters.is_valid()
    chosen = filters.values()
    scope = {
        "department": chosen["department"],
        "assignee": chosen["assignee"],
        "mine": request.user if chosen["mine"] else None,
    }
    commitments = selectors.queue_commitments(
        now=now, view=chosen["view"], state=chosen["state"], promise=chosen["promise"], **scope
    )
    page = Paginator(commitments, PAGE_SIZE).get_page(request.GET.get("page"))
    language = _language()
    names = StageNames.load()
    return {
        "section": "queue",
        "now": now,
        "filters": filters,
        "chosen": chosen,
        "promise_codes": codes,
        "people": people,
        "page": page,
        "rows": [selectors.clock_row(c, now, language, names) for c in page.object_list],
        "counts": selectors.queue_counts(now, **scope),
    }


@require_GET
@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "desk/queue.html", _queue_context(request))


@require_GET
@staff_required
def queue_rows(request: HttpRequest) -> HttpResponse:
    """The queue's list alone, for the 30-second htmx refresh."""
    return render(request, "desk/_queue_rows.html", _queue_context(request))


def _case_context(request: HttpRequest, case: Case, **extra: Any) -> dict[str, Any]:
    from .work_forms import AppointmentForm, AssignForm, NoteForm, ProfileForm, StageForm, preferences_text

    now = timezone.now()
    language = _language()
    clocks = selectors.case_clocks(case, now, language)
    work = selectors.case_work(case, language)
    timeline = selectors.case_timeline(case, work.attachments, work.names)
    arrived = selectors.arrival(timeline)
    section = makegood.case_makegood(case, clocks, timeline, language, failure=extra.pop("failure", None))
    # htmx requests from the case page carry the stamp of the make-good section they show; the
    # section comes back out of band only when it changed, so typing in its forms is not wiped.
    shown = request.POST.get("makegood_stamp") or request.GET.get("makegood_stamp")
    return {
        "section": "queue",
        "now": now,
        "case": case,
        "clocks": clocks,
        "timeline": timeline,
        "makegood": section,
        "makegood_oob": shown is not None and shown != section.stamp,
        "event_form": extra.pop("event_form", None) or EventForm(),
        "oral_form": extra.pop("oral_form", None) or OralPromiseForm(),
        "work": work,
        "arrived": arrived,
        "stage_form": extra.pop("stage_form", None)
        or StageForm(initial={"move_to": f"{case.stage}:{case.substatus}" if case.substatus else case.stage}),
        "assign_form": extra.pop("assign_form", None)
        or AssignForm(
            initial={
                "department": case.department.code if case.department else "",
                "assignee": case.assignee.get_username() if case.assignee else "",
            }
        ),
        "note_form": extra.pop("note_form", None) or NoteForm(),
        "appointment_form": extra.pop("appointment_form", None)
        or AppointmentForm(initial={"start": case.appointment_start, "end": case.appointment_end}),
        "profile_form": extra.pop("profile_form", None)
        or ProfileForm(
            initial={
                "tier": case.customer.tier,
                "timezone": case.customer.timezone,
                "preferences": preferences_text(case.customer.preferences),
            }
        ),
        **extra,
    }


@require_GET
@staff_required
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    return render(request, "desk/case.html", _case_context(request, case))


@require_GET
@staff_required
def case_live(request: HttpRequest, case_id: int) -> HttpResponse:
    """Clocks and timeline alone, for htmx (and the make-good section out of band when it changed)."""
    case = access_case(request.user, case_id)
    return render(request, "desk/_case_live_poll.html", _case_context(request, case))


def _after_post(request: HttpRequest, case_id: int, *, partial: str, ok: bool, **extra: Any) -> HttpResponse:
    """htmx: the posted form (or the live region) again, with clocks and timeline swapped out of band.
    Without htmx: back to the case page when it worked, the page with the errors when not."""
    case = access_case(request.user, case_id)  # fresh: the action may have moved its stage
    status = 200 if ok else 422
    context = _case_context(request, case, **extra)
    if is_htmx(request):
        return render(request, partial, context, status=status)
    if ok:
        return redirect("desk:case", case_id=case.pk)
    return render(request, "desk/case.html", context, status=status)


@require_POST
@staff_required
def case_event(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    form = EventForm(request.POST)
    if form.is_valid():
        try:
            do_append_event(
                case,
                actor=actor(request),
                now=timezone.now(),
                type=form.cleaned_data["event_type"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            form.add_error(None, display.error_text(exc))
        else:
            return _after_post(request, case.pk, partial=EVENT_UPDATE, ok=True, posted="event", notice=_("Recorded."))
    return _after_post(request, case.pk, partial=EVENT_UPDATE, ok=False, posted="event", event_form=form)


@require_POST
@staff_required
def case_oral(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    form = OralPromiseForm(request.POST)
    if form.is_valid():
        due_at, target = form.due()
        try:
            do_record_oral_commitment(
                case,
                actor=actor(request),
                now=timezone.now(),
                statement=form.cleaned_data["statement"],
                owner=form.cleaned_data["owner"] or None,
                due_at=due_at,
                target=target,
            )
        except DomainError as exc:
            form.add_error(OralPromiseForm.ACTION_FIELDS.get(exc.field or ""), display.error_text(exc))
        else:
            return _after_post(request, case.pk, partial=ORAL_UPDATE, ok=True, posted="oral", notice=_("Recorded."))
    return _after_post(request, case.pk, partial=ORAL_UPDATE, ok=False, posted="oral", oral_form=form)


@require_POST
@staff_required
def commitment_fulfil(request: HttpRequest, commitment_id: int) -> HttpResponse:
    """Mark an oral promise kept. Written promises are kept by the events their standard names."""
    commitment = access_commitment(request.user, commitment_id)
    error = ""
    if commitment.promise_version_id is not None:
        error = _("A written promise is kept by recording the event that stops its clock.")
    else:
        try:
            do_fulfil_commitment(commitment, actor=actor(request), now=timezone.now())
        except DomainError as exc:
            error = display.error_text(exc)
    return _after_post(
        request, commitment.case_id, partial="desk/_case_live_update.html", ok=not error, live_error=error
    )


@require_GET
@staff_required
def promise_list(request: HttpRequest) -> HttpResponse:
    return render(request, "desk/promises.html", {"section": "promises", "rows": selectors.catalogue(_language())})


@require_GET
@staff_required
def promise_detail(request: HttpRequest, code: str) -> HttpResponse:
    promise = Promise.objects.filter(code=code).first()
    if promise is None:
        raise Http404("no such promise")
    rows = selectors.promise_versions(promise, _language())
    return render(request, "desk/promise.html", {"section": "promises", "promise": promise, "rows": rows})
