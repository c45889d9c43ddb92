"""Intake and work on cases: customers, services, cases, timeline events, oral promises."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from promisedesk.errors import Conflict, DomainError, NotFound
from promisedesk.lib.timerange import check_in_range
from promisedesk.notifications import events as notify
from promisedesk.promises.rules import EVENT_NAME, event_list, normalise_liability

from .models import BUILTIN_EVENT_TYPES, Case, CaseEvent, Customer, Service, Stage

# Clocks on the server and on a caller's machine disagree a little; more is a mistake.
FUTURE_SKEW = timedelta(minutes=5)
# What the customer sees on their case page; staff may show or hide any event explicitly.
CUSTOMER_VISIBLE_TYPES = frozenset(
    {
        "case_opened",
        "progress_update",
        "appointment_scheduled",
        "arrived",
        "delivered",
        "customer_replied",
        "resolved",
        "closed",
        "reopened",
    }
)
STAGE_EVENTS = {
    "case_opened": Stage.NEED_IDENTIFICATION,
    "appointment_scheduled": Stage.DESIGN,
    "assigned": Stage.DESIGN,
    "arrived": Stage.DELIVERY,
    "delivered": Stage.EXPERIENCE,
    "resolved": Stage.FEEDBACK,
    "closed": Stage.CLOSED,
    "reopened": Stage.DELIVERY,
}


def do_create_customer(*, now: datetime, **fields: Any) -> Customer:
    try:
        with transaction.atomic():
            return Customer.objects.create(created_at=now, **fields)
    except IntegrityError as exc:
        raise Conflict(
            "duplicate", f"a customer with external_ref {fields.get('external_ref')!r} exists", "external_ref"
        ) from exc


def do_create_service(*, code: str, name: str, price: Decimal | None, currency: str) -> Service:
    try:
        with transaction.atomic():
            return Service.objects.create(code=code, name=name, price=price, currency=currency)
    except IntegrityError as exc:
        raise Conflict("duplicate", f"a service with code {code!r} exists already", "code") from exc


def _check_appointment(start: datetime | None, end: datetime | None) -> None:
    check_in_range(start, "appointment.start")
    check_in_range(end, "appointment.end")
    if (start is None) != (end is None):
        raise DomainError("invalid_appointment", "an appointment needs both start and end", "appointment")
    if start is not None and end is not None and end <= start:
        raise DomainError("end_before_start", "the appointment ends before it starts", "appointment.end")


def do_open_case(
    *,
    actor: User | None,
    now: datetime,
    customer_id: int,
    service_code: str,
    external_ref: str | None = None,
    channel: str = "api",
    priority: str = "normal",
    price: Decimal | None = None,
    currency: str | None = None,
    opened_at: datetime | None = None,
    appointment_start: datetime | None = None,
    appointment_end: datetime | None = None,
    summary: str = "",
) -> tuple[Case, bool]:
    """Open a case and attach every published promise that applies; returns (case, created).

    The same external_ref returns the case made the first time, even when two
    deliveries race: the unique constraint decides, and the loser reads the winner.
    """
    if external_ref:
        existing = Case.objects.filter(external_ref=external_ref).first()
        if existing is not None:
            return existing, False
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"customer {customer_id}", "customer")
    service = Service.objects.filter(code=service_code).first()
    if service is None:
        raise DomainError("unknown_service", f"there is no service with code {service_code!r}", "service")
    check_in_range(opened_at, "opened_at")
    opened = opened_at or now
    if opened > now + FUTURE_SKEW:
        raise DomainError("in_future", "a case cannot open in the future", "opened_at")
    _check_appointment(appointment_start, appointment_end)
    case_currency = currency or service.currency
    try:
        with transaction.atomic():
            case = Case.objects.create(
                external_ref=external_ref or None,
                customer=customer,
                service=service,
                channel=channel,
                priority=priority,
                price=price if price is not None else service.price,
                currency=case_currency,
                opened_at=opened,
                appointment_start=appointment_start,
                appointment_end=appointment_end,
                summary=summary,
                last_event_at=opened,
                stage=Stage.DESIGN if appointment_start else Stage.NEED_IDENTIFICATION,
                created_at=now,
                created_by=actor,
            )
            case.attached_commitments = _attach_promises(case, customer, now)  # type: ignore[attr-defined]
            opening = [
                CaseEvent(
                    case=case,
                    type="case_opened",
                    at=opened,
                    data={"channel": channel},
                    actor=actor,
                    visible_to_customer=True,
                    recorded_at=now,
                )
            ]
            if appointment_start is not None and appointment_end is not None:
                window = {"start": appointment_start.isoformat(), "end": appointment_end.isoformat()}
                opening.append(
                    CaseEvent(
                        case=case,
                        type="appointment_scheduled",
                        at=opened,
                        data=window,
                        actor=actor,
                        visible_to_customer=True,
                        recorded_at=now,
                    )
                )
            # The clocks were started as they were attached, so these need no reaction.
            CaseEvent.objects.bulk_create(opening)
            notify.case_opened(case, now)
            return case, True
    except IntegrityError:
        if external_ref:
            existing = Case.objects.filter(external_ref=external_ref).first()
            if existing is not None:
                return existing, False
        raise


def _attach_promises(case: Case, customer: Customer, now: datetime) -> list[Any]:
    from promisedesk.calendars.compiled import clock_for
    from promisedesk.commitments import clock as clocks
    from promisedesk.commitments.engine import commitment_from_version
    from promisedesk.commitments.models import Commitment
    from promisedesk.promises.selectors import versions_for_case

    versions = versions_for_case(
        opened_at=case.opened_at,
        service=case.service.code,
        channel=case.channel,
        tier=customer.tier,
        priority=case.priority,
    )
    commitments = [commitment_from_version(case, v, now) for v in versions]
    for commitment in commitments:
        if "case_opened" in commitment.rules["start_on"]:
            clocks.start(commitment, case.opened_at, clock_for(commitment.calendar))
    return Commitment.objects.bulk_create(commitments)


def _append(
    case: Case,
    *,
    actor: User | None,
    now: datetime,
    type: str,
    at: datetime,
    note: str,
    data: dict[str, Any],
    visible_to_customer: bool | None = None,
) -> CaseEvent:
    from promisedesk.commitments.engine import react_to_event

    visible = type in CUSTOMER_VISIBLE_TYPES if visible_to_customer is None else visible_to_customer
    event = CaseEvent.objects.create(
        case=case,
        type=type,
        at=at,
        note=note,
        data=data,
        actor=actor,
        visible_to_customer=visible,
        recorded_at=now,
    )
    fields = ["last_event_at"]
    case.last_event_at = max(case.last_event_at, at)
    if type in STAGE_EVENTS:
        case.stage = STAGE_EVENTS[type]
        fields.append("stage")
    if type == "appointment_scheduled" and data.get("start") and data.get("end"):
        fields += _reschedule(case, data)
    case.save(update_fields=fields)
    react_to_event(case, event, now)
    notify.event_recorded(case, event, now)
    return event


def _reschedule(case: Case, data: dict[str, Any]) -> list[str]:
    from promisedesk.commitments.reschedule import move_appointment_clocks

    try:
        start, end = datetime.fromisoformat(str(data["start"])), datetime.fromisoformat(str(data["end"]))
    except ValueError as exc:
        raise DomainError("invalid_appointment", "appointment start and end are ISO 8601 times", "data.start") from exc
    if start.tzinfo is None or end.tzinfo is None:
        raise DomainError("invalid_appointment", "appointment times need an offset", "data.start")
    _check_appointment(start, end)
    case.appointment_start, case.appointment_end = start, end
    move_appointment_clocks(case)
    return ["appointment_start", "appointment_end"]


def do_append_event(
    case: Case,
    *,
    actor: User | None,
    now: datetime,
    type: str,
    at: datetime | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
    visible_to_customer: bool | None = None,
) -> CaseEvent:
    """Append an event to the timeline; clocks react to it in the same transaction.

    An event may be back-dated, but never before the previous one: the timeline is
    append-only and clocks were already moved by what came before. Whether the
    customer sees it follows its type unless `visible_to_customer` says otherwise;
    what the customer is owed a message about is queued in the outbox in the same
    transaction.
    """
    from promisedesk.commitments.engine import SYSTEM_EVENT_TYPES

    if not EVENT_NAME.match(type):
        raise DomainError("invalid_event_type", f"{type!r} is not a lower_snake_case event type", "type")
    if type in SYSTEM_EVENT_TYPES or type == "case_opened":
        raise DomainError("reserved_event_type", f"{type!r} is recorded by promisedesk itself", "type")
    check_in_range(at, "at")
    when = at or now
    if when > now + FUTURE_SKEW:
        raise DomainError("in_future", "an event cannot lie in the future", "at")
    with transaction.atomic():
        locked = Case.objects.select_for_update(no_key=True, of=("self",)).select_related("service").get(pk=case.pk)
        if when < locked.last_event_at:
            raise DomainError(
                "before_previous_event",
                f"the event is dated before the previous one ({locked.last_event_at.isoformat()})",
                "at",
            )
        return _append(
            locked,
            actor=actor,
            now=now,
            type=type,
            at=when,
            note=note,
            data=data or {},
            visible_to_customer=visible_to_customer,
        )


def do_record_oral_commitment(
    case: Case,
    *,
    actor: User | None,
    now: datetime,
    statement: str,
    owner: str | int | None,
    due_at: datetime | None = None,
    target: timedelta | None = None,
    liability: dict[str, Any] | None = None,
    stop_on: list[str] | None = None,
) -> Any:
    """Record a promise a member of staff made to the customer, with owner and due time."""
    from promisedesk.commitments.engine import system_event
    from promisedesk.commitments.models import Commitment, State

    if (due_at is None) == (target is None):
        raise DomainError("invalid", "give either due_at or target", "due_at")
    if target is not None and target.total_seconds() <= 0:
        raise DomainError("invalid_duration", "a target must be longer than zero", "target")
    check_in_range(due_at, "due_at")
    if target is not None and target.days > 3660:
        raise DomainError("invalid_duration", "an oral promise falls due within ten years", "target")
    due = due_at or now + target  # type: ignore[operator]
    if due <= now:
        raise DomainError("in_past", "an oral promise must fall due after now", "due_at")
    owner_user = _owner(owner) if owner is not None else actor
    with transaction.atomic():
        commitment = Commitment.objects.create(
            case=case,
            statement=statement,
            owner=owner_user,
            rules={"start_on": [], "stop_on": event_list(stop_on, "stop_on")},
            target_us=(due - now) // timedelta(microseconds=1),
            liability=normalise_liability(liability),
            state=State.RUNNING,
            started_at=now,
            segment_started_at=now,
            due_at=due,
            next_check_at=due,
            created_at=now,
        )
        system_event(case.pk, "commitment_recorded", now, now, commitment=commitment.pk, statement=statement).save()
    return commitment


def _owner(owner: str | int) -> Any:
    users = get_user_model().objects
    found = users.filter(pk=owner).first() if isinstance(owner, int) else users.filter(username=owner).first()
    if found is None:
        raise DomainError("unknown_user", f"there is no staff member {owner!r}", "owner")
    return found


__all__ = ["BUILTIN_EVENT_TYPES", "do_append_event", "do_create_customer", "do_open_case"]
