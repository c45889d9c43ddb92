"""Who is a manager: the one check behind every manager-only change (templates, webhooks,
departments, intake sources, escalation chains)."""

from __future__ import annotations

from typing import Any

from promisedesk.errors import DomainError

# The Django group whose members are managers; approval limits name the same role.
MANAGER_GROUP = "manager"


def is_manager(user: Any) -> bool:
    """True for active staff who are superusers or members of the `manager` group."""
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or user.groups.filter(name=MANAGER_GROUP).exists())


def require_manager(user: Any, message: str) -> None:
    """A 403 in the error shape, saying `message`, unless user is a manager."""
    if not is_manager(user):
        raise DomainError("forbidden", message, status=403)
