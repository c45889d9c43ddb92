"""Who may use the staff desk, and the one place cases and commitments are fetched for it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import resolve_url

from promisedesk.breaches.models import Breach, Compensation
from promisedesk.cases.models import Case
from promisedesk.commitments.models import Commitment

if TYPE_CHECKING:
    from django.contrib.auth.models import User

View = Callable[..., HttpResponse]


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def staff_required(view: View) -> View:
    """Logged-in staff only. Anonymous visitors go to the login page (htmx: a client redirect)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            if is_htmx(request):
                # A poll after the session expired must not paste the login page into a table:
                # send the whole window to the login page, coming back to the page it was on.
                response = HttpResponse(status=401)
                response["HX-Redirect"] = redirect_to_login(_page_of(request))["Location"]
                return response
            return redirect_to_login(request.get_full_path())
        if not user.is_staff:
            raise PermissionDenied("the desk is for staff")
        return view(request, *args, **kwargs)

    return wrapped


def _page_of(request: HttpRequest) -> str:
    """The page an htmx request came from (path and query only), else the desk."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if not current.path.startswith("/"):
        return resolve_url("desk:queue")
    return current.path + (f"?{current.query}" if current.query else "")


def actor(request: HttpRequest) -> User:
    """The member of staff acting; only called behind staff_required, so never anonymous."""
    return cast("User", request.user)


def access_case(user: Any, case_id: int) -> Case:
    """The case with the relations the case page shows; 404 when it does not exist or is not visible."""
    if not getattr(user, "is_staff", False):
        raise Http404("no such case")
    found = (
        Case.objects.select_related("customer", "service", "created_by", "department", "assignee")
        .filter(pk=case_id)
        .first()
    )
    if found is None:
        raise Http404("no such case")
    return found


def access_commitment(user: Any, commitment_id: int) -> Commitment:
    """A commitment on a case the user may see; 404 otherwise."""
    found = Commitment.objects.select_related("promise_version", "owner").filter(pk=commitment_id).first()
    if found is None:
        raise Http404("no such commitment")
    access_case(user, found.case_id)
    return found


def access_breach(user: Any, breach_id: int) -> Breach:
    """A breach on a case the user may see, with what its row shows; 404 otherwise."""
    found = (
        Breach.objects.select_related(*BREACH_RELATIONS).filter(pk=breach_id).first()
        if getattr(user, "is_staff", False)
        else None
    )
    if found is None:
        raise Http404("no such breach")
    return found


def access_compensation(user: Any, compensation_id: int) -> Compensation:
    """A compensation on a case the user may see, with what its ledger row shows; 404 otherwise."""
    found = (
        Compensation.objects.select_related(*COMPENSATION_RELATIONS).filter(pk=compensation_id).first()
        if getattr(user, "is_staff", False)
        else None
    )
    if found is None:
        raise Http404("no such compensation")
    return found


# What a breach row and a ledger row show, fetched with the row in one query.
BREACH_RELATIONS = ("case__customer", "case__service", "commitment__promise_version", "compensation", "verified_by")
COMPENSATION_RELATIONS = ("case__customer", "breach__commitment__promise_version")
