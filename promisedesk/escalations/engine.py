"""Firing escalations whose instant has come, exactly once, however many workers run.

`escalate_due(now)` first schedules the chains of warnings and breaches recorded
since the last call (pickup.py), then settles due escalations a batch at a time,
each batch in one transaction:
1. Lock up to `batch` pending escalations with `fire_at <= now`, read through the
   partial index `escalation_due` alone, FOR UPDATE SKIP LOCKED on PostgreSQL (so
   workers running at once split the work); on SQLite the transaction is
   IMMEDIATE and holds the write lock from its first statement.
2. Load their commitments (with calendar, case, department and owner) and decide
   each one from the clock as it stands now:
   - the clock was restarted, kept or withdrawn: void, with the reason;
   - it has not reached the threshold yet (it was paused, or its calendar changed):
     move `fire_at` to the instant it will (a paused clock: when it could at the
     earliest, were it resumed now) and leave it pending;
   - otherwise fire: tell the level's people (an email each, released at the next
     working instant of the promise's calendar) or, with nobody to tell, skip with
     the reason; either way append a timeline entry to the case.
3. Write every decision with one compare-and-set UPDATE on `status = 'pending'`,
   and the messages and timeline entries in the same transaction. The outbox's unique
   (event, recipient, channel) and the escalation's unique (commitment, role, run)
   make a duplicate impossible even if the locking were wrong; a worker that dies
   mid-batch rolls it back, and the rows are still due for the next pass.
Every row a batch looks at leaves it settled or with `fire_at` after now, so each
pass ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Field

from promisedesk.calendars.compiled import clock_for
from promisedesk.cases.models import CaseEvent
from promisedesk.commitments.models import Commitment, State
from promisedesk.lib.faults import crash_point
from promisedesk.notifications.models import OutboxMessage

from .clockstate import earliest_after_pause, reached_at
from .messages import ESCALATED, SKIPPED, staff_messages, timeline_entry
from .models import Escalation, Reason, Status
from .pickup import pick_up
from .recipients import RELATIONS, manager_group, recipients_for
from .timing import release_at

BATCH = 500


@dataclass
class EscalationResult:
    """What one pass did: chains scheduled, levels told, skipped, void and moved later."""

    scheduled: int = 0
    fired: int = 0
    skipped: int = 0
    void: int = 0
    rescheduled: int = 0

    def __str__(self) -> str:
        return (
            f"escalate: {self.scheduled} scheduled, {self.fired} fired, {self.skipped} skipped, "
            f"{self.void} void, {self.rescheduled} rescheduled"
        )

    def __iadd__(self, other: EscalationResult) -> EscalationResult:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


class LostClaim(RuntimeError):
    """A locked escalation did not match its own compare-and-set: the batch is not recorded."""


@dataclass
class _Batch:
    """What step 3 writes for one batch."""

    now: datetime
    result: EscalationResult = field(default_factory=EscalationResult)
    changes: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: list[OutboxMessage] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)

    def write(self, row: Escalation, **changes: Any) -> None:
        self.changes[row.pk] = {"fire_at": row.fire_at, **changes}  # a void row keeps its instant


def escalate_due(now: datetime, *, batch: int = BATCH) -> EscalationResult:
    """Schedule new chains, then settle every escalation due at now. Safe in many processes at once.

    Memory stays flat: at most `batch` escalations (and their commitments) are held at once.
    """
    total = EscalationResult(scheduled=pick_up(now, batch))
    while True:
        done, claimed = fire_batch(now, batch)
        total += done
        if claimed < batch:
            return total


def due_escalations(now: datetime) -> Any:
    """Pending escalations whose instant has come, by the partial index `escalation_due` only."""
    return Escalation.objects.filter(status=Status.PENDING, fire_at__lte=now).order_by("fire_at", "id")


def fire_batch(now: datetime, batch: int = BATCH) -> tuple[EscalationResult, int]:
    """Steps 1–3 for one batch in one transaction; returns what it did and how many it claimed."""
    work = _Batch(now)
    with transaction.atomic():
        rows = list(due_escalations(now).select_for_update(skip_locked=True)[:batch])
        if not rows:
            return work.result, 0
        commitments = {
            c.pk: c
            for c in Commitment.objects.filter(pk__in={r.commitment_id for r in rows}).select_related(
                "calendar", "promise_version", "case__customer", *RELATIONS
            )
        }
        managers = manager_group()
        for row in rows:
            _settle(row, commitments[row.commitment_id], work, managers)
        _write(work.changes)
        crash_point("escalation_claimed")
        OutboxMessage.objects.bulk_create(work.messages, ignore_conflicts=True)
        CaseEvent.objects.bulk_create(work.events)
    return work.result, len(rows)


def _settle(row: Escalation, commitment: Commitment, work: _Batch, managers: Any) -> None:
    """Step 2 for one escalation: void it, move it later, or fire it."""
    reason = _void_reason(row, commitment)
    if reason:
        work.write(row, status=Status.VOID, reason=reason, fired_at=work.now)
        work.result.void += 1
        return
    clock = clock_for(commitment.calendar)
    if row.threshold is None or commitment.target_us is None:
        reached = row.cycle_at  # the level comes with the warning (or the breach) itself
    else:
        at = reached_at(commitment, row.threshold, clock)
        if at is None:  # paused below the threshold
            work.write(row, fire_at=earliest_after_pause(commitment, row.threshold, clock, work.now))
            work.result.rescheduled += 1
            return
        reached = max(at, row.cycle_at)
        if reached > work.now:  # not there yet: the clock was paused or its calendar changed
            work.write(row, fire_at=reached)
            work.result.rescheduled += 1
            return
    _fire(row, commitment, reached, clock, work, managers)


def _void_reason(row: Escalation, commitment: Commitment) -> str:
    if commitment.started_at != row.run_started_at or commitment.state == State.PENDING:
        return Reason.RESTARTED
    if commitment.state == State.MET:
        return Reason.MET
    if commitment.state == State.CANCELLED:
        return Reason.CANCELLED
    return ""


def _fire(row: Escalation, commitment: Commitment, reached: datetime, clock: Any, work: _Batch, managers: Any) -> None:
    people, reason = recipients_for(row.role, commitment, managers)
    if reason:
        work.write(row, status=Status.SKIPPED, reason=reason, fire_at=reached, fired_at=work.now)
        work.events.append(timeline_entry(SKIPPED, row, commitment, at=reached, now=work.now, reason=reason))
        work.result.skipped += 1
        return
    notify = release_at(clock, max(reached, work.now))
    told = [{"id": p.pk, "username": p.get_username(), "email": p.email} for p in people]
    work.write(row, status=Status.FIRED, fire_at=reached, fired_at=work.now, notify_at=notify, recipients=told)
    work.messages += staff_messages(row, commitment, people, reached=reached, notify=notify, now=work.now)
    to = [t["username"] for t in told]
    entry = timeline_entry(ESCALATED, row, commitment, at=reached, now=work.now, to=to, notify_at=notify.isoformat())
    work.events.append(entry)
    work.result.fired += 1


# Step 3 sets every column a decision can change; a row still pending keeps the rest as they were.
WRITTEN = ("status", "reason", "fire_at", "fired_at", "notify_at", "recipients")


def _write(changes: dict[int, dict[str, Any]]) -> None:
    """Step 3: compare-and-set every locked escalation of the batch, in one executemany.

    Each UPDATE names its row by id and matches only while it is still pending, so
    together they must match every row; the ORM's CASE-per-row bulk update cost more
    than the decisions themselves.
    """
    if not changes:
        return
    db = connections[router.db_for_write(Escalation)]
    columns: list[Field[Any, Any]] = [Escalation._meta.get_field(name) for name in WRITTEN]  # type: ignore[misc]
    defaults: dict[str, Any] = {
        "status": Status.PENDING,
        "reason": "",
        "fired_at": None,
        "notify_at": None,
        "recipients": [],
    }
    params = [
        [column.get_db_prep_save({**defaults, **change}[column.name], db) for column in columns] + [pk]
        for pk, change in changes.items()
    ]
    quote = db.ops.quote_name
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    table = quote(Escalation._meta.db_table)
    with db.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s AND status = 'pending'", params)
        moved = cursor.rowcount
    if moved != len(changes):
        raise LostClaim(f"claimed {len(changes)} escalations but moved {moved}")
