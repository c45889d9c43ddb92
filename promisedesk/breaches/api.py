"""Breaches, root causes and compensations over HTTP."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import AwareDatetime, Field

from promisedesk.actors import actor_of
from promisedesk.cases.api import get_case
from promisedesk.errors import Conflict, DomainError
from promisedesk.lib.money import format_money
from promisedesk.schemas import Input, page

from .actions import do_report_breach, do_set_root_cause, do_verify_breach, get_breach, get_compensation
from .compensations import do_approve_compensation, do_decline_compensation, do_issue_compensation
from .models import Breach, Compensation, CompensationStatus, RootCause, Source
from .models import Status as BreachStatus
from .settlement import RESERVED_KEY_PREFIX

router = Router(tags=["breaches"])
compensations_router = Router(tags=["compensations"])
root_causes_router = Router(tags=["breaches"])


class BreachIn(Input):
    case: int
    promise_code: str | None = Field(default=None, max_length=64)
    commitment: int | None = None
    source: Source
    description: str = Field(default="", max_length=5000)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


class VerdictIn(Input):
    verdict: BreachStatus
    root_cause: str = Field(default="", max_length=64)
    note: str = Field(default="", max_length=5000)


class RootCauseSetIn(Input):
    root_cause: str = Field(min_length=1, max_length=64)


class BreachOut(Schema):
    id: int
    case: int
    commitment: int | None
    promise_code: str | None
    source: str
    status: str
    description: str
    detected_at: datetime
    recorded_at: datetime
    root_cause: str
    verified_at: datetime | None
    verified_by: str | None
    verdict_note: str
    exclusion: str
    compensation: int | None


class BreachList(Schema):
    items: list[BreachOut]
    count: int


class RootCauseIn(Input):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")
    name_en: str = Field(min_length=1, max_length=200)
    name_zh: str = Field(min_length=1, max_length=200)


class RootCauseOut(Schema):
    code: str
    name_en: str
    name_zh: str
    active: bool


class RootCauseList(Schema):
    items: list[RootCauseOut]
    count: int


class CompensationOut(Schema):
    id: int
    breach: int | None
    grant: str | None
    reason: str
    case: int
    promise_code: str | None
    kind: str
    amount: str | None
    currency: str
    status: str
    reference: str
    decline_reason: str
    basis: dict[str, Any]
    created_at: datetime
    approved_at: datetime | None
    issued_at: datetime | None
    declined_at: datetime | None


class Total(Schema):
    currency: str
    amount: str


class CompensationList(Schema):
    items: list[CompensationOut]
    count: int
    totals: list[Total]


class ApproveIn(Input):
    amount: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=3)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    note: str = Field(default="", max_length=2000)


class IssueIn(Input):
    reference: str = Field(default="", max_length=100)


class DeclineIn(Input):
    reason: str = Field(min_length=1, max_length=2000)


def render_breach(breach: Breach) -> dict[str, Any]:
    compensation = getattr(breach, "compensation", None)
    return {
        "id": breach.pk,
        "case": breach.case_id,
        "commitment": breach.commitment_id,
        "promise_code": breach.promise_code,
        "source": breach.source,
        "status": breach.status,
        "description": breach.description,
        "detected_at": breach.detected_at,
        "recorded_at": breach.recorded_at,
        "root_cause": breach.root_cause,
        "verified_at": breach.verified_at,
        "verified_by": breach.verified_by.get_username() if breach.verified_by else None,
        "verdict_note": breach.verdict_note,
        "exclusion": breach.exclusion,
        "compensation": compensation.pk if compensation else None,
    }


def render_compensation(c: Compensation) -> dict[str, Any]:
    return {
        "id": c.pk,
        "breach": c.breach_id,
        "grant": c.grant_key,
        "reason": c.reason,
        "case": c.case_id,
        "promise_code": c.breach.promise_code if c.breach else None,
        "kind": c.kind,
        "amount": format_money(c.amount, c.currency),
        "currency": c.currency,
        "status": c.status,
        "reference": c.reference,
        "decline_reason": c.decline_reason,
        "basis": c.basis,
        "created_at": c.created_at,
        "approved_at": c.approved_at,
        "issued_at": c.issued_at,
        "declined_at": c.declined_at,
    }


def _breaches() -> QuerySet[Breach]:
    return Breach.objects.select_related("verified_by", "compensation")


@router.get("", response=BreachList)
def list_breaches(
    request: HttpRequest,
    case: int | None = None,
    promise: str | None = None,
    status: BreachStatus | None = None,
    source: Source | None = None,
    oldest_first: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Newest first; `status=suspected&oldest_first=true` is the verification queue."""
    query = _breaches().order_by(*(("recorded_at", "id") if oldest_first else ("-detected_at", "-id")))
    if case is not None:
        query = query.filter(case_id=case)
    if promise:
        query = query.filter(promise_code=promise)
    if status:
        query = query.filter(status=status)
    if source:
        query = query.filter(source=source)
    return page(query, limit, offset, render_breach)


@router.post("", response={200: BreachOut, 201: BreachOut})
def report_breach(request: HttpRequest, payload: BreachIn) -> Status:
    if (payload.idempotency_key or "").startswith(RESERVED_KEY_PREFIX):
        # Keys an incident's run uses for its own reports: the force-majeure exclusion trusts them.
        raise DomainError(
            "reserved_key", f"idempotency keys starting {RESERVED_KEY_PREFIX!r} are reserved", "idempotency_key"
        )
    breach, created = do_report_breach(
        actor=actor_of(request),
        now=timezone.now(),
        case=get_case(payload.case),
        source=payload.source,
        description=payload.description,
        promise_code=payload.promise_code,
        commitment_id=payload.commitment,
        idempotency_key=payload.idempotency_key,
    )
    return Status(201 if created else 200, render_breach(_breaches().get(pk=breach.pk)))


@router.get("/{breach_id}", response=BreachOut)
def read_breach(request: HttpRequest, breach_id: int) -> dict[str, Any]:
    get_breach(breach_id)
    return render_breach(_breaches().get(pk=breach_id))


@router.post("/{breach_id}/verify", response=BreachOut)
def verify_breach(request: HttpRequest, breach_id: int, payload: VerdictIn) -> dict[str, Any]:
    do_verify_breach(
        get_breach(breach_id),
        actor=actor_of(request),
        now=timezone.now(),
        verdict=payload.verdict,
        root_cause=payload.root_cause,
        note=payload.note,
    )
    return render_breach(_breaches().get(pk=breach_id))


@router.post("/{breach_id}/root-cause", response=BreachOut)
def set_root_cause(request: HttpRequest, breach_id: int, payload: RootCauseSetIn) -> dict[str, Any]:
    do_set_root_cause(get_breach(breach_id), actor=actor_of(request), now=timezone.now(), root_cause=payload.root_cause)
    return render_breach(_breaches().get(pk=breach_id))


@root_causes_router.get("", response=RootCauseList)
def list_root_causes(request: HttpRequest, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    return page(RootCause.objects.order_by("code"), limit, offset, _render_cause)


@root_causes_router.post("", response={201: RootCauseOut})
def create_root_cause(request: HttpRequest, payload: RootCauseIn) -> Status:
    if RootCause.objects.filter(code=payload.code).exists():
        raise Conflict("duplicate", f"root cause {payload.code!r} exists already", "code")
    return Status(201, _render_cause(RootCause.objects.create(**payload.model_dump())))


def _render_cause(cause: RootCause) -> dict[str, Any]:
    return {"code": cause.code, "name_en": cause.name_en, "name_zh": cause.name_zh, "active": cause.active}


def filtered_compensations(
    *,
    case: int | None = None,
    breach: int | None = None,
    status: str | None = None,
    promise: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Compensation]:
    """The ledger's rows for the given filters, newest first (shared by API, page and CSV)."""
    query = Compensation.objects.select_related("breach").order_by("-created_at", "-id")
    if case is not None:
        query = query.filter(case_id=case)
    if breach is not None:
        query = query.filter(breach_id=breach)
    if status:
        query = query.filter(status=status)
    if promise:
        query = query.filter(breach__promise_code=promise)
    if since:
        query = query.filter(created_at__gte=since)
    if until:
        query = query.filter(created_at__lt=until)
    return query


def totals(query: QuerySet[Compensation]) -> list[dict[str, str]]:
    """Sum per currency, excluding declined ones (they cost nothing)."""
    rows = (
        query.exclude(status=CompensationStatus.DECLINED)
        .exclude(amount__isnull=True)
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    )
    return [{"currency": r["currency"], "amount": str(format_money(r["total"], r["currency"]))} for r in rows]


@compensations_router.get("", response=CompensationList)
def list_compensations(
    request: HttpRequest,
    case: int | None = None,
    breach: int | None = None,
    status: CompensationStatus | None = None,
    promise: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    query = filtered_compensations(case=case, breach=breach, status=status, promise=promise, since=since, until=until)
    return {**page(query, limit, offset, render_compensation), "totals": totals(query)}


@compensations_router.get("/export.csv", response={200: None})
def export_compensations(
    request: HttpRequest,
    status: CompensationStatus | None = None,
    promise: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> HttpResponse:
    query = filtered_compensations(status=status, promise=promise, since=since, until=until)
    return compensations_csv(query)


def compensations_csv(query: QuerySet[Compensation]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "id",
            "created_at",
            "case",
            "breach",
            "promise_code",
            "kind",
            "amount",
            "currency",
            "status",
            "reference",
            "approved_at",
            "issued_at",
            "declined_at",
            "decline_reason",
        ]
    )
    for c in query.iterator(chunk_size=2000):
        writer.writerow(
            [
                c.pk,
                c.created_at.isoformat(),
                c.case_id,
                c.breach_id or c.grant_key,
                (c.breach.promise_code or "") if c.breach else "",
                c.kind,
                c.amount if c.amount is not None else "",
                c.currency,
                c.status,
                c.reference,
                c.approved_at.isoformat() if c.approved_at else "",
                c.issued_at.isoformat() if c.issued_at else "",
                c.declined_at.isoformat() if c.declined_at else "",
                c.decline_reason,
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="compensations.csv"'
    return response


@compensations_router.get("/{compensation_id}", response=CompensationOut)
def read_compensation(request: HttpRequest, compensation_id: int) -> dict[str, Any]:
    return render_compensation(get_compensation(compensation_id))


@compensations_router.post("/{compensation_id}/approve", response=CompensationOut)
def approve(request: HttpRequest, compensation_id: int, payload: ApproveIn | None = None) -> dict[str, Any]:
    body = payload or ApproveIn()
    done = do_approve_compensation(
        get_compensation(compensation_id),
        actor=actor_of(request),
        now=timezone.now(),
        amount=body.amount,
        currency=body.currency,
        note=body.note,
    )
    return render_compensation(get_compensation(done.pk))


@compensations_router.post("/{compensation_id}/issue", response=CompensationOut)
def issue(request: HttpRequest, compensation_id: int, payload: IssueIn | None = None) -> dict[str, Any]:
    body = payload or IssueIn()
    done = do_issue_compensation(
        get_compensation(compensation_id), actor=actor_of(request), now=timezone.now(), reference=body.reference
    )
    return render_compensation(get_compensation(done.pk))


@compensations_router.post("/{compensation_id}/decline", response=CompensationOut)
def decline(request: HttpRequest, compensation_id: int, payload: DeclineIn) -> dict[str, Any]:
    done = do_decline_compensation(
        get_compensation(compensation_id), actor=actor_of(request), now=timezone.now(), reason=payload.reason
    )
    return render_compensation(get_compensation(done.pk))
