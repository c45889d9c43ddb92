"""Reads for CAPA: actions filtered for the API and the board, one action with its history,
and the verified breaches still waiting for a root cause.

Every list is fetched with a fixed number of queries, whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from promisedesk.breaches.models import Breach, RootCause
from promisedesk.breaches.models import Status as BreachStatus
from promisedesk.errors import NotFound

from .models import WORKING, ActionStatus, CapaEvent, CorrectiveAction

# What a row of the list, a card on the board and the API's shape show, fetched with the action.
RELATIONS = ("owner", "department", "promise", "root_cause", "created_by", "checked_by")


def actions(
    *,
    now: datetime,
    status: str | None = None,
    owner: str | None = None,
    promise: str | None = None,
    department: str | None = None,
    overdue: bool | None = None,
) -> QuerySet[CorrectiveAction]:
    """Actions matching every filter given, the soonest due first. `overdue` means still worked and past due."""
    query = CorrectiveAction.objects.select_related(*RELATIONS).order_by("due_at", "id")
    if status:
        query = query.filter(status=status)
    if owner:
        query = query.filter(owner__username=owner)
    if promise:
        query = query.filter(promise__code=promise)
    if department:
        query = query.filter(department__code=department)
    late = Q(status__in=WORKING, due_at__lte=now)
    if overdue is True:
        query = query.filter(late)
    elif overdue is False:
        query = query.exclude(late)
    return query


def get_action(action_id: int) -> CorrectiveAction:
    found = CorrectiveAction.objects.select_related(*RELATIONS).filter(pk=action_id).first()
    if found is None:
        raise NotFound(f"action {action_id}")
    return found


def history(action: CorrectiveAction) -> list[CapaEvent]:
    return list(CapaEvent.objects.filter(action=action).select_related("actor").order_by("at", "id"))


def pending_root_causes(
    *, since: datetime | None = None, until: datetime | None = None, promise: str | None = None
) -> QuerySet[Breach]:
    """Verified breaches without a root cause, detected in [since, until), the oldest first."""
    query = (
        Breach.objects.filter(status=BreachStatus.VERIFIED, root_cause="")
        .select_related("case__customer", "case__service", "commitment__promise_version")
        .order_by("detected_at", "id")
    )
    if since is not None:
        query = query.filter(detected_at__gte=since)
    if until is not None:
        query = query.filter(detected_at__lt=until)
    if promise:
        query = query.filter(promise_code=promise)
    return query


def root_cause_names(language: str) -> dict[str, str]:
    return {c.code: c.name_in(language) for c in RootCause.objects.all()}


def active_root_causes(language: str) -> list[tuple[str, str]]:
    return [(c.code, c.name_in(language)) for c in RootCause.objects.filter(active=True).order_by("code")]


# The board's columns, left to right.
COLUMNS = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.DONE, ActionStatus.CHECKED)


@dataclass
class Column:
    status: str
    label: str
    cards: list[CorrectiveAction] = field(default_factory=list)


def board(query: QuerySet[CorrectiveAction], limit_checked: int = 30) -> list[Column]:
    """The actions of query by status, cancelled ones left off and only the latest checked ones, in two queries."""
    columns: dict[str, Column] = {status: Column(status, str(ActionStatus(status).label)) for status in COLUMNS}
    for action in query.filter(status__in=COLUMNS[:3]):
        columns[action.status].cards.append(action)
    latest = query.filter(status=ActionStatus.CHECKED).order_by("-checked_at", "-id")[:limit_checked]
    columns[ActionStatus.CHECKED].cards = list(latest)
    return list(columns.values())


def counts_by_status() -> dict[str, int]:
    """How many actions are in each status."""
    from django.db.models import Count

    rows = CorrectiveAction.objects.values_list("status").annotate(n=Count("id")).order_by()
    return {status: n for status, n in rows}


def describe(event: CapaEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "type": event.type,
        "actor": event.actor.get_username() if event.actor else None,
        "note": event.note,
        "data": event.data,
    }
