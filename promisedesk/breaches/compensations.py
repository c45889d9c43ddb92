"""Approving, issuing and declining compensations, within each role's limit."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from promisedesk.cases.models import Case
from promisedesk.errors import DomainError
from promisedesk.lib.money import round_money

from .models import KIND_LABELS, ApprovalLimit, Compensation, CompensationStatus, Role
from .settlement import MAX_AUTOMATIC_AMOUNT, compensation_event

GRANT_KEY_LENGTH = 120


def approval_limit(user: User | None, currency: str) -> Decimal | None:
    """The largest amount user may approve in currency; None means unlimited (superusers).

    Nobody (None) and a deactivated user may approve nothing: a run launched by someone
    who has since left does not go on approving in their name."""
    if user is None or not user.is_active:
        return Decimal(0)
    if user.is_superuser:
        return None
    roles = [name for name in user.groups.values_list("name", flat=True) if name in Role.values and name != "automatic"]
    limits = ApprovalLimit.objects.filter(role__in=roles, currency=currency).values_list("max_amount", flat=True)
    return max(limits, default=Decimal(0))


def do_propose_grant(
    case: Case,
    *,
    key: str,
    kind: str,
    amount: Decimal | None,
    reason: str,
    actor: User | None,
    now: datetime,
) -> tuple[Compensation, bool]:
    """Offer compensation without a broken promise (a complaint's remedy, an incident's voucher).

    It is proposed in the case's currency and then goes through the same approval limits
    and issuing as any make-good. `key` names what it is for; the unique `grant_key`
    makes a second offer for the same thing return the first (created False), even when
    two requests race.
    """
    if not key or len(key) > GRANT_KEY_LENGTH:
        raise DomainError("invalid", "a grant needs a key of at most 120 characters", "key")
    if kind not in KIND_LABELS:
        raise DomainError("invalid", f"kind is one of {', '.join(KIND_LABELS)}", "kind")
    if not reason.strip():
        raise DomainError("missing_field", "a grant needs a reason", "reason")
    if amount is not None:
        if not amount.is_finite() or amount < 0 or amount > MAX_AUTOMATIC_AMOUNT:
            raise DomainError("invalid_amount", "the amount must be zero or more and sensible", "amount")
        amount = round_money(amount, case.currency)
    elif kind != "apology":
        raise DomainError("missing_field", f"a {kind} needs an amount", "amount")
    existing = Compensation.objects.filter(grant_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            grant = Compensation.objects.create(
                grant_key=key,
                reason=reason,
                case=case,
                kind=kind,
                amount=amount if amount is not None else Decimal(0),
                currency=case.currency,
                status=CompensationStatus.PROPOSED,
                basis={"grant": key, "by": actor.get_username() if actor else None},
                created_at=now,
            )
            compensation_event(grant, "compensation_proposed", now, grant=key, reason=reason)
            return grant, True
    except IntegrityError:
        return Compensation.objects.get(grant_key=key), False


def _locked(compensation: Compensation) -> Compensation:
    return (
        Compensation.objects.select_for_update(of=("self",))
        .select_related("case__customer", "breach")
        .get(pk=compensation.pk)
    )


def do_approve_compensation(
    compensation: Compensation,
    *,
    actor: User | None,
    now: datetime,
    amount: Decimal | None = None,
    currency: str | None = None,
    note: str = "",
) -> Compensation:
    """Approve a proposed compensation, optionally setting the amount when none could be computed."""
    with transaction.atomic():
        locked = _locked(compensation)
        if locked.status != CompensationStatus.PROPOSED:
            raise DomainError("not_proposed", f"the compensation is already {locked.status}", status=409)
        if currency is not None and currency != locked.case.currency:
            raise DomainError("currency_mismatch", f"the case is paid in {locked.case.currency}", "currency")
        if amount is not None:
            if amount < 0:
                raise DomainError("invalid_amount", "an amount cannot be negative", "amount")
            locked.amount = round_money(amount, locked.currency)
            locked.basis = {**locked.basis, "set_by_approver": str(locked.amount), "note": note}
        if locked.amount is None:
            raise DomainError("missing_field", "this compensation needs an amount to be approved", "amount")
        limit = approval_limit(actor, locked.currency)
        if limit is not None and locked.amount > limit:
            raise DomainError(
                "above_limit",
                f"{locked.amount} {locked.currency} is above your approval limit of {limit}",
                "amount",
                status=403,
            )
        locked.status = CompensationStatus.APPROVED
        locked.approved_at, locked.approved_by = now, actor
        locked.save(update_fields=["status", "approved_at", "approved_by", "amount", "basis"])
        compensation_event(locked, "compensation_approved", now, by=actor.get_username() if actor else None, note=note)
        return locked


def _reference(compensation: Compensation) -> str:
    prefix = {"voucher": "V", "refund": "RF", "discount": "D", "gift": "G", "cash": "C"}.get(compensation.kind, "A")
    return f"{prefix}-{compensation.pk}-{secrets.token_hex(4).upper()}"


def do_issue_compensation(
    compensation: Compensation, *, actor: User | None, now: datetime, reference: str = ""
) -> Compensation:
    """Hand the compensation over (a voucher code, a refund reference) and tell the customer."""
    from promisedesk.notifications.events import case_link
    from promisedesk.notifications.outbox import queue_for_customer

    with transaction.atomic():
        locked = _locked(compensation)
        if locked.status != CompensationStatus.APPROVED:
            raise DomainError(
                "not_approved", f"only an approved compensation can be issued, not a {locked.status} one", status=409
            )
        locked.reference = reference or _reference(locked)
        locked.status = CompensationStatus.ISSUED
        locked.issued_at, locked.issued_by = now, actor
        locked.save(update_fields=["status", "issued_at", "issued_by", "reference"])
        compensation_event(
            locked, "compensation_issued", now, reference=locked.reference, by=actor.get_username() if actor else None
        )
        queue_for_customer(
            customer=locked.case.customer,
            case_id=locked.case_id,
            event_key=f"compensation:{locked.pk}:issued",
            template="compensation_issued",
            context={"compensation": locked, "case": locked.case, "link": case_link(locked.case)},
            now=now,
        )
        return locked


def do_decline_compensation(
    compensation: Compensation, *, actor: User | None, now: datetime, reason: str
) -> Compensation:
    """Decline a compensation that is not owed after all; the reason is kept and the customer told."""
    from promisedesk.notifications.events import case_link
    from promisedesk.notifications.outbox import queue_for_customer

    if not reason.strip():
        raise DomainError("missing_field", "declining needs a reason", "reason")
    with transaction.atomic():
        locked = _locked(compensation)
        if locked.status not in (CompensationStatus.PROPOSED, CompensationStatus.APPROVED):
            raise DomainError("already_final", f"the compensation is already {locked.status}", status=409)
        locked.status = CompensationStatus.DECLINED
        locked.declined_at, locked.declined_by, locked.decline_reason = now, actor, reason
        locked.save(update_fields=["status", "declined_at", "declined_by", "decline_reason"])
        compensation_event(
            locked, "compensation_declined", now, reason=reason, by=actor.get_username() if actor else None
        )
        queue_for_customer(
            customer=locked.case.customer,
            case_id=locked.case_id,
            event_key=f"compensation:{locked.pk}:declined",
            template="compensation_declined",
            context={"compensation": locked, "case": locked.case, "reason": reason, "link": case_link(locked.case)},
            now=now,
        )
        return locked
