"""Idempotent intake: a delivery's key is claimed in the transaction that does its work.

1. Look the key up; a delivery seen before gets what the first one made.
2. Otherwise insert the key row first, then do the work, in one transaction.
   A concurrent delivery of the same key blocks on the unique index (PostgreSQL)
   or on the write lock (SQLite, IMMEDIATE transactions) until the first commits,
   then fails to insert and reads the first one's row. If the work fails, the key
   row goes with it, so a retry does the work again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from promisedesk.cases.models import Case, CaseEvent

from .models import IntakeKey, QuarantinedMessage


@dataclass
class Outcome:
    """What a delivery's work made: a case (new or existing) and its event, or a quarantined message."""

    case: Case | None = None
    event: CaseEvent | None = None
    quarantined: QuarantinedMessage | None = None
    created: bool = False
    customer_created: bool = False  # the work made the case's customer (not stored: a redelivery never tells)


@dataclass
class Delivery:
    """The answer to one delivery; `duplicate` when its key was seen before and nothing was done.

    `outcome` is what this delivery's own work made; None for a duplicate.
    """

    key: IntakeKey
    duplicate: bool
    outcome: Outcome | None = None

    @property
    def case(self) -> Case | None:
        return self.key.case


def _existing(source: str, key: str) -> IntakeKey | None:
    # Most deliveries are new: a plain indexed lookup first, the joins only for a key seen before.
    if not IntakeKey.objects.filter(source=source, key=key).exists():
        return None
    return (
        IntakeKey.objects.select_related("case__customer", "case__service", "event", "quarantined")
        .defer("quarantined__raw")
        .filter(source=source, key=key)
        .first()
    )


def claim(source: str, key: str, now: datetime, work: Callable[[], Outcome]) -> Delivery:
    """Do `work` once for (source, key), however many deliveries of it arrive, even at once."""
    seen = _existing(source, key)
    if seen is not None:
        return Delivery(seen, duplicate=True)
    try:
        with transaction.atomic():
            row = IntakeKey.objects.create(source=source, key=key, received_at=now)
            outcome = work()
            row.case, row.event, row.quarantined = outcome.case, outcome.event, outcome.quarantined
            row.created = outcome.created
            row.save(update_fields=["case", "event", "quarantined", "created"])
            return Delivery(row, duplicate=False, outcome=outcome)
    except IntegrityError:
        seen = _existing(source, key)
        if seen is None:
            raise  # not our key's constraint: a real error
        return Delivery(seen, duplicate=True)
