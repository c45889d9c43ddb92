"""Staff actions on one commitment: keep it or withdraw it by hand."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction

from promisedesk.calendars.compiled import clock_for
from promisedesk.errors import DomainError

from . import clock as clocks
from .engine import record_effects, system_event
from .models import Commitment, State


def _locked(commitment: Commitment) -> Commitment:
    return Commitment.objects.select_for_update(of=("self",)).select_related("calendar").get(pk=commitment.pk)


def do_fulfil_commitment(commitment: Commitment, *, actor: User | None, now: datetime) -> Commitment:
    """Mark a commitment kept now; a clock that already ran out stays breached."""
    with transaction.atomic():
        locked = _locked(commitment)
        effects = clocks.advance(locked, now, clock_for(locked.calendar))
        if locked.state not in (State.RUNNING, State.PAUSED, State.BREACHED):
            raise DomainError("not_open", f"the commitment is {locked.state}, not open", status=409)
        clocks.stop(locked, now, clock_for(locked.calendar))
        locked.save(update_fields=clocks.CHANGED_FIELDS)
        record_effects(locked, effects, now)
        system_event(locked.case_id, "commitment_fulfilled", now, now, commitment=locked.pk, state=locked.state).save()
        return locked


def do_cancel_commitment(commitment: Commitment, *, actor: User | None, now: datetime, reason: str) -> Commitment:
    """Withdraw a commitment that no longer applies (the customer cancelled the booking)."""
    with transaction.atomic():
        locked = _locked(commitment)
        effects = clocks.advance(locked, now, clock_for(locked.calendar))
        record_effects(locked, effects, now)
        if not locked.is_open:
            locked.save(update_fields=clocks.CHANGED_FIELDS)
            raise DomainError("not_open", f"the commitment is {locked.state}, not open", status=409)
        clocks.cancel(locked, now)
        locked.save(update_fields=clocks.CHANGED_FIELDS)
        system_event(locked.case_id, "commitment_cancelled", now, now, commitment=locked.pk, reason=reason).save()
        return locked
