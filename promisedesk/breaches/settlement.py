"""Making good on a verified breach: the compensation and the apology, exactly once.

Settling is its own step, after the verdict, so that a worker that dies between
recording a breach and compensating for it leaves a verified, unsettled breach that
the next sweep settles. The one-to-one compensation and the outbox's unique key make
a second settlement write nothing.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from promisedesk.cases.models import CaseEvent
from promisedesk.lib.businesstime import to_micros
from promisedesk.lib.durations import parse_duration
from promisedesk.lib.faults import crash_point
from promisedesk.lib.money import format_money, liability_amount

from .models import ApprovalLimit, Breach, Compensation, CompensationStatus, Exclusion, Role, Status

BATCH = 500
# The idempotency key of a breach an incident's liability run reported (recovery.steps.breach_key).
# Clients cannot send keys with this prefix (POST /breaches refuses them), so the key is trustworthy.
RESERVED_KEY_PREFIX = "incident:"
INCIDENT_KEY = re.compile(r"^incident:(\d+):breach:")
# What Compensation.amount can hold (14 digits, 3 after the point).
MAX_AUTOMATIC_AMOUNT = Decimal("99999999999.999")


def paused_for(breach: Breach) -> timedelta:
    """How long the customer held the clock paused before the breach (wall time)."""
    commitment = breach.commitment
    if commitment is None:
        return timedelta(0)
    starts = [begin for begin, _end in commitment.segments or []]
    ends = [end for _begin, end in commitment.segments or []]
    if commitment.segment_started_at is not None:
        starts.append(to_micros(commitment.segment_started_at))  # the segment still running at the breach
    gaps = sum(max(0, begin - end) for end, begin in zip(ends, starts[1:], strict=False))
    total = timedelta(microseconds=gaps)
    if commitment.paused_at is not None:
        total += max(timedelta(0), breach.detected_at - commitment.paused_at)
    return total


def exclusion_for(breach: Breach) -> str:
    """Why no compensation is owed, or "" when it is."""
    from promisedesk.recovery.models import Incident

    # Covered when the promise broke inside a force-majeure incident's span, or when the
    # breach was reported for that incident (its key names it) whenever that happened.
    covering = Q(starts_at__lte=breach.detected_at) & (Q(ends_at__isnull=True) | Q(ends_at__gte=breach.detected_at))
    reported_for = INCIDENT_KEY.match(breach.idempotency_key or "")
    if reported_for:
        covering |= Q(pk=int(reported_for[1]))
    if Incident.objects.filter(covering, cases=breach.case_id, force_majeure=True).exists():
        return Exclusion.FORCE_MAJEURE
    version = breach.commitment.promise_version if breach.commitment else None
    max_pause = (version.standard or {}).get("max_pause") if version else None
    if max_pause and paused_for(breach) > parse_duration(max_pause):
        return Exclusion.CUSTOMER_PAUSE
    return Exclusion.NONE


def automatic_limit(currency: str) -> Decimal | None:
    """The most promisedesk approves by itself in currency; None means no limit is set."""
    row = ApprovalLimit.objects.filter(role=Role.AUTOMATIC, currency=currency).first()
    return row.max_amount if row else None


def _compensation(breach: Breach, now: datetime) -> Compensation | None:
    commitment = breach.commitment
    liability = commitment.liability if commitment else None
    if not liability:
        return None
    existing = Compensation.objects.filter(breach=breach).first()
    if existing is not None:
        return existing  # settled before by a worker that died before marking the breach
    case = breach.case
    basis = {
        "liability": liability,
        "price": str(case.price) if case.price is not None else None,
        "currency": case.currency,
        "promise_code": breach.promise_code,
        "promise_version": commitment.version_number if commitment else None,
    }
    amount = None
    if liability.get("currency") and liability.get("amount") is not None and liability["currency"] != case.currency:
        basis["note"] = f"the promise pays in {liability['currency']} but the case is in {case.currency}"
    else:
        amount = liability_amount(liability, case.price, case.currency)
        if amount is not None and amount > MAX_AUTOMATIC_AMOUNT:
            basis["note"] = f"the computed amount {amount} is beyond what is paid by rule; a manager sets it"
            amount = None
        elif amount is None:
            basis["note"] = "the case has no price to compute from; a manager sets the amount"
    compensation = Compensation.objects.create(
        breach=breach,
        case=case,
        kind=liability["kind"],
        amount=amount,
        currency=case.currency,
        status=CompensationStatus.PROPOSED,
        basis=basis,
        created_at=now,
    )
    compensation_event(compensation, "compensation_proposed", now)
    limit = automatic_limit(case.currency)
    if liability.get("automatic") and amount is not None and (limit is None or amount <= limit):
        compensation.status = CompensationStatus.APPROVED
        compensation.approved_at = now
        compensation.save(update_fields=["status", "approved_at"])
        compensation_event(compensation, "compensation_approved", now, automatic=True)
    return compensation


def compensation_event(compensation: Compensation, type: str, now: datetime, **data: object) -> None:
    CaseEvent.objects.create(
        case_id=compensation.case_id,
        type=type,
        at=now,
        system=True,
        recorded_at=now,
        data={
            "compensation": compensation.pk,
            "breach": compensation.breach_id,
            "grant": compensation.grant_key,
            "kind": compensation.kind,
            "amount": format_money(compensation.amount, compensation.currency),
            "currency": compensation.currency,
            **data,
        },
    )


def settle_breach(breach_id: int, now: datetime) -> bool:
    """Settle one verified breach; False when there was nothing (left) to do."""
    from promisedesk.notifications.events import case_link
    from promisedesk.notifications.outbox import queue_for_customer

    with transaction.atomic():
        breach = (
            Breach.objects.select_for_update(of=("self",))
            .select_related("case__customer", "commitment__promise_version")
            .filter(pk=breach_id, status=Status.VERIFIED, settled_at__isnull=True)
            .first()
        )
        if breach is None:
            return False
        breach.exclusion = exclusion_for(breach)
        compensation = None if breach.exclusion else _compensation(breach, now)
        crash_point("settling")
        version = breach.commitment.promise_version if breach.commitment else None
        queue_for_customer(
            customer=breach.case.customer,
            case_id=breach.case_id,
            event_key=f"breach:{breach.pk}:verified",
            template="breach_apology",
            context={
                "breach": breach,
                "case": breach.case,
                "link": case_link(breach.case),
                "compensation": compensation,
                "version": version,
                "statement": _statement(breach),
                "exclusion": breach.get_exclusion_display(),
            },
            now=now,
        )
        breach.settled_at = now
        breach.save(update_fields=["exclusion", "settled_at"])
        return True


def _statement(breach: Breach) -> str:
    commitment = breach.commitment
    if commitment is None:
        return breach.description
    if commitment.promise_version is not None:
        return commitment.promise_version.statement_in(breach.case.customer.locale)
    return commitment.statement


def settle_pending(now: datetime, batch: int = BATCH) -> int:
    """Settle every verified breach not yet settled (the sweeper's make-good pass)."""
    ids = list(
        Breach.objects.filter(status=Status.VERIFIED, settled_at__isnull=True)
        .order_by("recorded_at")
        .values_list("id", flat=True)[:batch]
    )
    return sum(1 for pk in ids if settle_breach(pk, now))


def settle_all(now: datetime) -> int:
    """Settle until nothing verified is left unsettled (`sweep --once`, catching up)."""
    total = 0
    while settled := settle_pending(now):
        total += settled
    return total
