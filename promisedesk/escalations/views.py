"""The escalation page: chains (managers edit them) and the escalations they scheduled."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from promisedesk.desk.access import actor, staff_required
from promisedesk.errors import DomainError

from . import selectors
from .actions import can_edit_chains, do_delete_chain, do_set_chain
from .forms import ChainForm
from .models import DEFAULT_KEY

PAGE_SIZE = 50


@require_GET
@staff_required
def overview(request: HttpRequest) -> HttpResponse:
    """Chains at the top, then escalations by status (pending soonest first, the rest newest first)."""
    status = request.GET.get("status", "pending")
    if status not in selectors.STATUS_TABS:
        status = "pending"
    page = Paginator(selectors.escalations(status), PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "section": "escalation",
        "chains": selectors.chain_rows(),
        "roles": selectors.role_labels(),
        "can_edit": can_edit_chains(request.user),
        "unchained": selectors.promises_without_a_chain(),
        "status": status,
        "counts": selectors.status_counts(),
        "page": page,
        "rows": [selectors.escalation_row(e) for e in page.object_list],
    }
    return render(request, "escalations/overview.html", context)


def _editor(request: HttpRequest) -> None:
    if not can_edit_chains(request.user):
        raise PermissionDenied("only managers can change escalation chains")


@require_http_methods(["GET", "POST"])
@staff_required
def chain(request: HttpRequest, key: str) -> HttpResponse:
    """Edit one chain: `default` or a promise code."""
    _editor(request)
    code = selectors.code_of(key)
    current = selectors.chain_of(code)
    if current is None and code not in selectors.promises_without_a_chain():
        raise Http404("no such promise")
    # A promise's first chain of its own starts as a copy of the default.
    start = current if current is not None else selectors.chain_of(DEFAULT_KEY) or []
    form = ChainForm(request.POST or None, initial=ChainForm.initial_for(start))
    if request.method == "POST" and form.is_valid():
        try:
            do_set_chain(actor=actor(request), now=timezone.now(), promise_code=code, levels=form.levels())
        except DomainError as exc:
            form.add_error(_field(exc, form), selectors.error_text(exc))
        else:
            messages.success(request, _("The escalation chain was saved."))
            return redirect("escalations:overview")
    context = {"section": "escalation", "form": form, "key": key, "title": selectors.chain_title(code)}
    return render(request, "escalations/chain.html", context, status=422 if form.errors else 200)


def _field(exc: DomainError, form: ChainForm) -> str | None:
    """The form field an action's `levels.<i>.<name>` error is about."""
    parts = (exc.field or "").split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    chosen = form.levels()
    index = int(parts[1])
    return f"{chosen[index][0]}_{'on' if parts[2] == 'role' else 'threshold'}" if index < len(chosen) else None


@require_GET
@staff_required
def chain_new(request: HttpRequest) -> HttpResponse:
    """Give a promise its own chain: on to its edit page."""
    _editor(request)
    code = request.GET.get("promise", "")
    if code not in selectors.promises_without_a_chain():
        raise Http404("no such promise without a chain")
    return redirect("escalations:chain", key=code)


@require_POST
@staff_required
def chain_delete(request: HttpRequest, key: str) -> HttpResponse:
    """Remove a promise's own chain (it follows the default again), or the default (the built-in one applies)."""
    _editor(request)
    try:
        do_delete_chain(actor=actor(request), now=timezone.now(), promise_code=selectors.code_of(key))
    except DomainError as exc:
        raise Http404(exc.message) from exc
    if selectors.code_of(key) == DEFAULT_KEY:
        messages.success(request, _("The default chain is the built-in one again."))
    else:
        messages.success(request, _("The promise follows the default chain again."))
    return redirect("escalations:overview")
