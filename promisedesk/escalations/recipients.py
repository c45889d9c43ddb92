"""Who a level of the chain tells about a commitment, decided when the level fires."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model

from promisedesk.accounts.roles import MANAGER_GROUP
from promisedesk.commitments.models import Commitment

from .models import Reason, Role

# What fire-time loading must fetch with each commitment for recipients_for to need no query.
RELATIONS = ("owner", "case__assignee", "case__department__lead", "case__department__manager")


def manager_group() -> Callable[[], list[Any]]:
    """The active members of the `manager` group, loaded at most once by whoever holds the result."""

    @cache
    def load() -> list[Any]:
        return list(get_user_model().objects.filter(groups__name=MANAGER_GROUP, is_active=True).order_by("id"))

    return load


def _people(role: str, commitment: Commitment, managers: Callable[[], list[Any]]) -> tuple[list[Any], str]:
    case = commitment.case
    if role == Role.OWNER:
        person = commitment.owner or case.assignee
        return ([person], "") if person is not None else ([], Reason.NO_OWNER)
    department = case.department
    if role == Role.TEAM_LEAD:
        if department is None:
            return [], Reason.NO_DEPARTMENT
        return ([department.lead], "") if department.lead is not None else ([], Reason.NO_TEAM_LEAD)
    if department is not None and department.manager is not None:
        return [department.manager], ""
    group = managers()
    return (group, "") if group else ([], Reason.NO_MANAGER)


def recipients_for(role: str, commitment: Commitment, managers: Callable[[], list[Any]]) -> tuple[list[Any], str]:
    """(people to email, "") or ([], the reason nobody can be told).

    owner: the commitment's owner, else the case's assignee; team_lead: the lead of
    the case's department; manager: the department's manager, else every member of
    the `manager` group. Inactive people and people with no email are left out.
    """
    people, reason = _people(role, commitment, managers)
    if reason:
        return [], reason
    reachable = [p for p in people if p.is_active and p.email]
    if not reachable:
        return [], Reason.NO_EMAIL if any(p.is_active for p in people) else _nobody(role)
    return reachable, ""


def _nobody(role: str) -> str:
    return {Role.OWNER: Reason.NO_OWNER, Role.TEAM_LEAD: Reason.NO_TEAM_LEAD}.get(role, Reason.NO_MANAGER)  # type: ignore[call-overload]
