"""Who may do what with notifications: any staff member reads the outbox and retries a failed
message; only managers (the Django group `manager`, or superusers) edit templates and webhook
endpoints."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from promisedesk.accounts import roles
from promisedesk.accounts.roles import is_manager
from promisedesk.desk.access import staff_required


def require_manager(user: Any) -> None:
    """For API writes: a 403 in the error shape unless user is a manager."""
    roles.require_manager(user, "only managers may change templates and webhook endpoints")


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Desk pages for managers: staff_required, then 403 for anyone else."""

    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_manager(request.user):
            raise PermissionDenied("managers only")
        return view(request, *args, **kwargs)

    return wrapped
