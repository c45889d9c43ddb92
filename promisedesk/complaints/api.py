"""Complaints over HTTP: open one, list and read them, take the recovery steps, hand over, close.

`POST /complaints` is idempotent by `external_ref`. Steps go through
`POST /complaints/{id}/steps/{step}` with `{action: done | skip, reason, …}`; the
step's own fields are listed on `StepIn` and refused on any other step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import AwareDatetime, Field

from promisedesk.actors import actor_of
from promisedesk.cases.api import CommitmentOut, render_commitment
from promisedesk.cases.models import Channel
from promisedesk.errors import DomainError
from promisedesk.schemas import Input, page

from . import selectors
from .actions import do_close_complaint, do_handover, do_open_complaint, do_record_step
from .models import Complaint, ComplaintStatus, Remedy, Severity, Step
from .steps import StepFields

router = Router(tags=["complaints"])


class ComplaintIn(Input):
    account: str = Field(min_length=1, max_length=10_000, description="the customer's account, verbatim")
    customer: int | None = Field(default=None, description="a customer id; defaults to the customer of `about`")
    about: int | None = Field(default=None, description="the case complained about; null for a general complaint")
    service: str | None = Field(default=None, max_length=64, description="defaults to the service of `about`")
    channel: Channel = Channel.PHONE
    remedy_wanted: Remedy = Remedy.OTHER
    remedy_detail: str = Field(default="", max_length=2_000)
    severity: Severity = Severity.MEDIUM
    category: str | None = Field(default=None, max_length=64)
    department: str | None = Field(default=None, max_length=64)
    assignee: str | None = Field(default=None, max_length=150)
    external_ref: str | None = Field(
        default=None, max_length=100, description="the same ref returns the same complaint"
    )
    opened_at: AwareDatetime | None = None
    amount_in_dispute: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)


class StepIn(Input):
    action: str = Field(pattern=r"^(done|skip)$")
    reason: str = Field(default="", max_length=2_000, description="why the step is skipped (required to skip)")
    account: str = Field(default="", max_length=10_000, description="listen: the account as heard")
    how: str = Field(default="", max_length=16, description="apologise: message, phone or in_person")
    note: str = Field(default="", max_length=4_000, description="apologise, collect_facts, follow_up")
    solution: str = Field(default="", max_length=4_000, description="offer")
    compensation_kind: str = Field(default="", max_length=16, description="offer: refund, voucher, …")
    compensation_amount: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    outcome: str = Field(default="", max_length=4_000, description="tell_result")
    follow_up_at: AwareDatetime | None = Field(default=None, description="tell_result: default in three days")
    root_cause: str = Field(default="", max_length=64, description="follow_up: closes the complaint")


class HandoverIn(Input):
    department: str | None = Field(max_length=64)
    assignee: str | None = Field(default=None, max_length=150)
    reason: str = Field(min_length=1, max_length=2_000)


class CloseIn(Input):
    root_cause: str = Field(min_length=1, max_length=64)


class StepOut(Schema):
    step: str
    status: str
    reason: str
    actor: str | None
    at: AwareDatetime
    data: dict[str, Any]


class CompensationOut(Schema):
    id: int
    kind: str
    amount: str | None
    currency: str
    status: str
    reference: str


class ComplaintSummary(Schema):
    id: int
    case: int
    customer: int
    customer_name: str
    about: int | None
    service: str
    channel: str
    status: ComplaintStatus
    severity: Severity
    category: str | None
    remedy_wanted: Remedy
    department: str | None
    assignee: str | None
    current_step: str | None
    next_due_at: AwareDatetime | None
    summary: str
    source_breach: int | None
    created_at: AwareDatetime


class ComplaintOut(ComplaintSummary):
    account: str
    remedy_detail: str
    root_cause: str
    follow_up_due_at: AwareDatetime | None
    resolved_at: AwareDatetime | None
    closed_at: AwareDatetime | None
    stage: str
    steps: list[StepOut]
    commitments: list[CommitmentOut]
    compensation: CompensationOut | None


class ComplaintList(Schema):
    items: list[ComplaintSummary]
    count: int


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


def render_summary(complaint: Complaint) -> dict[str, Any]:
    case = complaint.case
    return {
        "id": complaint.pk,
        "case": case.pk,
        "customer": case.customer_id,
        "customer_name": case.customer.name,
        "about": case.about_id,
        "service": case.service.code,
        "channel": case.channel,
        "status": complaint.status,
        "severity": complaint.severity,
        "category": complaint.category.code if complaint.category else None,
        "remedy_wanted": complaint.remedy_wanted,
        "department": case.department.code if case.department else None,
        "assignee": case.assignee.get_username() if case.assignee else None,
        "current_step": selectors.current_step(complaint),
        "next_due_at": _utc(getattr(complaint, "next_due_at", None)),
        "summary": case.summary,
        "source_breach": complaint.source_breach_id,
        "created_at": _utc(complaint.created_at),
    }


def render_step(row: Any) -> dict[str, Any]:
    return {
        "step": row.step,
        "status": row.status,
        "reason": row.reason,
        "actor": row.actor.get_username() if row.actor else None,
        "at": _utc(row.at),
        "data": row.data,
    }


def render_complaint(complaint: Complaint) -> dict[str, Any]:
    full = selectors.detail(complaint, timeline_limit=0)
    grant = full.compensation
    return {
        **render_summary(complaint),
        "next_due_at": _utc(selectors.next_due(full.commitments)),
        "account": complaint.account,
        "remedy_detail": complaint.remedy_detail,
        "root_cause": complaint.root_cause,
        "follow_up_due_at": _utc(complaint.follow_up_due_at),
        "resolved_at": _utc(complaint.resolved_at),
        "closed_at": _utc(complaint.closed_at),
        "stage": complaint.case.stage,
        "steps": [render_step(row) for row in full.steps],
        "commitments": [render_commitment(c) for c in full.commitments],
        "compensation": {
            "id": grant.pk,
            "kind": grant.kind,
            "amount": str(grant.amount) if grant.amount is not None else None,
            "currency": grant.currency,
            "status": grant.status,
            "reference": grant.reference,
        }
        if grant is not None
        else None,
    }


def _read(complaint_id: int) -> dict[str, Any]:
    return render_complaint(selectors.get_complaint(complaint_id))


@router.post("/complaints", response={200: ComplaintOut, 201: ComplaintOut})
def open_complaint(request: HttpRequest, payload: ComplaintIn) -> Status:
    """Open a complaint (from any channel); the same `external_ref` returns the same complaint (200)."""
    complaint, created = do_open_complaint(
        actor=actor_of(request),
        now=timezone.now(),
        account=payload.account,
        customer_id=payload.customer,
        about_case_id=payload.about,
        service_code=payload.service,
        channel=payload.channel,
        remedy_wanted=payload.remedy_wanted,
        remedy_detail=payload.remedy_detail,
        severity=payload.severity,
        category=payload.category,
        department=payload.department,
        assignee=payload.assignee,
        external_ref=payload.external_ref,
        opened_at=payload.opened_at,
        amount_in_dispute=payload.amount_in_dispute,
    )
    return Status(201 if created else 200, _read(complaint.pk))


@router.get("/complaints", response=ComplaintList)
def list_complaints(
    request: HttpRequest,
    status: str = selectors.ACTIVE,
    severity: Severity | None = None,
    department: str | None = None,
    about: int | None = None,
    customer: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """By next recovery due time, overdue first. `status`: active (the default: open or resolved),
    open, resolved, closed or all."""
    if status not in selectors.STATUS_FILTERS:
        raise DomainError("invalid", f"status is one of {', '.join(selectors.STATUS_FILTERS)}", "status")
    query = selectors.complaints(
        status=status,
        severity=severity or "",
        department=department or "",
        about=about,
        customer=customer,
    )
    return page(query, limit, offset, render_summary)


@router.get("/complaints/{complaint_id}", response=ComplaintOut)
def read_complaint(request: HttpRequest, complaint_id: int) -> dict[str, Any]:
    """With its steps, recovery commitments and their due times, the linked case and the compensation."""
    return _read(complaint_id)


@router.post("/complaints/{complaint_id}/steps/{step}", response={201: ComplaintOut})
def record_step(request: HttpRequest, complaint_id: int, step: Step, payload: StepIn) -> Status:
    """Take (`done`) or skip (`skip`, with a reason) the next recovery step."""
    complaint = selectors.get_complaint(complaint_id)
    fields = StepFields(
        account=payload.account,
        how=payload.how,
        note=payload.note,
        solution=payload.solution,
        compensation_kind=payload.compensation_kind,
        compensation_amount=payload.compensation_amount,
        outcome=payload.outcome,
        follow_up_at=payload.follow_up_at,
        root_cause=payload.root_cause,
    )
    do_record_step(
        complaint,
        actor=actor_of(request),
        now=timezone.now(),
        step=step,
        action=payload.action,
        reason=payload.reason,
        fields=fields,
    )
    return Status(201, _read(complaint_id))


@router.post("/complaints/{complaint_id}/handover", response=ComplaintOut)
def handover(request: HttpRequest, complaint_id: int, payload: HandoverIn) -> dict[str, Any]:
    """Hand the complaint to a department (and person), saying why; recorded as `assigned`."""
    complaint = selectors.get_complaint(complaint_id)
    do_handover(
        complaint,
        actor=actor_of(request),
        now=timezone.now(),
        department=payload.department,
        assignee=payload.assignee,
        reason=payload.reason,
    )
    return _read(complaint_id)


@router.post("/complaints/{complaint_id}/close", response=ComplaintOut)
def close(request: HttpRequest, complaint_id: int, payload: CloseIn) -> dict[str, Any]:
    """Close a complaint whose follow-up is recorded, with its root cause (a code of /root-causes)."""
    complaint = selectors.get_complaint(complaint_id)
    do_close_complaint(complaint, actor=actor_of(request), now=timezone.now(), root_cause=payload.root_cause)
    return _read(complaint_id)
