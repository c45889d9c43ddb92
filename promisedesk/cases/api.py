"""Customers, services, cases, timelines and oral promises over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import AwareDatetime, Field

from promisedesk.accounts.api import router as departments_router
from promisedesk.actors import actor_of
from promisedesk.commitments.models import OPEN_STATES, Commitment
from promisedesk.errors import DomainError, NotFound
from promisedesk.lib.durations import parse_duration
from promisedesk.schemas import Input, page

from .actions import (
    KEEP,
    do_append_event,
    do_assign,
    do_book_appointment,
    do_change_stage,
    do_create_customer,
    do_create_service,
    do_open_case,
    do_record_oral_commitment,
    do_set_stage_label,
    do_update_customer,
)
from .models import Attachment, Case, CaseEvent, Channel, Customer, Locale, Priority, Service, Stage, StageLabel

router = Router(tags=["cases"])
# Departments are served beside the cases they are assigned (GET/POST /departments, PATCH /departments/{code}).
router.add_router("", departments_router)

Code = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
Currency = Field(pattern=r"^[A-Z]{3}$")


class CustomerIn(Input):
    external_ref: str | None = Field(default=None, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str = Field(default="", max_length=40)
    tier: str = Field(default="standard", min_length=1, max_length=40)
    locale: Locale = Locale.ZH_HANS
    preferences: dict[str, Any] = Field(default_factory=dict)
    timezone: str = Field(default="", max_length=64, description="IANA zone; empty means the site's")


class CustomerPatch(Input):
    """Only the fields sent change; `timezone` "" or null means the site's zone."""

    tier: str | None = Field(default=None, min_length=1, max_length=40)
    preferences: dict[str, Any] | None = None
    timezone: str | None = Field(default=None, max_length=64)


class CustomerOut(Schema):
    id: int
    external_ref: str | None
    name: str
    email: str
    phone: str
    tier: str
    locale: str
    preferences: dict[str, Any]
    timezone: str


class ServiceIn(Input):
    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    price: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    currency: str = Currency


class ServiceOut(Schema):
    code: str
    name: str
    price: str | None
    currency: str


class Appointment(Input):
    start: AwareDatetime
    end: AwareDatetime


class CaseIn(Input):
    external_ref: str | None = Field(default=None, max_length=100)
    customer: int
    service: str = Field(min_length=1, max_length=64)
    channel: Channel = Channel.API
    priority: Priority = Priority.NORMAL
    price: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    opened_at: AwareDatetime | None = None
    appointment: Appointment | None = None
    summary: str = Field(default="", max_length=500)


class CommitmentOut(Schema):
    id: int
    promise_code: str | None
    promise_version: int | None
    statement: str
    owner: str | None
    state: str
    started_at: AwareDatetime | None
    due_at: AwareDatetime | None
    warn_at: AwareDatetime | None
    met_at: AwareDatetime | None
    breached_at: AwareDatetime | None
    calendar: int | None


class CaseOut(Schema):
    id: int
    external_ref: str | None
    customer: int
    service: str
    channel: str
    priority: str
    price: str | None
    currency: str
    opened_at: AwareDatetime
    stage: str
    substatus: str
    department: str | None
    assignee: str | None
    appointment: dict[str, AwareDatetime] | None
    summary: str
    commitments: list[CommitmentOut]


class CaseSummary(Schema):
    id: int
    external_ref: str | None
    customer: int
    service: str
    channel: str
    priority: str
    opened_at: AwareDatetime
    stage: str
    substatus: str
    department: str | None
    assignee: str | None


class EventIn(Input):
    type: str = Field(min_length=1, max_length=64)
    at: AwareDatetime | None = None
    note: str = Field(default="", max_length=5000)
    data: dict[str, Any] = Field(default_factory=dict)
    visible_to_customer: bool | None = Field(
        default=None, description="shown on the customer's page; by default as the type says; never for internal_note"
    )


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class EventOut(Schema):
    id: int
    type: str
    at: AwareDatetime
    note: str
    data: dict[str, Any]
    actor: str | None
    system: bool
    visible_to_customer: bool
    attachments: list[AttachmentOut]
    recorded_at: AwareDatetime


class StageIn(Input):
    stage: Stage
    substatus: str = Field(default="", max_length=64)
    note: str = Field(default="", max_length=5000)
    at: AwareDatetime | None = None


class AssignIn(Input):
    """Only the fields sent change: a department code and/or a staff member (username or id); null clears."""

    department: str | None = Field(default=None, min_length=1, max_length=64)
    assignee: str | int | None = None
    note: str = Field(default="", max_length=5000)


class AppointmentIn(Input):
    start: AwareDatetime
    end: AwareDatetime
    reason: str = Field(default="", max_length=1000, description="required when an appointment is booked already")


class SubstatusIn(Input):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    label_en: str = Field(default="", max_length=100)
    label_zh_hans: str = Field(default="", max_length=100)


class StageLabelIn(Input):
    """Names a stage for every service (service null) or one; no name and no sub-status removes the label."""

    service: str | None = Field(default=None, min_length=1, max_length=64)
    stage: Stage
    label_en: str = Field(default="", max_length=100)
    label_zh_hans: str = Field(default="", max_length=100)
    substatuses: list[SubstatusIn] = Field(default_factory=list, max_length=30)


class StageLabelOut(Schema):
    id: int | None
    service: str | None
    stage: str
    label_en: str
    label_zh_hans: str
    substatuses: list[dict[str, str]]


class OralIn(Input):
    statement: str = Field(min_length=1, max_length=1000)
    due_at: AwareDatetime | None = None
    target: str | None = Field(default=None, max_length=32)
    owner: str | int | None = None
    liability: dict[str, Any] | None = None
    stop_on: list[str] = Field(default_factory=list, max_length=10)


def list_of(schema: type[Schema]) -> type[Schema]:
    return type(f"{schema.__name__}List", (Schema,), {"__annotations__": {"items": list[schema], "count": int}})  # type: ignore[valid-type]


def render_customer(c: Customer) -> dict[str, Any]:
    return {
        "id": c.pk,
        "external_ref": c.external_ref,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "tier": c.tier,
        "locale": c.locale,
        "preferences": c.preferences,
        "timezone": c.timezone,
    }


def render_service(s: Service) -> dict[str, Any]:
    return {
        "code": s.code,
        "name": s.name,
        "price": str(s.price) if s.price is not None else None,
        "currency": s.currency,
    }


def render_commitment(c: Commitment) -> dict[str, Any]:
    return {
        "id": c.pk,
        "promise_code": c.promise_code,
        "promise_version": c.version_number,
        "statement": c.statement or (c.promise_version.statement_in("en") if c.promise_version else ""),
        "owner": c.owner.get_username() if c.owner else None,
        "state": c.state,
        "started_at": _utc(c.started_at),
        "due_at": _utc(c.due_at),
        "warn_at": _utc(c.warn_at),
        "met_at": _utc(c.met_at),
        "breached_at": _utc(c.breached_at),
        "calendar": c.calendar_id,
    }


def render_summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "external_ref": case.external_ref,
        "customer": case.customer_id,
        "service": case.service.code,
        "channel": case.channel,
        "priority": case.priority,
        "opened_at": _utc(case.opened_at),
        "stage": case.stage,
        "substatus": case.substatus,
        "department": case.department.code if case.department else None,
        "assignee": case.assignee.get_username() if case.assignee else None,
    }


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


def render_case(case: Case, commitments: list[Commitment] | None = None) -> dict[str, Any]:
    """The case with its commitments (read now, unless the caller has them in hand)."""
    if commitments is None:
        commitments = list(case.commitments.select_related("promise_version", "owner").order_by("id"))
    appointment = None
    if case.appointment_start and case.appointment_end:
        appointment = {"start": _utc(case.appointment_start), "end": _utc(case.appointment_end)}
    return {
        **render_summary(case),
        "price": str(case.price) if case.price is not None else None,
        "currency": case.currency,
        "appointment": appointment,
        "summary": case.summary,
        "commitments": [render_commitment(c) for c in commitments],
    }


def render_event(e: CaseEvent) -> dict[str, Any]:
    return {
        "id": e.pk,
        "type": e.type,
        "at": e.at,
        "note": e.note,
        "data": e.data,
        "actor": e.actor.get_username() if e.actor else None,
        "system": e.system,
        "visible_to_customer": e.visible_to_customer,
        "attachments": [render_attachment(a) for a in e.attachments.all()],
        "recorded_at": e.recorded_at,
    }


def render_attachment(a: Attachment) -> dict[str, Any]:
    return {"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256}


def render_stage_label(label: StageLabel) -> dict[str, Any]:
    return {
        "id": label.pk,
        "service": label.service.code if label.service else None,
        "stage": label.stage,
        "label_en": label.label_en,
        "label_zh_hans": label.label_zh_hans,
        "substatuses": label.substatus_items(),
    }


CASE_RELATIONS = ("service", "customer", "department", "assignee")


def get_case(case_id: int) -> Case:
    found = Case.objects.select_related(*CASE_RELATIONS).filter(pk=case_id).first()
    if found is None:
        raise NotFound(f"case {case_id}")
    return found


@router.post("customers", response={201: CustomerOut})
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status:
    data = payload.model_dump()
    data["email"] = data["email"] or ""
    return Status(201, render_customer(do_create_customer(now=timezone.now(), **data)))


@router.get("customers", response=list_of(CustomerOut))
def list_customers(request: HttpRequest, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    return page(Customer.objects.order_by("id"), limit, offset, render_customer)


@router.get("customers/{customer_id}", response=CustomerOut)
def read_customer(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    found = Customer.objects.filter(pk=customer_id).first()
    if found is None:
        raise NotFound(f"customer {customer_id}")
    return render_customer(found)


@router.patch("customers/{customer_id}", response=CustomerOut)
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> dict[str, Any]:
    """Change a customer's tier, preferences or time zone."""
    found = Customer.objects.filter(pk=customer_id).first()
    if found is None:
        raise NotFound(f"customer {customer_id}")
    sent = payload.model_fields_set
    if "tier" in sent and payload.tier is None:
        raise DomainError("invalid", "a customer always has a tier", "tier")
    changed = do_update_customer(
        found,
        actor=actor_of(request),
        now=timezone.now(),
        tier=payload.tier if "tier" in sent and payload.tier is not None else KEEP,
        preferences=(payload.preferences or {}) if "preferences" in sent else KEEP,
        timezone=(payload.timezone or "") if "timezone" in sent else KEEP,
    )
    return render_customer(changed)


@router.post("services", response={201: ServiceOut})
def create_service(request: HttpRequest, payload: ServiceIn) -> Status:
    return Status(201, render_service(do_create_service(**payload.model_dump())))


@router.get("services", response=list_of(ServiceOut))
def list_services(request: HttpRequest, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    return page(Service.objects.order_by("code"), limit, offset, render_service)


@router.post("cases", response={200: CaseOut, 201: CaseOut})
def open_case(request: HttpRequest, payload: CaseIn) -> Status:
    appointment = payload.appointment
    case, created = do_open_case(
        actor=actor_of(request),
        now=timezone.now(),
        customer_id=payload.customer,
        service_code=payload.service,
        external_ref=payload.external_ref,
        channel=payload.channel,
        priority=payload.priority,
        price=payload.price,
        currency=payload.currency,
        opened_at=payload.opened_at,
        appointment_start=appointment.start if appointment else None,
        appointment_end=appointment.end if appointment else None,
        summary=payload.summary,
    )
    # A new case is rendered from what intake just wrote; a repeat is read back.
    in_hand = getattr(case, "attached_commitments", None) if created else None
    return Status(201 if created else 200, render_case(case if created else get_case(case.pk), in_hand))


@router.get("cases", response=list_of(CaseSummary))
def list_cases(
    request: HttpRequest,
    external_ref: str | None = None,
    customer: int | None = None,
    service: str | None = None,
    stage: Stage | None = None,
    department: str | None = None,
    assignee: str | None = None,
    mine: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Newest first. `mine`: assigned to the caller, or holding an open oral promise the caller owns."""
    query = Case.objects.select_related("service", "department", "assignee").order_by("-opened_at", "-id")
    if external_ref:
        query = query.filter(external_ref=external_ref)
    if customer is not None:
        query = query.filter(customer_id=customer)
    if service:
        query = query.filter(service__code=service)
    if stage:
        query = query.filter(stage=stage)
    if department:
        query = query.filter(department__code=department)
    if assignee:
        query = query.filter(assignee__username=assignee)
    if mine:
        query = query.filter(mine_filter(actor_of(request)))
    return page(query, limit, offset, render_summary)


def mine_filter(user: Any) -> Q:
    """Cases that are the user's: assigned to them, or with an open promise they own (an oral one)."""
    owned = Commitment.objects.filter(case=OuterRef("pk"), owner=user, state__in=OPEN_STATES)
    return Q(assignee=user) | Q(Exists(owned))


@router.get("cases/{case_id}", response=CaseOut)
def read_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    return render_case(get_case(case_id))


@router.post("cases/{case_id}/events", response={201: EventOut})
def append_event(request: HttpRequest, case_id: int, payload: EventIn) -> Status:
    event = do_append_event(
        get_case(case_id),
        actor=actor_of(request),
        now=timezone.now(),
        type=payload.type,
        at=payload.at,
        note=payload.note,
        data=payload.data,
        visible_to_customer=payload.visible_to_customer,
    )
    return Status(201, render_event(event))


@router.get("cases/{case_id}/events", response=list_of(EventOut))
def list_events(request: HttpRequest, case_id: int, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    case = get_case(case_id)
    events = case.events.select_related("actor").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    return page(events.order_by("at", "id"), limit, offset, render_event)


@router.post("cases/{case_id}/stage", response=CaseOut)
def change_stage(request: HttpRequest, case_id: int, payload: StageIn) -> dict[str, Any]:
    """Move the case to a stage and sub-status; the timeline says stage_changed (closed / reopened)."""
    do_change_stage(
        get_case(case_id),
        actor=actor_of(request),
        now=timezone.now(),
        stage=payload.stage,
        substatus=payload.substatus,
        note=payload.note,
        at=payload.at,
    )
    return render_case(get_case(case_id))


@router.post("cases/{case_id}/assign", response=CaseOut)
def assign_case(request: HttpRequest, case_id: int, payload: AssignIn) -> dict[str, Any]:
    """Give the case to a department and/or a person; the timeline says assigned, from where to where."""
    sent = payload.model_fields_set
    if not sent & {"department", "assignee"}:
        raise DomainError("missing_field", "give a department, an assignee or both", "department")
    do_assign(
        get_case(case_id),
        actor=actor_of(request),
        now=timezone.now(),
        department=payload.department if "department" in sent else KEEP,
        assignee=payload.assignee if "assignee" in sent else KEEP,
        note=payload.note,
    )
    return render_case(get_case(case_id))


@router.post("cases/{case_id}/appointment", response=CaseOut)
def book_appointment(request: HttpRequest, case_id: int, payload: AppointmentIn) -> dict[str, Any]:
    """Book or move the appointment window; moving one needs a reason. Arrival is the `arrived` event."""
    do_book_appointment(
        get_case(case_id),
        actor=actor_of(request),
        now=timezone.now(),
        start=payload.start,
        end=payload.end,
        reason=payload.reason,
    )
    return render_case(get_case(case_id))


@router.get("stage-labels", response=list_of(StageLabelOut))
def list_stage_labels(request: HttpRequest, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """The organisation's names for stages: for every service (service null) first, then per service."""
    labels = StageLabel.objects.select_related("service").order_by(
        F("service__code").asc(nulls_first=True), "stage", "id"
    )
    return page(labels, limit, offset, render_stage_label)


@router.put("stage-labels", response=StageLabelOut)
def put_stage_label(request: HttpRequest, payload: StageLabelIn) -> dict[str, Any]:
    """Name a stage and its sub-statuses, replacing what was set for that service and stage."""
    label = do_set_stage_label(
        actor=actor_of(request),
        now=timezone.now(),
        stage=payload.stage,
        service_code=payload.service,
        label_en=payload.label_en,
        label_zh_hans=payload.label_zh_hans,
        substatuses=[item.model_dump() for item in payload.substatuses],
    )
    if label is None:
        return {
            "id": None,
            "service": payload.service,
            "stage": payload.stage,
            "label_en": "",
            "label_zh_hans": "",
            "substatuses": [],
        }
    return render_stage_label(label)


@router.post("cases/{case_id}/commitments", response={201: CommitmentOut})
def record_oral_commitment(request: HttpRequest, case_id: int, payload: OralIn) -> Status:
    from promisedesk.errors import DomainError

    target = None
    if payload.target is not None:
        try:
            target = parse_duration(payload.target)
        except ValueError as exc:
            raise DomainError("invalid_duration", str(exc), "target") from exc
    commitment = do_record_oral_commitment(
        get_case(case_id),
        actor=actor_of(request),
        now=timezone.now(),
        statement=payload.statement,
        owner=payload.owner,
        due_at=payload.due_at,
        target=target,
        liability=payload.liability,
        stop_on=payload.stop_on,
    )
    return Status(201, render_commitment(commitment))
