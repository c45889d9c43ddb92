"""Reads about complaints shared by the API and the desk: the queue and one complaint in full.

The queue is ordered by the next recovery due time (the earliest due time among the
complaint case's open clocks, so overdue complaints come first), read with a fixed
number of queries however many rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Min, Prefetch, Q, QuerySet

from promisedesk.breaches.models import Compensation
from promisedesk.cases.models import CaseEvent
from promisedesk.commitments.models import OPEN_STATES, Commitment
from promisedesk.errors import NotFound

from .models import STEP_ORDER, Complaint, ComplaintStatus, RecoveryStep, next_step

ACTIVE = "active"  # open or resolved: everything not closed
STATUS_FILTERS = (ACTIVE, "all", *ComplaintStatus.values)


def grant_key(complaint_id: int) -> str:
    """The key of the compensation offered on a complaint (one per complaint)."""
    return f"complaint:{complaint_id}"


def complaints(
    *,
    status: str = ACTIVE,
    severity: str = "",
    department: str = "",
    about: int | None = None,
    mine: Any = None,
    customer: int | None = None,
) -> QuerySet[Complaint]:
    """Complaints with what a queue row shows, ordered by next recovery due time (none due: last)."""
    open_due = Min("case__commitments__due_at", filter=Q(case__commitments__state__in=OPEN_STATES))
    query = (
        Complaint.objects.select_related(
            "case__customer", "case__department", "case__assignee", "case__service", "category"
        )
        .prefetch_related(Prefetch("steps", queryset=RecoveryStep.objects.order_by("at", "id")))
        .annotate(next_due_at=open_due)
    )
    if status == ACTIVE:
        query = query.exclude(status=ComplaintStatus.CLOSED)
    elif status != "all":
        query = query.filter(status=status)
    if severity:
        query = query.filter(severity=severity)
    if department:
        query = query.filter(case__department__code=department)
    if about is not None:
        query = query.filter(case__about_id=about)
    if customer is not None:
        query = query.filter(case__customer_id=customer)
    if mine is not None:
        query = query.filter(Q(case__assignee=mine) | Q(follow_up_commitment__owner=mine))
    return query.order_by(F("next_due_at").asc(nulls_last=True), "-created_at", "-id")


def current_step(complaint: Complaint) -> str | None:
    """The first step neither done nor skipped (uses prefetched steps when there are some)."""
    return next_step(row.step for row in complaint.steps.all())


def get_complaint(complaint_id: int) -> Complaint:
    found = complaints(status="all").filter(pk=complaint_id).first()
    if found is None:
        raise NotFound(f"complaint {complaint_id}")
    return found


@dataclass
class ComplaintDetail:
    """One complaint in full: its steps, the recovery clocks, the linked case and the compensation."""

    complaint: Complaint
    steps: list[RecoveryStep]
    commitments: list[Commitment]
    compensation: Compensation | None
    about_events: list[CaseEvent]

    @property
    def current_step(self) -> str | None:
        return next_step(row.step for row in self.steps)

    def step(self, name: str) -> RecoveryStep | None:
        return next((row for row in self.steps if row.step == name), None)


def detail(complaint: Complaint, *, timeline_limit: int = 100) -> ComplaintDetail:
    """Everything the complaint page and `GET /complaints/{id}` show, in a few queries."""
    steps = sorted(complaint.steps.all(), key=lambda row: (STEP_ORDER.index(row.step), row.pk))
    commitments = list(
        Commitment.objects.filter(case_id=complaint.case_id)
        .select_related("promise_version", "owner")
        .order_by("due_at", "id")
    )
    compensation = Compensation.objects.filter(grant_key=grant_key(complaint.pk)).first()
    about_events: list[CaseEvent] = []
    if complaint.case.about_id is not None:
        about_events = list(
            CaseEvent.objects.filter(case_id=complaint.case.about_id)
            .select_related("actor")
            .order_by("-at", "-id")[:timeline_limit]
        )
    return ComplaintDetail(complaint, steps, commitments, compensation, about_events)


def next_due(commitments: list[Commitment]) -> datetime | None:
    due = [c.due_at for c in commitments if c.is_open and c.due_at is not None]
    return min(due, default=None)
