"""Customers, services, cases, timelines and oral promises over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import AwareDatetime, Field

from promisedesk.actors import actor_of
from promisedesk.commitments.models import Commitment
from promisedesk.errors import NotFound
from promisedesk.lib.durations import parse_duration
from promisedesk.schemas import Input, page

from .actions import do_append_event, do_create_customer, do_create_service, do_open_case, do_record_oral_commitment
from .models import Case, CaseEvent, Channel, Customer, Locale, Priority, Service, Stage

router = Router(tags=["cases"])

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


class CustomerOut(Schema):
    id: int
    external_ref: str | None
    name: str
    email: str
    phone: str
    tier: str
    locale: str
    preferences: dict[str, Any]


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


class EventIn(Input):
    type: str = Field(min_length=1, max_length=64)
    at: AwareDatetime | None = None
    note: str = Field(default="", max_length=5000)
    data: dict[str, Any] = Field(default_factory=dict)


class EventOut(Schema):
    id: int
    type: str
    at: AwareDatetime
    note: str
    data: dict[str, Any]
    actor: str | None
    system: bool
    recorded_at: AwareDatetime


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
        "recorded_at": e.recorded_at,
    }


def get_case(case_id: int) -> Case:
    found = Case.objects.select_related("service", "customer").filter(pk=case_id).first()
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
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    query = Case.objects.select_related("service").order_by("-opened_at", "-id")
    if external_ref:
        query = query.filter(external_ref=external_ref)
    if customer is not None:
        query = query.filter(customer_id=customer)
    if service:
        query = query.filter(service__code=service)
    if stage:
        query = query.filter(stage=stage)
    return page(query, limit, offset, render_summary)


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
    )
    return Status(201, render_event(event))


@router.get("cases/{case_id}/events", response=list_of(EventOut))
def list_events(request: HttpRequest, case_id: int, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    case = get_case(case_id)
    return page(case.events.select_related("actor").order_by("at", "id"), limit, offset, render_event)


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
