"""The CAPA desk: the board of actions by status, a new action (prefilled from a breach, a complaint,
an incident or a promise), the action's page with its effectiveness and history, and the root-cause
to-do list with the list of root causes.

Views stay thin: they read the form, call an action, and render the part that changed. Staff only;
the actions themselves say who may move what (owner or manager; a manager checks).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from promisedesk.accounts.roles import is_manager
from promisedesk.breaches.actions import do_set_root_cause
from promisedesk.breaches.models import Breach, RootCause
from promisedesk.breaches.models import Status as BreachStatus
from promisedesk.cases.models import Case
from promisedesk.desk.access import actor, is_htmx, staff_required
from promisedesk.desk.forms import errors_text
from promisedesk.errors import DomainError
from promisedesk.recovery.models import Incident

from . import display, selectors
from .actions import (
    Links,
    do_add_root_cause,
    do_cancel_action,
    do_check_action,
    do_complete_action,
    do_create_action,
    do_set_root_cause_active,
    do_start_action,
    do_update_action,
    may_work_on,
)
from .effectiveness import measure_action
from .forms import (
    ActionForm,
    BoardFilter,
    CancelForm,
    CategoriseForm,
    CheckForm,
    CompleteForm,
    EditForm,
    PendingFilter,
    RootCauseForm,
)
from .models import DEFAULT_WINDOW_DAYS, CorrectiveAction

PENDING_PAGE = 100


def _language() -> str:
    return get_language() or "en"


# -- the board ----------------------------------------------------------------------------------


def _board_context(request: HttpRequest, params: QueryDict) -> dict[str, Any]:
    filters = BoardFilter(params or None)
    chosen = filters.values()
    now = timezone.now()
    query = selectors.actions(
        now=now,
        owner=request.user.get_username() if chosen["mine"] else None,
        department=chosen["department"] or None,
        promise=chosen["promise"] or None,
    )
    columns = selectors.board(query)
    language = _language()
    for column in columns:
        for card in column.cards:
            card.cause_label = card.root_cause.name_in(language) if card.root_cause else ""  # type: ignore[attr-defined]
    return {
        "section": "capa",
        "filters": filters,
        "chosen": chosen,
        "columns": columns,
        "manager": is_manager(request.user),
        "now": now,
        "query": params.urlencode(),
        **_pending_preview(now, language),
    }


BOARD_PENDING = 5


def _pending_preview(now: Any, language: str) -> dict[str, Any]:
    """The oldest verified breaches of the last 90 days still without a root cause, for the board's to-do list."""
    pending = selectors.pending_root_causes(since=now - timedelta(days=90))
    return {
        "pending": pending.count(),
        "pending_rows": list(pending[:BOARD_PENDING]),
        "choices": selectors.active_root_causes(language),
    }


@require_GET
@staff_required
def board(request: HttpRequest) -> HttpResponse:
    """Open, in progress, done (awaiting the check) and checked actions, the soonest due first."""
    return render(request, "capa/board.html", _board_context(request, request.GET))


# -- one action ---------------------------------------------------------------------------------


def _action_context(request: HttpRequest, action: CorrectiveAction, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    effect = measure_action(action, now)
    edit = extra.pop("edit", None) or EditForm(
        initial={
            "owner": action.owner.get_username(),
            "due_at": timezone.localtime(action.due_at),
            "description": action.description,
            "window_days": action.window_days,
        }
    )
    return {
        "section": "capa",
        "action": action,
        "now": now,
        "effect": effect,
        "bars": display.bars(effect) if effect else None,
        "history": [display.history_row(e) for e in selectors.history(action)],
        "cause_name": display.cause_name(action, _language()),
        "can_work": may_work_on(request.user, action),
        "manager": is_manager(request.user),
        "edit": edit,
        "complete": extra.pop("complete", None) or CompleteForm(),
        "check": extra.pop("check", None) or CheckForm(),
        "cancel": extra.pop("cancel", None) or CancelForm(),
        **extra,
    }


@require_GET
@staff_required
def action_page(request: HttpRequest, action_id: int) -> HttpResponse:
    """The action: its facts, effectiveness (before and after), what may be done next, and its history."""
    return render(request, "capa/action.html", _action_context(request, _access(action_id)))


def _access(action_id: int) -> CorrectiveAction:
    from django.http import Http404

    try:
        return selectors.get_action(action_id)
    except DomainError as exc:
        raise Http404("no such action") from exc


# Moves: what each posts, the form that reads it, and the action that does it.
MOVES: dict[str, tuple[type[forms.Form] | None, Callable[..., Any]]] = {
    "start": (None, lambda a, req, now, data: do_start_action(a, actor=actor(req), now=now)),
    "complete": (CompleteForm, lambda a, req, now, data: do_complete_action(a, actor=actor(req), now=now, **data)),
    "check": (CheckForm, lambda a, req, now, data: do_check_action(a, actor=actor(req), now=now, **data)),
    "cancel": (CancelForm, lambda a, req, now, data: do_cancel_action(a, actor=actor(req), now=now, **data)),
}


@require_POST
@staff_required
def move(request: HttpRequest, action_id: int, to: str) -> HttpResponse:
    """Start, complete, check or cancel; from the board (htmx: the board again) or the action's page."""
    action = _access(action_id)
    if to not in MOVES:
        from django.http import Http404

        raise Http404("no such move")
    form_class, act = MOVES[to]
    form = form_class(request.POST) if form_class else None
    error = ""
    if form is not None and not form.is_valid():
        error = errors_text(form)
    else:
        try:
            act(action, request, timezone.now(), form.cleaned_data if form else {})
        except DomainError as exc:
            error = display.error_text(exc)
    if request.POST.get("view") == "board":
        return _board_response(request, error)
    if not error:
        return redirect("capa:action", action_id=action.pk)
    context = _action_context(request, _access(action_id), error=error, **({to: form} if form else {}))
    return render(request, "capa/action.html", context, status=422)


def _board_response(request: HttpRequest, error: str) -> HttpResponse:
    params = QueryDict(request.POST.get("query", ""))
    if not is_htmx(request):
        if error:
            context = {**_board_context(request, params), "error": error}
            return render(request, "capa/board.html", context, status=422)
        return redirect(reverse("capa:board") + (f"?{params.urlencode()}" if params else ""))
    context = {**_board_context(request, params), "error": error, "notice": "" if error else _("Saved.")}
    return render(request, "capa/_board.html", context, status=422 if error else 200)


@require_POST
@staff_required
def edit(request: HttpRequest, action_id: int) -> HttpResponse:
    """Hand over, move the due date (a reason is required and recorded), reword, change the window."""
    action = _access(action_id)
    form = EditForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            do_update_action(
                action,
                actor=actor(request),
                now=timezone.now(),
                owner=data["owner"],
                due_at=data["due_at"],
                reason=data["reason"],
                description=data["description"],
                window_days=data["window_days"],
            )
        except DomainError as exc:
            form.add_error(display.field_of(exc, form), display.error_text(exc))
    if form.errors:
        return render(request, "capa/action.html", _action_context(request, action, edit=form), status=422)
    return redirect("capa:action", action_id=action.pk)


# -- a new action -------------------------------------------------------------------------------


def _prefill(params: QueryDict) -> dict[str, Any]:
    """What a breach, a complaint case, an incident or a promise says about the action to open."""
    initial: dict[str, Any] = {"window_days": DEFAULT_WINDOW_DAYS}
    due = timezone.localtime(timezone.now() + timedelta(days=14)).replace(second=0, microsecond=0)
    initial["due_at"] = due
    breach_id, case_id, incident_id = (_number(params.get(name)) for name in ("breach", "complaint_case", "incident"))
    breach = Breach.objects.filter(pk=breach_id).first() if breach_id else None
    if breach is not None:
        initial |= {"breach": breach.pk, "promise": breach.promise_code or "", "root_cause": breach.root_cause}
        initial["description"] = _("Breach #%(breach)s on case #%(case)s: %(what)s") % {
            "breach": breach.pk,
            "case": breach.case_id,
            "what": breach.description or breach.get_source_display(),
        }
    case = Case.objects.filter(pk=case_id).first() if case_id else None
    if case is not None:
        initial["complaint_case"] = case.pk
        initial["description"] = _("Complaint case #%(case)s: %(summary)s") % {"case": case.pk, "summary": case.summary}
    incident = Incident.objects.filter(pk=incident_id).first() if incident_id else None
    if incident is not None:
        initial |= {"incident": incident.pk, "title": _("Prevent: %(title)s") % {"title": incident.title}}
        initial["description"] = incident.reason
    if params.get("promise"):
        initial["promise"] = params["promise"]
    return initial


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


@require_http_methods(["GET", "POST"])
@staff_required
def new(request: HttpRequest) -> HttpResponse:
    """Open an action; any staff member may. Links arrive as ?breach=, ?complaint_case=, ?incident=, ?promise=."""
    causes = selectors.active_root_causes(_language())
    if request.method == "GET":
        initial = {**_prefill(request.GET), "owner": request.user.get_username()}
        return render(request, "capa/new.html", _new_context(ActionForm(initial=initial, root_causes=causes)))
    form = ActionForm(request.POST, root_causes=causes)
    if form.is_valid():
        data = form.cleaned_data
        links = Links(
            promise=data["promise"] or None,
            breach=data["breach"],
            incident=data["incident"],
            complaint_case=data["complaint_case"],
        )
        try:
            action = do_create_action(
                actor=actor(request),
                now=timezone.now(),
                kind=data["kind"],
                title=data["title"],
                owner=data["owner"],
                due_at=data["due_at"],
                root_cause=data["root_cause"] or None,
                description=data["description"],
                department=data["department"] or None,
                links=links,
                window_days=data["window_days"],
            )
        except DomainError as exc:
            form.add_error(display.field_of(exc, form), display.error_text(exc))
        else:
            return redirect("capa:action", action_id=action.pk)
    return render(request, "capa/new.html", _new_context(form), status=422)


def _new_context(form: ActionForm) -> dict[str, Any]:
    breach_id = _number(str(form["breach"].value() or ""))
    breach = Breach.objects.select_related("case").filter(pk=breach_id).first() if breach_id else None
    return {"section": "capa", "form": form, "breach": breach}


# -- root causes --------------------------------------------------------------------------------


def _pending_context(request: HttpRequest, params: QueryDict, **extra: Any) -> dict[str, Any]:
    filters = PendingFilter(params or None)
    chosen = filters.values()
    now = timezone.now()
    since = None if chosen["period"] == "all" else now - timedelta(days=int(chosen["period"]))
    query = selectors.pending_root_causes(since=since, promise=chosen["promise"] or None)
    language = _language()
    return {
        "section": "capa",
        "filters": filters,
        "chosen": chosen,
        "count": query.count(),
        "rows": list(query[:PENDING_PAGE]),
        "choices": selectors.active_root_causes(language),
        "causes": RootCause.objects.order_by("code"),
        "language": language,
        "manager": is_manager(request.user),
        "add": extra.pop("add", None) or RootCauseForm(),
        "query": params.urlencode(),
        **extra,
    }


@require_GET
@staff_required
def root_causes(request: HttpRequest) -> HttpResponse:
    """Verified breaches still without a root cause (oldest first, one click each), and the list of causes."""
    return render(request, "capa/root_causes.html", _pending_context(request, request.GET))


@require_POST
@staff_required
def categorise(request: HttpRequest, breach_id: int) -> HttpResponse:
    """Name a breach's root cause through the breach action; htmx: the row says so in place."""
    breach = Breach.objects.filter(pk=breach_id, status=BreachStatus.VERIFIED).first()
    form = CategoriseForm(request.POST)
    error = ""
    if breach is None:
        error = _("That breach is not a verified one.")
    elif not form.is_valid():
        error = errors_text(form)
    else:
        try:
            do_set_root_cause(
                breach, actor=actor(request), now=timezone.now(), root_cause=form.cleaned_data["root_cause"]
            )
        except DomainError as exc:
            error = display.error_text(exc)
    if is_htmx(request):
        fresh = Breach.objects.select_related("case__service", "case__customer").filter(pk=breach_id).first()
        context = {
            "b": fresh,
            "error": error,
            "done": not error,
            "cause": selectors.root_cause_names(_language()).get(fresh.root_cause, "") if fresh else "",
            "choices": selectors.active_root_causes(_language()),
        }
        return render(request, "capa/_pending_row.html", context, status=422 if error else 200)
    back = reverse("capa:root_causes") + (f"?{request.POST.get('query')}" if request.POST.get("query") else "")
    if error:
        params = QueryDict(request.POST.get("query", ""))
        return render(request, "capa/root_causes.html", _pending_context(request, params, error=error), status=422)
    return redirect(back)


@require_POST
@staff_required
def add_root_cause(request: HttpRequest) -> HttpResponse:
    """Managers: a new root cause to choose from."""
    form = RootCauseForm(request.POST)
    if form.is_valid():
        try:
            do_add_root_cause(actor=actor(request), now=timezone.now(), **form.cleaned_data)
        except DomainError as exc:
            form.add_error(display.field_of(exc, form), display.error_text(exc))
    if form.errors:
        return render(request, "capa/root_causes.html", _pending_context(request, QueryDict(), add=form), status=422)
    return redirect(reverse("capa:root_causes") + "#causes")


@require_POST
@staff_required
def set_root_cause_active(request: HttpRequest, code: str) -> HttpResponse:
    """Managers: retire a root cause from the choices, or offer it again."""
    active = request.POST.get("active") == "1"
    try:
        do_set_root_cause_active(actor=actor(request), now=timezone.now(), code=code, active=active)
    except DomainError as exc:
        context = _pending_context(request, QueryDict(), error=display.error_text(exc))
        return render(request, "capa/root_causes.html", context, status=exc.status)
    return redirect(reverse("capa:root_causes") + "#causes")
