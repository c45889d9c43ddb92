"""The sweeper: find clocks whose warning or due time has passed and record it once.

Concurrency, in steps:
1. Read a batch of candidate ids from the partial index on `next_check_at`
   (only rows that need a sweep are in it, so the cost does not grow with the
   clocks that are not due).
2. In one transaction, move the batch with a single UPDATE … WHERE id IN (…) AND
   the row is still in the state we read … RETURNING id: a compare-and-set. Rows
   another worker (or an event) moved first no longer match and are not returned.
3. In the same transaction insert the breach / alert rows and timeline entries for
   exactly the returned ids. Their unique constraints make a duplicate impossible
   even if step 2 were wrong; a crash before commit loses nothing, because the
   whole batch rolls back and the rows are still due for the next sweep.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from promisedesk.breaches.models import Breach, Source

from .engine import advance_one, system_event
from .models import Commitment, CommitmentAlert, State

BATCH = 1000


@dataclass
class SweepResult:
    breached: int = 0
    warned: int = 0
    started: int = 0

    def __str__(self) -> str:
        return f"sweep: {self.breached} breached, {self.warned} warned, {self.started} started"


def _crash_point(name: str) -> None:
    # Fault injection for the crash tests: die mid-transaction without cleaning up.
    if os.environ.get("PROMISEDESK_CRASH_AT") == name:
        os._exit(99)


def _claim(sql_set: str, where: str, ids: list[int], params: list[object]) -> list[tuple]:
    table = Commitment._meta.db_table
    marks = ",".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {table} SET {sql_set} WHERE id IN ({marks}) AND {where} "
        "RETURNING id, case_id, promise_code, due_at, warn_at, liability"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *ids])
        return cursor.fetchall()


def _dt(value: object) -> datetime:
    return (
        connection.ops.convert_datetimefield_value(value, None, connection)
        if not isinstance(value, datetime)
        else value
    )  # type: ignore[return-value]


def _liability(value: object) -> dict | None:
    import json

    if value is None or isinstance(value, dict):
        return value  # type: ignore[return-value]
    return json.loads(value)  # type: ignore[arg-type]


def sweep_breaches(now: datetime, batch: int = BATCH) -> int:
    """Record every running clock whose due time has passed, at its due time."""
    total = 0
    adapt = connection.ops.adapt_datetimefield_value
    while True:
        ids = list(
            Commitment.objects.filter(next_check_at__lte=now, state=State.RUNNING, due_at__lte=now)
            .order_by("next_check_at")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            return total
        with transaction.atomic():
            rows = _claim(
                "state = %s, breached_at = due_at, next_check_at = NULL",
                "state = %s AND next_check_at <= %s AND due_at <= %s",
                ids,
                [State.BREACHED, State.RUNNING, adapt(now), adapt(now)],
            )
            _crash_point("breach_claimed")
            Breach.objects.bulk_create(
                [
                    Breach(
                        case_id=case_id,
                        commitment_id=pk,
                        promise_code=code,
                        source=Source.CLOCK,
                        status=Breach.initial_status(_liability(liability)),
                        detected_at=_dt(due),
                        recorded_at=now,
                        description="the clock ran out",
                    )
                    for pk, case_id, code, due, _warn, liability in rows
                ]
            )
            system_events = [
                system_event(case_id, "promise_breached", _dt(due), now, promise_code=code, commitment=pk)
                for pk, case_id, code, due, _warn, _liability_value in rows
            ]
            from promisedesk.cases.models import CaseEvent

            CaseEvent.objects.bulk_create(system_events)
        total += len(rows)
        if len(ids) < batch or not rows:
            return total


def sweep_warnings(now: datetime, batch: int = BATCH) -> int:
    """Record every running clock whose warning threshold has passed, once."""
    from promisedesk.cases.models import CaseEvent

    total = 0
    adapt = connection.ops.adapt_datetimefield_value
    while True:
        ids = list(
            Commitment.objects.filter(
                next_check_at__lte=now, state=State.RUNNING, warned_at__isnull=True, due_at__gt=now
            )
            .order_by("next_check_at")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            return total
        with transaction.atomic():
            rows = _claim(
                "warned_at = warn_at, next_check_at = due_at",
                "state = %s AND warned_at IS NULL AND warn_at <= %s AND due_at > %s",
                ids,
                [State.RUNNING, adapt(now), adapt(now)],
            )
            CommitmentAlert.objects.bulk_create(
                [
                    CommitmentAlert(commitment_id=pk, kind="at_risk", at=_dt(warn), recorded_at=now)
                    for pk, _c, _p, _d, warn, _l in rows
                ]
            )
            CaseEvent.objects.bulk_create(
                [
                    system_event(case_id, "promise_at_risk", _dt(warn), now, promise_code=code, commitment=pk)
                    for pk, case_id, code, _due, warn, _l in rows
                ]
            )
        total += len(rows)
        if len(ids) < batch or not rows:
            return total


def sweep_scheduled_starts(now: datetime, batch: int = BATCH) -> int:
    """Start clocks whose booked appointment has begun (few, so one at a time)."""
    ids = list(
        Commitment.objects.filter(next_check_at__lte=now, state=State.PENDING)
        .order_by("next_check_at")
        .values_list("id", flat=True)[:batch]
    )
    return sum(1 for pk in ids if advance_one(pk, now))


def sweep(now: datetime) -> SweepResult:
    """One full sweep at instant now. Safe to run in many processes at once."""
    result = SweepResult()
    result.started = sweep_scheduled_starts(now)
    result.breached = sweep_breaches(now)
    result.warned = sweep_warnings(now)
    return result
