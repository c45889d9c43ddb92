"""Incidents: declare one, attach the cases it affected, mark force majeure, launch bulk runs, close.

Every function takes the acting staff member and `now`, runs in one transaction and
records what it did. Telling customers and compensating them are not done here but
launched as bulk runs (`BulkRun`), which the worker works through in batches
(`recovery.bulk.run_bulk`); launching checks everything that can be checked up front.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet

from promisedesk.accounts.roles import is_manager
from promisedesk.breaches.compensations import approval_limit
from promisedesk.breaches.models import KIND_LABELS
from promisedesk.cases.models import Case, CaseEvent, CaseKind, Channel, Service, Stage
from promisedesk.errors import Conflict, DomainError
from promisedesk.lib.money import round_money
from promisedesk.lib.timerange import check_in_range

from .models import AttachMethod, BulkRun, Incident, IncidentCase, IncidentStatus, RunKind, RunStatus
from .references import Reference, UnknownReferences, resolve

MAX_LOCATIONS = 50
MAX_MESSAGE = 1000
INSERT_BATCH = 1000
GRANT_MODE, LIABILITY_MODE = "grant", "liability"


@dataclass
class AttachResult:
    """What attaching did: newly attached, attached before, and references that named no case."""

    attached: int = 0
    already: int = 0
    unknown: list[Reference] = field(default_factory=list)


def _by(actor: User | None) -> str | None:
    return actor.get_username() if actor else None


def _log(incident: Incident, now: datetime, actor: User | None, action: str, reason: str = "") -> None:
    incident.history = [
        *incident.history,
        {"at": now.isoformat(), "by": _by(actor), "action": action, "reason": reason},
    ]


def _check_span(starts_at: datetime, ends_at: datetime | None) -> None:
    check_in_range(starts_at, "starts_at")
    check_in_range(ends_at, "ends_at")
    if ends_at is not None and ends_at <= starts_at:
        raise DomainError("end_before_start", "the incident ends before it starts", "ends_at")


def _services(codes: list[str]) -> list[Service]:
    found = list(Service.objects.filter(code__in=codes))
    unknown = sorted(set(codes) - {s.code for s in found})
    if unknown:
        raise DomainError("unknown_service", f"there is no service with code {', '.join(unknown)}", "services")
    return found


def _locations(values: list[str]) -> list[str]:
    cleaned = [value.strip() for value in values if value.strip()]
    if len(cleaned) > MAX_LOCATIONS or any(len(value) > 100 for value in cleaned):
        raise DomainError("invalid", f"at most {MAX_LOCATIONS} locations of up to 100 characters", "locations")
    return list(dict.fromkeys(cleaned))


def do_declare_incident(
    *,
    actor: User | None,
    now: datetime,
    title: str,
    reason: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    code: str = "",
    reason_en: str = "",
    new_time: datetime | None = None,
    services: list[str] | None = None,
    locations: list[str] | None = None,
    force_majeure: bool = False,
    force_majeure_reason: str = "",
) -> Incident:
    """Declare an incident over a time span, for services (codes that must exist) and places.

    `reason` is what customers are told. Without a `code` one is made (INC-<id>). Declaring
    it force majeure at once needs the same as marking it later: a manager and a reason.
    """
    if not title.strip():
        raise DomainError("missing_field", "an incident needs a title", "title")
    if not reason.strip():
        raise DomainError("missing_field", "an incident needs the reason customers are told", "reason")
    _check_span(starts_at, ends_at)
    check_in_range(new_time, "new_time")
    if force_majeure:
        _check_force_majeure_rights(actor, force_majeure_reason)
    found = _services(services or [])
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                code=code.strip() or f"pending-{secrets.token_hex(8)}",  # INC-<id> once the id is known
                title=title.strip(),
                reason=reason.strip(),
                reason_en=reason_en.strip(),
                new_time=new_time,
                starts_at=starts_at,
                ends_at=ends_at,
                locations=_locations(locations or []),
                created_at=now,
                created_by=actor,
            )
            if not code.strip():
                incident.code = f"INC-{incident.pk}"
            _log(incident, now, actor, "declared")
            if force_majeure:
                _mark(incident, now, actor, True, force_majeure_reason)
            incident.save()
            incident.services.set(found)
            return incident
    except IntegrityError as exc:
        raise Conflict("duplicate_code", f"an incident with code {code.strip()!r} exists", "code") from exc


def _check_force_majeure_rights(actor: User | None, reason: str) -> None:
    if not is_manager(actor):
        raise DomainError("forbidden", "only managers can mark an incident force majeure", status=403)
    if not reason.strip():
        raise DomainError("missing_field", "say why the incident is (or is not) force majeure", "reason")


def _mark(incident: Incident, now: datetime, actor: User | None, on: bool, reason: str) -> None:
    incident.force_majeure = on
    incident.force_majeure_reason = reason.strip()
    incident.force_majeure_at, incident.force_majeure_by = now, actor
    _log(incident, now, actor, "force_majeure_marked" if on else "force_majeure_unmarked", reason.strip())


def do_set_force_majeure(
    incident: Incident, *, actor: User | None, now: datetime, on: bool | None, reason: str
) -> Incident:
    """Mark (or unmark) the incident force majeure: a manager's decision, with the reason kept.

    `on=None` switches it from what the locked row says (the desk's one button), so two
    requests in a row switch it twice rather than acting on a stale page.

    While marked, a breach on an affected case inside the span pays nothing by liability
    (`breaches.settlement.exclusion_for`); breaches settled before keep their settlement.
    """
    _check_force_majeure_rights(actor, reason)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if on is None:
            on = not locked.force_majeure
        if locked.force_majeure == on:
            state = "already force majeure" if on else "not force majeure"
            raise DomainError("unchanged", f"the incident is {state}", "force_majeure", status=409)
        _mark(locked, now, actor, on, reason)
        locked.save(
            update_fields=["force_majeure", "force_majeure_reason", "force_majeure_at", "force_majeure_by", "history"]
        )
        return locked


def _open(incident: Incident) -> Incident:
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if locked.status != IncidentStatus.OPEN:
        raise DomainError("incident_closed", "the incident is closed", status=409)
    return locked


def do_close_incident(incident: Incident, *, actor: User | None, now: datetime, note: str = "") -> Incident:
    """Close the incident once no bulk run is still running on it."""
    with transaction.atomic():
        locked = _open(incident)
        if locked.runs.filter(status=RunStatus.RUNNING).exists():
            raise Conflict("run_running", "a bulk run is still running on this incident; wait or cancel it")
        locked.status, locked.closed_at, locked.closed_by = IncidentStatus.CLOSED, now, actor
        _log(locked, now, actor, "closed", note.strip())
        locked.save(update_fields=["status", "closed_at", "closed_by", "history"])
        return locked


# -- attaching affected cases -----------------------------------------------------------------


def matching_cases(
    incident: Incident,
    *,
    stages: list[str] | None = None,
    open_only: bool = False,
    channels: list[str] | None = None,
    tiers: list[str] | None = None,
) -> QuerySet[Case]:
    """Service cases of the incident's services whose appointment starts or which opened within its span
    (an incident without an end covers everything from its start), optionally narrowed."""
    for name, values, allowed in (("stages", stages, Stage.values), ("channels", channels, Channel.values)):
        bad = sorted(set(values or []) - set(allowed))
        if bad:
            raise DomainError("invalid", f"{name}: unknown {', '.join(bad)}; one of {', '.join(allowed)}", name)
    services = list(incident.services.values_list("id", flat=True))
    if not services:
        raise DomainError("no_services", "the incident names no services to look for cases in", "services")
    appointment = Q(appointment_start__gte=incident.starts_at)
    opening = Q(opened_at__gte=incident.starts_at)
    if incident.ends_at is not None:
        appointment &= Q(appointment_start__lte=incident.ends_at)
        opening &= Q(opened_at__lte=incident.ends_at)
    cases = Case.objects.filter(appointment | opening, service_id__in=services, kind=CaseKind.SERVICE)
    if stages:
        cases = cases.filter(stage__in=stages)
    if open_only:
        cases = cases.exclude(stage=Stage.CLOSED)
    if channels:
        cases = cases.filter(channel__in=channels)
    if tiers:
        cases = cases.filter(customer__tier__in=tiers)
    return cases


def do_attach_by_query(
    incident: Incident,
    *,
    actor: User | None,
    now: datetime,
    stages: list[str] | None = None,
    open_only: bool = False,
    channels: list[str] | None = None,
    tiers: list[str] | None = None,
) -> AttachResult:
    """Attach every case `matching_cases` finds; cases attached before are counted, not repeated."""
    cases = matching_cases(incident, stages=stages, open_only=open_only, channels=channels, tiers=tiers)
    with transaction.atomic():
        locked = _open(incident)
        return _attach(locked, list(cases.values_list("id", flat=True)), AttachMethod.QUERY, actor, now)


def do_attach_references(
    incident: Incident,
    *,
    actor: User | None,
    now: datetime,
    references: list[Reference],
    method: str = AttachMethod.API,
    skip_unknown: bool = False,
) -> AttachResult:
    """Attach the cases named by references (external_ref or id).

    All or nothing by default: if any reference names no case, nothing is attached and the
    error lists them with their line. With `skip_unknown` the known ones are attached and
    the unknown ones returned in the result.
    """
    resolved = resolve(references)
    if resolved.unknown and not skip_unknown:
        raise UnknownReferences(resolved)
    with transaction.atomic():
        locked = _open(incident)
        result = _attach(locked, resolved.case_ids, method, actor, now)
    result.unknown = resolved.unknown
    return result


def _attach(incident: Incident, case_ids: list[int], method: str, actor: User | None, now: datetime) -> AttachResult:
    """Insert the links not there yet (the unique constraint ignores a racing duplicate) and a quiet
    timeline entry on each newly attached case."""
    wanted = set(case_ids)
    before = set(IncidentCase.objects.filter(incident=incident).values_list("case_id", flat=True))
    new = sorted(wanted - before)
    for start in range(0, len(new), INSERT_BATCH):
        chunk = new[start : start + INSERT_BATCH]
        IncidentCase.objects.bulk_create(
            [
                IncidentCase(incident=incident, case_id=case_id, attached_at=now, attached_by=actor, method=method)
                for case_id in chunk
            ],
            ignore_conflicts=True,
        )
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(
                    case_id=case_id,
                    type="incident_attached",
                    at=now,
                    data={"incident": incident.pk, "code": incident.code, "method": method},
                    actor=actor,
                    system=True,
                    recorded_at=now,
                )
                for case_id in chunk
            ]
        )
    if new:
        _log(incident, now, actor, f"attached {len(new)} {method}")
        incident.save(update_fields=["history"])
    return AttachResult(attached=len(new), already=len(wanted & before))


# -- bulk runs ----------------------------------------------------------------------------------


def _launch(incident: Incident, kind: str, parameters: dict[str, Any], actor: User | None, now: datetime) -> BulkRun:
    with transaction.atomic():
        locked = _open(incident)
        links = IncidentCase.objects.filter(incident=locked)
        last = links.aggregate(last=Max("id"))["last"]
        if last is None:
            raise DomainError("no_cases", "no cases are attached to the incident yet", "incident", status=409)
        try:
            with transaction.atomic():
                return BulkRun.objects.create(
                    incident=locked,
                    kind=kind,
                    parameters=parameters,
                    total=links.count(),
                    last_id=last,
                    started_at=now,
                    updated_at=now,
                    launched_by=actor,
                )
        except IntegrityError as exc:
            raise Conflict("run_in_progress", f"a {kind} run is already running on this incident") from exc


def do_launch_notify(incident: Incident, *, actor: User | None, now: datetime, message: str = "") -> BulkRun:
    """Launch telling every affected customer (email and SMS) the reason and the new time, plus message.

    Each customer is told once per incident: a second run tells only cases not yet told.
    """
    if len(message) > MAX_MESSAGE:
        raise DomainError("too_long", f"the message is longer than {MAX_MESSAGE} characters", "message")
    return _launch(incident, RunKind.NOTIFY, {"message": message.strip()}, actor, now)


def do_launch_compensation(incident: Incident, *, actor: User | None, now: datetime, rule: dict[str, Any]) -> BulkRun:
    """Launch compensating every affected case by rule; needs approval rights.

    `{"mode": "grant", "kind", "amount", "currency", "reason", "approve", "issue"}` offers each
    case one grant (approved within the launcher's limit, which must cover the amount, and
    issued if asked); `{"mode": "liability", "promise_code"}` reports a breach of that
    promise on every case that has it, paid by the promise's own liability (a manager's
    decision; nothing under force majeure).
    """
    mode = rule.get("mode")
    if mode == GRANT_MODE:
        parameters = _grant_rule(rule, actor)
    elif mode == LIABILITY_MODE:
        parameters = _liability_rule(rule, actor)
    else:
        raise DomainError("invalid", f"mode is {GRANT_MODE} or {LIABILITY_MODE}", "mode")
    return _launch(incident, RunKind.COMPENSATE, parameters, actor, now)


def _grant_rule(rule: dict[str, Any], actor: User | None) -> dict[str, Any]:
    kind = str(rule.get("kind") or "")
    if kind not in KIND_LABELS:
        raise DomainError("invalid", f"kind is one of {', '.join(KIND_LABELS)}", "kind")
    currency = str(rule.get("currency") or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise DomainError("invalid", "currency is a three-letter code", "currency")
    raw = rule.get("amount")
    try:
        amount = Decimal(str(raw)) if raw not in (None, "") else None
    except InvalidOperation as exc:
        raise DomainError("invalid_amount", "the amount is not a number", "amount") from exc
    if amount is None and kind != "apology":
        raise DomainError("missing_field", f"a {kind} needs an amount", "amount")
    if amount is not None:
        if not amount.is_finite() or amount > Decimal("99999999"):
            raise DomainError("invalid_amount", "the amount must be more than zero and sensible", "amount")
        # Rounded in the currency first: 0.001 CNY is nothing to give.
        amount = round_money(amount, currency)
        if amount <= 0:
            raise DomainError("invalid_amount", "the amount must be more than zero and sensible", "amount")
    reason = str(rule.get("reason") or "").strip()
    if not reason:
        raise DomainError("missing_field", "say why the compensation is offered", "reason")
    limit = approval_limit(actor, currency)
    if limit is not None and (limit <= 0 or (amount or Decimal(0)) > limit):
        raise DomainError(
            "above_limit",
            f"launching compensation needs approval rights for {amount} {currency}; your limit is {limit}",
            "amount",
            status=403,
        )
    return {
        "mode": GRANT_MODE,
        "kind": kind,
        "amount": str(amount) if amount is not None else None,
        "currency": currency,
        "reason": reason,
        "approve": bool(rule.get("approve", True)),
        "issue": bool(rule.get("issue", False)),
    }


def _liability_rule(rule: dict[str, Any], actor: User | None) -> dict[str, Any]:
    from promisedesk.promises.models import Promise

    if not is_manager(actor):
        raise DomainError("forbidden", "only managers can launch compensation by promise liability", status=403)
    code = str(rule.get("promise_code") or "")
    if not Promise.objects.filter(code=code).exists():
        raise DomainError("unknown_promise", f"there is no promise with code {code!r}", "promise_code")
    return {"mode": LIABILITY_MODE, "promise_code": code}


def do_cancel_run(run: BulkRun, *, actor: User | None, now: datetime) -> BulkRun:
    """Stop a running run after the batch in hand; what it did stays done, and a new run may follow."""
    with transaction.atomic():
        locked = BulkRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != RunStatus.RUNNING:
            raise Conflict("not_running", f"the run is already {locked.status}")
        locked.status, locked.finished_at, locked.updated_at = RunStatus.CANCELLED, now, now
        locked.last_error, locked.error_params = "cancelled", {"by": _by(actor) or "promisedesk"}
        locked.save(update_fields=["status", "finished_at", "updated_at", "last_error", "error_params"])
        return locked
