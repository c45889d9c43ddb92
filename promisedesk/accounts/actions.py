"""Issuing API tokens; the departments that work cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from .models import ApiToken, Department, hash_token


def do_create_token(user: User, now: datetime, label: str = "") -> str:
    """Create a token for user and return the raw value; it is shown only this once."""
    raw = ApiToken.new_raw_token()
    with transaction.atomic():
        ApiToken.objects.create(user=user, digest=hash_token(raw), label=label, created_at=now)
    return raw


def _staff(usernames: list[str], field: str) -> list[User]:
    """The active staff members named, in the order given; a name that is not one is a 400."""
    from promisedesk.errors import DomainError

    found = {u.username: u for u in User.objects.filter(username__in=usernames, is_active=True, is_staff=True)}
    for name in usernames:
        if name not in found:
            raise DomainError("unknown_user", f"there is no staff member {name!r}", field)
    return [found[name] for name in dict.fromkeys(usernames)]


def _one(username: str | None, field: str) -> User | None:
    return _staff([username], field)[0] if username else None


def do_create_department(
    *,
    actor: User | None,
    now: datetime,
    code: str,
    name: str,
    lead: str | None = None,
    manager: str | None = None,
    members: list[str] | None = None,
) -> Department:
    """A new team that works cases; its lead and manager are whom at-risk warnings escalate to.

    A second department with the same code is a 409 (the code is unique in the database).
    """
    from promisedesk.errors import Conflict

    lead_user, manager_user = _one(lead, "lead"), _one(manager, "manager")
    people = _staff(members or [], "members")
    try:
        with transaction.atomic():
            department = Department.objects.create(code=code, name=name, lead=lead_user, manager=manager_user)
            department.members.set(people)
    except IntegrityError as exc:
        raise Conflict("duplicate", f"a department with code {code!r} exists already", "code") from exc
    return department


def do_update_department(
    department: Department,
    *,
    actor: User | None,
    now: datetime,
    changes: dict[str, Any],
) -> Department:
    """Change a department's name, lead, manager or members (the whole list); only the keys given change.

    A lead or manager set to None leaves the department without one.
    """
    from promisedesk.errors import DomainError

    unknown = set(changes) - {"name", "lead", "manager", "members"}
    if unknown:
        raise DomainError("unknown_field", f"a department has no field {sorted(unknown)[0]!r}", sorted(unknown)[0])
    fields: dict[str, Any] = {}
    if "name" in changes:
        fields["name"] = changes["name"]
    for role in ("lead", "manager"):
        if role in changes:
            fields[role] = _one(changes[role], role)
    people = _staff(changes["members"] or [], "members") if "members" in changes else None
    with transaction.atomic():
        locked = Department.objects.select_for_update().get(pk=department.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        if fields:
            locked.save(update_fields=list(fields))
        if people is not None:
            locked.members.set(people)
    return locked
