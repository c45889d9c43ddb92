"""Working a case on the desk: its stage, whom it is assigned to, notes and customer updates with files,
the appointment, the customer's profile; logging a phone call or a walk-in from any page; naming stages.

Views stay thin: a form checks the shape, an action in promisedesk.cases does the work, and the part
of the page that changed comes back (with the live region out of band, as the other case forms do).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from promisedesk.accounts.models import Department
from promisedesk.cases.actions import (
    do_add_note,
    do_append_event,
    do_assign,
    do_book_appointment,
    do_change_stage,
    do_log_contact,
    do_set_stage_label,
    do_update_customer,
)
from promisedesk.cases.models import Attachment, Customer, Service, Stage, StageLabel
from promisedesk.cases.selectors import default_stage_label
from promisedesk.errors import DomainError

from . import display
from .access import access_case, actor, is_htmx, staff_required
from .views import _after_post, _language
from .work_forms import (
    AppointmentForm,
    AssignForm,
    LogContactForm,
    NoteForm,
    ProfileForm,
    StageForm,
    StageLabelForm,
    new_form_key,
    substatuses_text,
)

MATCHES = 8


def _fail(form: forms.Form, exc: DomainError, fields: dict[str, str | None] | None = None) -> None:
    """Show an action's refusal on the form: on the field it names when the form has it, else on top."""
    field = (fields or {}).get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, display.error_text(exc))


def _done(request: HttpRequest, case_id: int, partial: str, posted: str, form: forms.Form | None) -> HttpResponse:
    """The case page's answer to one of its forms: the form again (cleared when it worked) and what changed."""
    ok = form is None
    extra: dict[str, Any] = {"posted": posted}
    if ok:
        extra["notice"] = _("Recorded.")
    else:
        extra[f"{posted}_form"] = form
    return _after_post(request, case_id, partial=partial, ok=ok, **extra)


@require_POST
@staff_required
def case_stage(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    form = StageForm(request.POST)
    if form.is_valid():
        stage, substatus = form.target()
        try:
            do_change_stage(
                case,
                actor=actor(request),
                now=timezone.now(),
                stage=stage,
                substatus=substatus,
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            _fail(form, exc, {"stage": "move_to", "substatus": "move_to"})
        else:
            return _done(request, case.pk, "desk/_stage_form_update.html", "stage", None)
    return _done(request, case.pk, "desk/_stage_form_update.html", "stage", form)


@require_POST
@staff_required
def case_assign(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    form = AssignForm(request.POST)
    if form.is_valid():
        try:
            do_assign(
                case,
                actor=actor(request),
                now=timezone.now(),
                department=form.cleaned_data["department"] or None,
                assignee=form.cleaned_data["assignee"] or None,
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            _fail(form, exc)
        else:
            return _done(request, case.pk, "desk/_assign_form_update.html", "assign", None)
    return _done(request, case.pk, "desk/_assign_form_update.html", "assign", form)


@require_POST
@staff_required
def case_note(request: HttpRequest, case_id: int) -> HttpResponse:
    """The composer: an internal note or an update to the customer, with files."""
    case = access_case(request.user, case_id)
    form = NoteForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            do_add_note(
                case,
                actor=actor(request),
                now=timezone.now(),
                text=form.cleaned_data["text"],
                to_customer=form.to_customer,
                uploads=form.cleaned_data["upload"],
            )
        except DomainError as exc:
            _fail(form, exc, {"note": "text", "text": "text", "file": "upload"})
        else:
            return _done(request, case.pk, "desk/_note_form_update.html", "note", None)
    return _done(request, case.pk, "desk/_note_form_update.html", "note", form)


@require_POST
@staff_required
def case_appointment(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    form = AppointmentForm(request.POST)
    if form.is_valid():
        start, end = form.window()
        try:
            do_book_appointment(
                case, actor=actor(request), now=timezone.now(), start=start, end=end, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            _fail(form, exc, {"start": "start", "end": "end", "reason": "reason"})
        else:
            return _done(request, case.pk, "desk/_appointment_update.html", "appointment", None)
    return _done(request, case.pk, "desk/_appointment_update.html", "appointment", form)


@require_POST
@staff_required
def case_arrived(request: HttpRequest, case_id: int) -> HttpResponse:
    """Whoever goes to the customer has arrived: the `arrived` event, which stops arrival clocks."""
    case = access_case(request.user, case_id)
    form: AppointmentForm | None = None
    try:
        do_append_event(case, actor=actor(request), now=timezone.now(), type="arrived")
    except DomainError as exc:
        form = AppointmentForm()
        form.add_error(None, display.error_text(exc))
    return _done(request, case.pk, "desk/_appointment_update.html", "appointment", form)


@require_POST
@staff_required
def customer_profile(request: HttpRequest, case_id: int) -> HttpResponse:
    """Edit the tier, time zone and preferences of the case's customer, from the case page."""
    case = access_case(request.user, case_id)
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            do_update_customer(
                case.customer,
                actor=actor(request),
                now=timezone.now(),
                tier=form.cleaned_data["tier"],
                preferences=form.cleaned_data["preferences"],
                timezone=form.cleaned_data["timezone"],
            )
        except DomainError as exc:
            _fail(form, exc)
        else:
            return _done(request, case.pk, "desk/_profile_update.html", "profile", None)
    return _done(request, case.pk, "desk/_profile_update.html", "profile", form)


@require_GET
@staff_required  # type: ignore[arg-type]  # a streamed file is no HttpResponse, but serves as one
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    """A file of a case, for staff, always as a download: never shown inline, so an HTML or SVG file
    someone sent cannot run in the desk's origin."""
    found = Attachment.objects.filter(pk=attachment_id).first()
    if found is None:
        raise Http404("no such attachment")
    access_case(request.user, found.case_id)
    try:
        handle = found.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("the file is missing") from exc
    response = FileResponse(handle, as_attachment=True, filename=found.filename, content_type=found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


# -- a phone call or a walk-in, from any page -------------------------------------------------------


def _contact_form(data: Any = None, **initial: Any) -> LogContactForm:
    services = [(code, name) for code, name in Service.objects.order_by("name").values_list("code", "name")]
    departments = list(Department.objects.order_by("name").values_list("code", "name"))
    return LogContactForm(data, services=services, departments=departments, initial=initial)


def _contact_page(request: HttpRequest, form: LogContactForm, status: int = 200) -> HttpResponse:
    context = {"form": form, "matches": _matches(form), "section": "log"}
    template = "desk/_log_contact.html" if is_htmx(request) else "desk/log_contact.html"
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def log_contact(request: HttpRequest) -> HttpResponse:
    """GET: the form (alone for the top bar's dialog, in a page without script). POST: open the case
    and go to it; a form sent twice opens one case."""
    if request.method == "GET":
        return _contact_page(request, _contact_form(key=new_form_key(), new_locale=_customer_locale()))
    form = _contact_form(request.POST)
    if form.is_valid():
        try:
            case, _created = do_log_contact(
                actor=actor(request),
                now=timezone.now(),
                service_code=form.cleaned_data["service"],
                channel=form.cleaned_data["channel"],
                summary=form.cleaned_data["summary"],
                customer_id=form.cleaned_data.get("customer") or None,
                new_customer=form.new_customer(),
                department=form.cleaned_data["department"] or None,
                key=form.cleaned_data["key"] or None,
            )
        except DomainError as exc:
            _fail(form, exc, LogContactForm.ACTION_FIELDS)
        else:
            url = reverse("desk:case", kwargs={"case_id": case.pk})
            if is_htmx(request):
                return HttpResponse(headers={"HX-Redirect": url})  # a whole new page, not a swap
            return redirect(url)
    return _contact_page(request, form, status=422)


def _customer_locale() -> str:
    return "en" if _language().startswith("en") else "zh-Hans"


def _matches(form: LogContactForm) -> list[Customer]:
    """Customers whose name, phone or email contain what was typed (at least two characters)."""
    query = (form.data.get("q") if form.is_bound else "") or ""
    return find_customers(query)


def find_customers(query: str) -> list[Customer]:
    query = query.strip()[:100]
    # Two letters say little in English; one character of a Chinese name says a lot.
    if len(query) < 2 and not (query and ord(query[0]) >= 0x2E80):
        return []
    found = Customer.objects.filter(Q(name__icontains=query) | Q(phone__icontains=query) | Q(email__icontains=query))
    return list(found.order_by("name", "id")[:MATCHES])


@require_GET
@staff_required
def log_contact_customers(request: HttpRequest) -> HttpResponse:
    """The customers matching what is typed in the logging form; a single match comes already chosen."""
    query = request.GET.get("q", "")
    matches = find_customers(query)
    context = {"matches": matches, "chosen": None, "searched": bool(matches) or len(query.strip()) >= 2}
    return render(request, "desk/_customer_matches.html", context)


# -- the organisation's names for stages ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required
def stage_labels(request: HttpRequest) -> HttpResponse:
    """Name each stage (for all services or one) and its sub-statuses."""
    form = StageLabelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                do_set_stage_label(
                    actor=actor(request),
                    now=timezone.now(),
                    stage=form.cleaned_data["stage"],
                    service_code=form.cleaned_data["service"] or None,
                    label_en=form.cleaned_data["label_en"],
                    label_zh_hans=form.cleaned_data["label_zh_hans"],
                    substatuses=form.cleaned_data["substatuses"],
                )
            except DomainError as exc:
                _fail(form, exc)
            else:
                return redirect(reverse("desk:stages") + "?saved=1")
        status = 422
    return render(request, "desk/stages.html", _stages_context(form), status=status)


def _stages_context(form: StageLabelForm) -> dict[str, Any]:
    language = _language()
    labels = list(StageLabel.objects.select_related("service").order_by("service__code", "stage"))
    general = {label.stage: label for label in labels if label.service_id is None}
    rows = [
        {
            "stage": stage,
            "default": default_stage_label(stage, language),
            "label": general.get(stage),
            "substatuses": substatuses_text(general[stage].substatus_items()) if stage in general else "",
        }
        for stage in Stage.values
    ]
    own = [
        {"label": label, "substatuses": substatuses_text(label.substatus_items())}
        for label in labels
        if label.service_id is not None
    ]
    services = list(Service.objects.order_by("code").values_list("code", "name"))
    return {"section": "stages", "form": form, "rows": rows, "own": own, "services": services}
