"""Intake and work on cases: customers, services, cases, timeline events, oral promises."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, Final
from zoneinfo import available_timezones

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from promisedesk.errors import Conflict, DomainError, NotFound
from promisedesk.lib.timerange import check_in_range
from promisedesk.notifications import events as notify
from promisedesk.promises.rules import EVENT_NAME, event_list, normalise_liability

from .models import (
    BUILTIN_EVENT_TYPES,
    INTERNAL_NOTE,
    STAGE_CHANGED,
    STAGE_ORDER,
    Case,
    CaseEvent,
    CaseKind,
    Channel,
    Customer,
    Locale,
    Service,
    Stage,
    StageLabel,
)

# An oral promise has no standard of its own to say when it is at risk: with a quarter of its time left.
ORAL_WARN_RULE = "75%"
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


class _Keep:
    """An argument left out: the value stays as it is (None would mean "clear it")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()
MAX_PREFERENCES = 50
PREFERENCE_KEY = re.compile(r"^[\w .\-]{1,64}$")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(value: str, field: str = "timezone") -> str:
    """An IANA zone name like Asia/Shanghai, or "" for the site's zone."""
    if value and value not in _zones():
        raise DomainError("invalid_timezone", f"{value!r} is not an IANA time zone like Asia/Shanghai", field)
    return value


def check_preferences(value: Any, field: str = "preferences") -> dict[str, Any]:
    """What a customer likes, as a flat map: short keys; texts, numbers, yes/no or lists of them."""
    if not isinstance(value, dict):
        raise DomainError("invalid_preferences", "preferences are an object of name: value", field)
    if len(value) > MAX_PREFERENCES:
        raise DomainError("invalid_preferences", f"at most {MAX_PREFERENCES} preferences", field)
    for key, item in value.items():
        if not isinstance(key, str) or not PREFERENCE_KEY.match(key):
            raise DomainError("invalid_preferences", f"{key!r} is not a short preference name", field)
        scalars = item if isinstance(item, list) else [item]
        if len(scalars) > 20 or not all(_scalar(v) for v in scalars):
            raise DomainError(
                "invalid_preferences", f"{key}: a value is a short text, a number, true/false or a list of them", field
            )
    return value


def _scalar(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= 500
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) <= 2**53  # what a browser's JSON can hold exactly
    if isinstance(value, float):
        return math.isfinite(value)  # JSON has no NaN or infinity
    return False


def do_create_customer(*, now: datetime, **fields: Any) -> Customer:
    """Create a customer; a second one with the same external_ref is a 409."""
    check_timezone(fields.get("timezone") or "")
    check_preferences(fields.get("preferences") or {})
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


def _check_appointment(start: datetime | None, end: datetime | None, prefix: str = "appointment.") -> None:
    check_in_range(start, f"{prefix}start")
    check_in_range(end, f"{prefix}end")
    if (start is None) != (end is None):
        raise DomainError("invalid_appointment", "an appointment needs both start and end", prefix.rstrip(".") or None)
    if start is not None and end is not None and end <= start:
        raise DomainError("end_before_start", "the appointment ends before it starts", f"{prefix}end")


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
    kind: str = CaseKind.SERVICE,
    about: Case | None = None,
) -> tuple[Case, bool]:
    """Open a case and attach every published promise that applies; returns (case, created).

    A complaint (`kind` complaint, `about` the case complained of) gets the recovery
    promises instead of the service ones; `complaints.actions` checks who may complain
    about what before it calls this.

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
                kind=kind,
                about=about,
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
        case_kind=case.kind,
    )
    commitments = [commitment_from_version(case, v, now) for v in versions]
    # A case opens in its first stage, so a promise may start on that stage as on case_opened.
    opening = {"case_opened", stage_trigger(case.stage)}
    for commitment in commitments:
        if opening & set(commitment.rules["start_on"]):
            clocks.start(commitment, case.opened_at, clock_for(commitment.calendar))
    return Commitment.objects.bulk_create(commitments)


def stage_trigger(stage: str) -> str:
    """The event name a promise's standard uses to start, stop, pause or resume on reaching stage."""
    return f"stage_{stage}"


def _implied_stage(event_type: str, current: str) -> str:
    """Where an event moves the case: forward along the process only, so reassigning a case in
    delivery does not send it back to design; closing always closes; reopening goes back to delivery."""
    target = STAGE_EVENTS.get(event_type)
    if target is None:
        return current
    if event_type == "closed":
        return target
    if event_type == "reopened":
        return target if STAGE_ORDER[current] > STAGE_ORDER[target] else current
    return target if STAGE_ORDER[target] > STAGE_ORDER[current] else current


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
    stage: str | None = None,
    substatus: str = "",
    fields: tuple[str, ...] = (),
) -> CaseEvent:
    """Write one event on a locked case and let everything react to it.

    `stage` moves the case there explicitly (with `substatus`); otherwise the event's type may move
    it forward. A change of stage is heard by the clocks as a second event, `stage_<stage>`, at the
    same instant, so a promise can start or stop on reaching a stage however the case got there.
    `fields` are case fields the caller changed and wants saved with it.
    """
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
    changed = ["last_event_at", *fields]
    case.last_event_at = max(case.last_event_at, at)
    before = case.stage
    after = stage if stage is not None else _implied_stage(type, before)
    if stage is not None or after != before:
        case.stage, case.substatus = after, substatus if stage is not None else ""
        changed += ["stage", "substatus"]
    if type == "appointment_scheduled" and data.get("start") and data.get("end"):
        changed += _reschedule(case, data)
    case.save(update_fields=changed)
    react_to_event(case, event, now)
    if after != before:
        echo = CaseEvent(case=case, type=stage_trigger(after), at=at, data={}, recorded_at=now)
        react_to_event(case, echo, now)  # heard by the clocks, not written: the event above says it
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


def _when(at: datetime | None, now: datetime) -> datetime:
    check_in_range(at, "at")
    when = at or now
    if when > now + FUTURE_SKEW:
        raise DomainError("in_future", "an event cannot lie in the future", "at")
    return when


def _lock(case: Case, when: datetime) -> Case:
    """The case row, locked for the rest of the transaction, refusing an event dated before the last one."""
    locked = (
        Case.objects.select_for_update(no_key=True, of=("self",))
        .select_related("service", "customer", "department", "assignee")
        .get(pk=case.pk)
    )
    if when < locked.last_event_at:
        raise DomainError(
            "before_previous_event",
            f"the event is dated before the previous one ({locked.last_event_at.isoformat()})",
            "at",
        )
    return locked


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
    an internal note is never shown to the customer, and says something. What the
    customer is owed a message about is queued in the outbox in the same transaction.
    """
    from promisedesk.commitments.engine import SYSTEM_EVENT_TYPES

    if not EVENT_NAME.match(type):
        raise DomainError("invalid_event_type", f"{type!r} is not a lower_snake_case event type", "type")
    if type in SYSTEM_EVENT_TYPES or type == "case_opened":
        raise DomainError("reserved_event_type", f"{type!r} is recorded by promisedesk itself", "type")
    if type == STAGE_CHANGED:
        raise DomainError("reserved_event_type", "a stage is changed with POST /cases/{id}/stage", "type")
    if type == INTERNAL_NOTE:
        if visible_to_customer:
            raise DomainError(
                "internal_note_visible", "an internal note is never shown to the customer", "visible_to_customer"
            )
        if not note.strip():
            raise DomainError("missing_field", "an internal note needs its text", "note")
    when = _when(at, now)
    with transaction.atomic():
        return _append(
            _lock(case, when),
            actor=actor,
            now=now,
            type=type,
            at=when,
            note=note,
            data=data or {},
            visible_to_customer=visible_to_customer,
        )


def do_add_note(
    case: Case,
    *,
    actor: User | None,
    now: datetime,
    text: str,
    to_customer: bool,
    uploads: list[Any] | None = None,
) -> CaseEvent:
    """Write on the case: an `internal_note` for colleagues, or a `progress_update` the customer
    sees (and is sent), with any files attached to it, in one transaction."""
    from .attachments import do_attach_uploads

    if not text.strip():
        raise DomainError("missing_field", "write something first", "text")
    with transaction.atomic():
        event = do_append_event(
            case,
            actor=actor,
            now=now,
            type="progress_update" if to_customer else INTERNAL_NOTE,
            note=text.strip(),
            visible_to_customer=to_customer,
        )
        if uploads:
            do_attach_uploads(case, now=now, uploads=uploads, event=event)
    return event


def allowed_substatuses(service_id: int | None, stage: str) -> list[str]:
    """The sub-status codes of stage for the service: its own list, else the organisation's."""
    from .selectors import StageNames

    return [s.code for s in StageNames.load(service_id).substatuses(service_id, stage, "en")]


MAX_SUBSTATUSES = 30


def normalise_substatuses(raw: Any) -> list[dict[str, str]]:
    """[{code, label_en, label_zh_hans}]: codes lower_snake_case and unique, labels short; a bare code is allowed."""
    if not isinstance(raw, list) or len(raw) > MAX_SUBSTATUSES:
        raise DomainError("invalid", f"substatuses is a list of at most {MAX_SUBSTATUSES}", "substatuses")
    out: list[dict[str, str]] = []
    for item in raw:
        entry = {"code": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or set(entry) - {"code", "label_en", "label_zh_hans"}:
            raise DomainError("invalid", "a sub-status is {code, label_en, label_zh_hans}", "substatuses")
        code, en, zh = entry.get("code"), entry.get("label_en") or "", entry.get("label_zh_hans") or ""
        if not isinstance(code, str) or not EVENT_NAME.match(code):
            raise DomainError("invalid", f"{code!r} is not a lower_snake_case sub-status code", "substatuses")
        if not isinstance(en, str) or not isinstance(zh, str) or len(en) > 100 or len(zh) > 100:
            raise DomainError("invalid", "a sub-status label is a text of at most 100 characters", "substatuses")
        if any(known["code"] == code for known in out):
            raise DomainError("duplicate", f"the sub-status {code!r} is listed twice", "substatuses")
        out.append({"code": code, "label_en": en.strip(), "label_zh_hans": zh.strip()})
    return out


def do_set_stage_label(
    *,
    actor: User | None,
    now: datetime,
    stage: str,
    service_code: str | None = None,
    label_en: str = "",
    label_zh_hans: str = "",
    substatuses: list[Any] | None = None,
) -> StageLabel | None:
    """Name a stage (and its sub-statuses) the organisation's way, for every service or for one.

    Setting the same stage again replaces what was there (one label per service and stage,
    guarded by unique constraints); giving neither a name nor a sub-status removes the label,
    so the stage is called by promisedesk's name again (None is returned then).
    """
    if stage not in Stage.values:
        raise DomainError("invalid_stage", f"stage is one of {', '.join(Stage.values)}", "stage")
    service = None
    if service_code:
        service = Service.objects.filter(code=service_code).first()
        if service is None:
            raise DomainError("unknown_service", f"there is no service with code {service_code!r}", "service")
    items = normalise_substatuses(substatuses or [])
    fields = {"label_en": label_en.strip(), "label_zh_hans": label_zh_hans.strip(), "substatuses": items}
    if len(fields["label_en"]) > 100 or len(fields["label_zh_hans"]) > 100:
        raise DomainError("too_long", "a stage name has at most 100 characters", "label_en")
    with transaction.atomic():
        existing = StageLabel.objects.select_for_update().filter(service=service, stage=stage).first()
        if not (fields["label_en"] or fields["label_zh_hans"] or items):
            if existing is not None:
                existing.delete()
            return None
        if existing is None:
            try:
                with transaction.atomic():
                    return StageLabel.objects.create(service=service, stage=stage, **fields)
            except IntegrityError:  # named at the same moment by someone else: ours replaces theirs
                existing = StageLabel.objects.select_for_update().get(service=service, stage=stage)
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.save(update_fields=list(fields))
        return existing


def do_change_stage(
    case: Case,
    *,
    actor: User | None,
    now: datetime,
    stage: str,
    substatus: str = "",
    note: str = "",
    at: datetime | None = None,
) -> CaseEvent | None:
    """Move the case to stage (and one of its sub-statuses) explicitly; None when it is there already.

    The timeline says `stage_changed` {from, to, substatus}; closing says `closed` and leaving
    the closed stage says `reopened`, as those events always have, so clocks and messages treat
    them alike. Clocks also hear `stage_<stage>`.
    """
    if stage not in Stage.values:
        raise DomainError("invalid_stage", f"stage is one of {', '.join(Stage.values)}", "stage")
    if substatus and substatus not in (known := allowed_substatuses(case.service_id, stage)):
        listed = ", ".join(known) or "none are defined"
        raise DomainError("unknown_substatus", f"{substatus!r} is not a sub-status of {stage} ({listed})", "substatus")
    when = _when(at, now)
    with transaction.atomic():
        locked = _lock(case, when)
        if (locked.stage, locked.substatus) == (stage, substatus):
            return None
        data = {"from": locked.stage, "to": stage, "substatus": substatus or None}
        kind = "closed" if stage == Stage.CLOSED else "reopened" if locked.stage == Stage.CLOSED else STAGE_CHANGED
        return _append(
            locked,
            actor=actor,
            now=now,
            type=kind,
            at=when,
            note=note,
            data=data,
            visible_to_customer=True,
            stage=stage,
            substatus=substatus,
        )


def _department(code: str) -> Any:
    from promisedesk.accounts.models import Department

    found = Department.objects.filter(code=code).first()
    if found is None:
        raise DomainError("unknown_department", f"there is no department {code!r}", "department")
    return found


def _staff_member(who: str | int, field: str) -> Any:
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    found = users.filter(pk=who).first() if isinstance(who, int) else users.filter(username=who).first()
    if found is None:
        raise DomainError("unknown_user", f"there is no staff member {who!r}", field)
    return found


def do_assign(
    case: Case,
    *,
    actor: User | None,
    now: datetime,
    department: str | None | _Keep = KEEP,
    assignee: str | int | None | _Keep = KEEP,
    note: str = "",
    at: datetime | None = None,
) -> CaseEvent | None:
    """Give the case to a department and/or a person (None clears, KEEP leaves as is).

    The person must belong to the department the case ends up with (its members, lead or
    manager). The timeline says `assigned` with where it went and where it came from;
    nothing is written when nothing changes, so a retried request is harmless.
    """
    new_department = _department(department) if isinstance(department, str) else department
    new_assignee = _staff_member(assignee, "assignee") if isinstance(assignee, str | int) else assignee
    when = _when(at, now)
    with transaction.atomic():
        locked = _lock(case, when)
        to_department = locked.department if isinstance(new_department, _Keep) else new_department
        to_assignee = locked.assignee if isinstance(new_assignee, _Keep) else new_assignee
        if to_department is not None and to_assignee is not None and not is_member(to_department, to_assignee):
            raise DomainError(
                "not_a_member",
                f"{to_assignee.get_username()} is not a member of the department {to_department.code}",
                "assignee",
            )
        if (to_department, to_assignee) == (locked.department, locked.assignee):
            return None
        data = {
            "department": to_department.code if to_department else None,
            "assignee": to_assignee.get_username() if to_assignee else None,
            "from_department": locked.department.code if locked.department else None,
            "from_assignee": locked.assignee.get_username() if locked.assignee else None,
        }
        locked.department, locked.assignee = to_department, to_assignee
        return _append(
            locked,
            actor=actor,
            now=now,
            type="assigned",
            at=when,
            note=note,
            data=data,
            fields=("department", "assignee"),
        )


def is_member(department: Any, user: Any) -> bool:
    """A department's people: its members, its lead and its manager."""
    if user.pk in (department.lead_id, department.manager_id):
        return True
    return bool(department.members.filter(pk=user.pk).exists())


def do_book_appointment(
    case: Case,
    *,
    actor: User | None,
    now: datetime,
    start: datetime,
    end: datetime,
    reason: str = "",
    at: datetime | None = None,
) -> CaseEvent | None:
    """Book the appointment window, or move it; moving a booked one needs a reason the customer is told.

    Recorded as `appointment_scheduled` {start, end, reason, previous_start, previous_end}; the
    clocks that start at the appointment move with it. None when the window is already so.
    """
    _check_appointment(start, end, prefix="")
    reason = reason.strip()
    when = _when(at, now)
    with transaction.atomic():
        locked = _lock(case, when)
        booked = locked.appointment_start is not None and locked.appointment_end is not None
        if booked and (locked.appointment_start, locked.appointment_end) == (start, end):
            return None
        if booked and not reason:
            raise DomainError("reason_required", "say why the appointment moves", "reason")
        data: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat()}
        if reason:
            data["reason"] = reason
        if booked:
            data["previous_start"] = locked.appointment_start.isoformat()  # type: ignore[union-attr]
            data["previous_end"] = locked.appointment_end.isoformat()  # type: ignore[union-attr]
        return _append(locked, actor=actor, now=now, type="appointment_scheduled", at=when, note=reason, data=data)


def do_update_customer(
    customer: Customer,
    *,
    actor: User | None,
    now: datetime,
    tier: str | _Keep = KEEP,
    preferences: dict[str, Any] | _Keep = KEEP,
    timezone: str | _Keep = KEEP,
) -> Customer:
    """Change what the business knows about a customer: tier, preferences, time zone.

    A new tier decides which promises apply to the cases opened from now on; cases already
    open keep the promises they were judged by.
    """
    changes: dict[str, Any] = {}
    if not isinstance(tier, _Keep):
        tier = tier.strip()
        if not 0 < len(tier) <= 40:
            raise DomainError("invalid", "a tier is a name of 1 to 40 characters", "tier")
        changes["tier"] = tier
    if not isinstance(preferences, _Keep):
        changes["preferences"] = check_preferences(preferences)
    if not isinstance(timezone, _Keep):
        changes["timezone"] = check_timezone(timezone.strip())
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        for name, value in changes.items():
            setattr(locked, name, value)
        if changes:
            locked.save(update_fields=list(changes))
    return locked


CONTACT_CHANNELS = (Channel.PHONE, Channel.WALK_IN)


def do_log_contact(
    *,
    actor: User,
    now: datetime,
    service_code: str,
    channel: str,
    summary: str,
    customer_id: int | None = None,
    new_customer: dict[str, str] | None = None,
    department: str | None = None,
    key: str | None = None,
) -> tuple[Case, bool]:
    """A member of staff opens a case for a customer who called or came in, on anyone's behalf.

    The customer is one already known (customer_id) or a new one ({name, phone, email, locale}, with a
    phone number or an email address). The case is opened by the staff member on the phone or
    walk-in channel and, when a department is named, given to it, all in one transaction. `key`
    (from the form) makes a resubmitted form return the case it opened the first time.
    """
    if channel not in CONTACT_CHANNELS:
        raise DomainError("invalid_channel", "a logged contact is a phone call or a walk-in", "channel")
    if (customer_id is None) == (new_customer is None):
        raise DomainError("missing_field", "choose a customer or give a new one", "customer")
    external_ref = f"desk-{key}" if key else None
    if external_ref and (existing := Case.objects.filter(external_ref=external_ref).first()) is not None:
        return existing, False
    department_code = department or None
    if department_code:
        _department(department_code)  # refused before anything is written
    try:
        with transaction.atomic():
            if new_customer is not None:
                customer_id = _new_contact(now, new_customer).pk
            case, created = do_open_case(
                actor=actor,
                now=now,
                customer_id=customer_id,  # type: ignore[arg-type]
                service_code=service_code,
                external_ref=external_ref,
                channel=channel,
                summary=summary,
            )
            if not created:
                raise _AlreadyOpened(case)  # a racing resubmission won: undo the customer made here
            if department_code:
                do_assign(case, actor=actor, now=now, department=department_code)
            return case, True
    except _AlreadyOpened as raced:
        return raced.case, False


class _AlreadyOpened(Exception):
    def __init__(self, case: Case):
        self.case = case


def _new_contact(now: datetime, fields: dict[str, str]) -> Customer:
    name = (fields.get("name") or "").strip()
    phone = (fields.get("phone") or "").strip()
    email = (fields.get("email") or "").strip()
    if not 0 < len(name) <= 200:
        raise DomainError("missing_field", "a new customer needs a name", "name")
    if not phone and not email:
        raise DomainError("missing_field", "a new customer needs a phone number or an email address", "phone")
    if len(phone) > 40:
        raise DomainError("invalid", "a phone number has at most 40 characters", "phone")
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise DomainError("invalid_email", f"{email!r} is not an email address", "email") from exc
    locale = fields.get("locale") or Locale.ZH_HANS
    if locale not in Locale.values:
        raise DomainError("invalid", f"locale is one of {', '.join(Locale.values)}", "locale")
    return do_create_customer(now=now, name=name, phone=phone, email=email, locale=locale)


def do_record_customer_reply(case: Case, *, now: datetime, note: str, data: dict[str, Any]) -> CaseEvent:
    """The customer's own words on their case (`customer_replied`, visible to them), from any channel.

    A customer writing about a closed case reopens it. The reply is dated no earlier
    than the case's last event: that may lie a moment ahead of this machine's clock.
    """
    at = max(now, case.last_event_at)
    event = do_append_event(
        case, actor=None, now=now, at=at, type="customer_replied", note=note, data=data, visible_to_customer=True
    )
    if event.case.stage == Stage.CLOSED:  # event.case is the row as locked for the reply: its stage is current
        do_append_event(
            case, actor=None, now=now, at=at, type="reopened", data={"by": "customer"}, visible_to_customer=True
        )
    return event


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
    from promisedesk.commitments.clock import warn_offset_us

    target_us = (due - now) // timedelta(microseconds=1)
    warn = now + timedelta(microseconds=warn_offset_us(ORAL_WARN_RULE, target_us) or 0)
    with transaction.atomic():
        commitment = Commitment.objects.create(
            case=case,
            statement=statement,
            owner=owner_user,
            rules={"start_on": [], "stop_on": event_list(stop_on, "stop_on")},
            target_us=target_us,
            liability=normalise_liability(liability),
            state=State.RUNNING,
            started_at=now,
            segment_started_at=now,
            due_at=due,
            # The owner is warned (and the escalation chain starts) with a quarter of the time left.
            warn_rule=ORAL_WARN_RULE,
            warn_at=warn,
            next_check_at=warn,
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


__all__ = [
    "BUILTIN_EVENT_TYPES",
    "KEEP",
    "do_append_event",
    "do_assign",
    "do_book_appointment",
    "do_add_note",
    "do_change_stage",
    "do_set_stage_label",
    "do_create_customer",
    "do_log_contact",
    "do_open_case",
    "do_update_customer",
]
