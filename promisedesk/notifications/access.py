"""Who may do what with notifications: any staff member reads the outbox and retries a failed
message; only managers (the Django group `manager`, or superusers) edit templates and webhook
endpoints."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from promisedesk.breaches.models import Role
from promisedesk.desk.access import staff_required
from promisedesk.errors import DomainError

MANAGER_GROUP = Role.MANAGER.value


def is_manager(user: Any) -> bool:
    """True for active staff superusers and members of the `manager` group."""
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or user.groups.filter(name=MANAGER_GROUP).exists())


def require_manager(user: Any) -> None:
    """For API writes: a 403 in the error shape unless user is a manager."""
    if not is_manager(user):
        raise DomainError("forbidden", "only managers may change templates and webhook endpoints", status=403)


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Desk pages for managers: staff_required, then 403 for anyone else."""

    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_manager(request.user):
            raise PermissionDenied("managers only")
        return view(request, *args, **kwargs)

    return wrapped
