"""What the guided complaint page shows, assembled from one `selectors.detail` read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from promisedesk.breaches.compensations import approval_limit
from promisedesk.breaches.models import CompensationStatus
from promisedesk.cases.models import CaseEvent
from promisedesk.commitments.models import Commitment
from promisedesk.desk.display import event_label

from . import selectors
from .models import STEP_ORDER, Complaint, RecoveryStep, Step


@dataclass
class StepView:
    name: str
    label: str
    number: int
    row: RecoveryStep | None
    current: bool

    @property
    def state(self) -> str:
        if self.row is not None:
            return str(self.row.status)
        return "current" if self.current else "waiting"


@dataclass
class ClockView:
    commitment: Commitment
    label: str
    overdue: bool


def _clock(commitment: Commitment, now: datetime, language: str) -> ClockView:
    version = commitment.promise_version
    label = version.statement_in(language) if version is not None else commitment.statement
    overdue = commitment.is_open and commitment.due_at is not None and commitment.due_at <= now
    return ClockView(commitment, label, overdue)


def _may(user: Any, grant: Any, status: str) -> bool:
    if grant is None or grant.status != status:
        return False
    if status != CompensationStatus.PROPOSED:
        return True
    limit = approval_limit(user, grant.currency)
    return limit is None or (grant.amount is not None and grant.amount <= limit)


def _labelled(events: list[CaseEvent]) -> list[tuple[CaseEvent, str]]:
    """Each event with its label in the reader's language, as the desk's case page shows it."""
    return [(event, event_label(event.type)) for event in events]


def complaint_page(complaint: Complaint, now: datetime, language: str, user: Any) -> dict[str, Any]:
    full = selectors.detail(complaint)
    current = full.current_step
    steps = [
        StepView(name, str(Step(name).label), number, full.step(name), name == current)
        for number, name in enumerate(STEP_ORDER, start=1)
    ]
    listened = full.step("listen")
    grant = full.compensation
    events = list(
        CaseEvent.objects.filter(case_id=complaint.case_id).select_related("actor").order_by("-at", "-id")[:100]
    )
    return {
        "complaint": complaint,
        "case": complaint.case,
        "about": complaint.case.about,
        "steps": steps,
        "current": current,
        "heard": (listened.data or {}).get("account", "") if listened is not None else "",
        "clocks": [_clock(c, now, language) for c in full.commitments],
        "grant": grant,
        "may_approve": _may(user, grant, CompensationStatus.PROPOSED),
        "may_issue": _may(user, grant, CompensationStatus.APPROVED),
        "limit": approval_limit(user, grant.currency) if grant is not None else None,
        "about_events": _labelled(full.about_events),
        "events": _labelled(events),
        "category": complaint.category.name_in(language) if complaint.category else "",
        "now": now,
    }
