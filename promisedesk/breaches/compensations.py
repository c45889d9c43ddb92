"""Approving, issuing and declining compensations, within each role's limit."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from promisedesk.errors import DomainError
from promisedesk.lib.money import round_money

from .models import ApprovalLimit, Compensation, CompensationStatus, Role
from .settlement import compensation_event


def approval_limit(user: User | None, currency: str) -> Decimal | None:
    """The largest amount user may approve in currency; None means unlimited (superusers)."""
    if user is None:
        return Decimal(0)
    if user.is_superuser:
        return None
    roles = [name for name in user.groups.values_list("name", flat=True) if name in Role.values and name != "automatic"]
    limits = ApprovalLimit.objects.filter(role__in=roles, currency=currency).values_list("max_amount", flat=True)
    return max(limits, default=Decimal(0))


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
