"""Breaches from every source, their verdict, and making good exactly once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from promisedesk.cases.models import Case, CaseEvent
from promisedesk.commitments.clock import Effect
from promisedesk.commitments.engine import record_effects
from promisedesk.commitments.models import Commitment, State
from promisedesk.errors import Conflict, DomainError, NotFound

from .models import Breach, Compensation, RootCause, Source, Status
from .settlement import settle_breach

REPORTABLE_SOURCES = (Source.CLAIM, Source.REPORT, Source.INSPECTION, Source.SURVEY)


def case_event(case_id: int, type: str, now: datetime, actor: User | None, note: str = "", **data: object) -> None:
    CaseEvent.objects.create(
        case_id=case_id, type=type, at=now, note=note, data=data, actor=actor, system=True, recorded_at=now
    )


def _commitment_for(case: Case, promise_code: str | None, commitment_id: int | None) -> Commitment:
    if (promise_code is None) == (commitment_id is None):
        raise DomainError("invalid", "name either the promise_code or the commitment", "promise_code")
    query = Commitment.objects.select_for_update(of=("self",)).filter(case=case)
    if commitment_id is not None:
        found = query.filter(pk=commitment_id).first()
        if found is None:
            raise DomainError("not_on_case", f"commitment {commitment_id} is not on case {case.pk}", "commitment")
        return found
    found = query.filter(promise_code=promise_code).first()
    if found is None:
        raise DomainError(
            "promise_not_applicable", f"promise {promise_code!r} does not apply to case {case.pk}", "promise_code"
        )
    return found


def do_report_breach(
    *,
    actor: User | None,
    now: datetime,
    case: Case,
    source: str,
    description: str,
    promise_code: str | None = None,
    commitment_id: int | None = None,
    idempotency_key: str | None = None,
) -> tuple[Breach, bool]:
    """Report a broken promise (a claim, a staff report, an inspection, a survey answer).

    Returns (breach, created). The same idempotency key returns the first breach; a
    commitment already breached is a conflict. Where the promise does not pay only
    "once verified", the breach is verified at once and made good in the same step.
    """
    if source not in REPORTABLE_SOURCES:
        raise DomainError("invalid_source", f"source is one of {', '.join(REPORTABLE_SOURCES)}", "source")
    if idempotency_key:
        existing = Breach.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_report(existing, case, promise_code, commitment_id), False
    try:
        with transaction.atomic():
            commitment = _commitment_for(case, promise_code, commitment_id)
            if commitment.state == State.CANCELLED:
                raise DomainError("not_in_force", "that commitment was cancelled; nothing was promised", "commitment")
            breach = Breach.objects.create(
                case=case,
                commitment=commitment,
                promise_code=commitment.promise_code,
                source=source,
                status=Status.SUSPECTED,
                description=description,
                detected_at=now,
                recorded_at=now,
                reported_by=actor,
                idempotency_key=idempotency_key or None,
            )
            case_event(
                case.pk,
                "breach_reported",
                now,
                actor,
                description,
                breach=breach.pk,
                source=source,
                promise_code=commitment.promise_code,
            )
            if Breach.initial_status(commitment.liability) == Status.VERIFIED:
                _verify(breach, commitment, actor=actor, now=now, root_cause="", note="")
            return breach, True
    except IntegrityError as exc:
        if idempotency_key:
            existing = Breach.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return _same_report(existing, case, promise_code, commitment_id), False
        raise Conflict(
            "already_breached", "this promise is already recorded as broken on the case", "commitment"
        ) from exc


def _same_report(existing: Breach, case: Case, promise_code: str | None, commitment_id: int | None) -> Breach:
    """The breach an idempotency key already names, if it is the same report; a key used for another
    case, promise or commitment is taken (409), so nobody can take over another report's key."""
    same = existing.case_id == case.pk
    if promise_code is not None:
        same = same and existing.promise_code == promise_code
    if commitment_id is not None:
        same = same and existing.commitment_id == commitment_id
    if not same:
        raise Conflict(
            "idempotency_key_taken", "this idempotency key was used for another breach report", "idempotency_key"
        )
    return existing


def _mark_commitment_breached(commitment: Commitment, at: datetime) -> None:
    if commitment.state == State.BREACHED:
        return
    if commitment.state == State.RUNNING and commitment.segment_started_at is not None:
        commitment.stopped_at = at
    commitment.state = State.BREACHED
    commitment.breached_at = commitment.breached_at or at
    commitment.next_check_at = None
    commitment.save(update_fields=["state", "breached_at", "next_check_at", "stopped_at"])


def _verify(
    breach: Breach, commitment: Commitment | None, *, actor: User | None, now: datetime, root_cause: str, note: str
) -> None:
    breach.status = Status.VERIFIED
    breach.verified_by = actor
    breach.verified_at = now
    breach.root_cause = root_cause
    breach.verdict_note = note
    breach.save(update_fields=["status", "verified_by", "verified_at", "root_cause", "verdict_note"])
    if commitment is not None:
        _mark_commitment_breached(commitment, breach.detected_at)
    case_event(breach.case_id, "breach_verified", now, actor, note, breach=breach.pk, root_cause=root_cause)
    settle_breach(breach.pk, now)


def _check_root_cause(code: str) -> None:
    if not code:
        raise DomainError("missing_field", "a verified breach needs its root cause", "root_cause")
    if not RootCause.objects.filter(code=code, active=True).exists():
        raise DomainError("unknown_root_cause", f"{code!r} is not a root cause in the list", "root_cause")


def do_verify_breach(
    breach: Breach, *, actor: User | None, now: datetime, verdict: str, root_cause: str = "", note: str = ""
) -> Breach:
    """Give a suspected breach its verdict: verified (made good at once) or rejected (the customer is told why)."""
    if verdict not in (Status.VERIFIED, Status.REJECTED):
        raise DomainError("invalid", "verdict is verified or rejected", "verdict")
    if verdict == Status.VERIFIED:
        _check_root_cause(root_cause)
    elif not note.strip():
        raise DomainError("missing_field", "a rejection needs its reason in the note", "note")
    with transaction.atomic():
        locked = Breach.objects.select_for_update(of=("self",)).select_related("case__customer").get(pk=breach.pk)
        if locked.status != Status.SUSPECTED:
            raise DomainError("already_decided", f"the breach is already {locked.status}", "verdict", status=409)
        commitment = (
            Commitment.objects.select_for_update(of=("self",)).filter(pk=locked.commitment_id).first()
            if locked.commitment_id
            else None
        )
        if verdict == Status.VERIFIED:
            _verify(locked, commitment, actor=actor, now=now, root_cause=root_cause, note=note)
        else:
            _reject(locked, actor=actor, now=now, note=note)
        return locked


def _reject(breach: Breach, *, actor: User | None, now: datetime, note: str) -> None:
    from promisedesk.notifications.events import case_link
    from promisedesk.notifications.outbox import queue_for_customer

    breach.status = Status.REJECTED
    breach.verified_by = actor
    breach.verified_at = now
    breach.verdict_note = note
    breach.save(update_fields=["status", "verified_by", "verified_at", "verdict_note"])
    _restore_commitment(breach, now)
    case_event(breach.case_id, "breach_rejected", now, actor, note, breach=breach.pk)
    if breach.source == Source.CLAIM:
        queue_for_customer(
            customer=breach.case.customer,
            case_id=breach.case_id,
            event_key=f"breach:{breach.pk}:rejected",
            template="claim_rejected",
            context={"breach": breach, "reason": note, "case": breach.case, "link": case_link(breach.case)},
            now=now,
        )


def _restore_commitment(breach: Breach, now: datetime) -> None:
    """After a rejection, put the commitment right.

    A rejected clock breach was no breach: the commitment counts as kept if its stop
    came, and as withdrawn for this case if it never did. A rejected claim on a clock
    that ran out meanwhile leaves the clock's own breach standing, recorded now (the
    sweeper skipped it while the claim held the commitment's one breach).
    """
    if breach.commitment_id is None:
        return
    commitment = (
        Commitment.objects.select_for_update(of=("self",)).filter(pk=breach.commitment_id, state=State.BREACHED).first()
    )
    if commitment is None or commitment.breaches.exclude(status=Status.REJECTED).exists():
        return
    if breach.source != Source.CLOCK:
        record_effects(commitment, [Effect("breached", commitment.breached_at or now)], now, timeline=False)
        return
    if commitment.stopped_at is not None:
        commitment.state, commitment.met_at = State.MET, commitment.stopped_at
    else:
        commitment.state, commitment.cancelled_at = State.CANCELLED, now
    commitment.save(update_fields=["state", "met_at", "cancelled_at"])


def do_set_root_cause(breach: Breach, *, actor: User | None, now: datetime, root_cause: str) -> Breach:
    """Name (or correct) the root cause of a verified breach, e.g. one the clock found."""
    _check_root_cause(root_cause)
    with transaction.atomic():
        locked = Breach.objects.select_for_update(of=("self",)).get(pk=breach.pk)
        if locked.status != Status.VERIFIED:
            raise DomainError("not_verified", "only a verified breach has a root cause", "root_cause", status=409)
        locked.root_cause = root_cause
        locked.save(update_fields=["root_cause"])
        case_event(locked.case_id, "breach_root_caused", now, actor, breach=locked.pk, root_cause=root_cause)
        return locked


def get_breach(breach_id: int) -> Breach:
    found = Breach.objects.select_related("case__customer").filter(pk=breach_id).first()
    if found is None:
        raise NotFound(f"breach {breach_id}")
    return found


def get_compensation(compensation_id: int) -> Compensation:
    found = Compensation.objects.select_related("case__customer", "breach").filter(pk=compensation_id).first()
    if found is None:
        raise NotFound(f"compensation {compensation_id}")
    return found


__all__ = ["Decimal", "do_report_breach", "do_set_root_cause", "do_verify_breach"]
