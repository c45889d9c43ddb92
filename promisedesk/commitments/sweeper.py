"""The sweeper: find clocks whose warning or due time has passed and record it once.

Concurrency, in steps (one transaction per batch of at most BATCH clocks):
1. Lock a batch of clocks with `next_check_at <= now`, read through the partial
   index on that column alone (only clocks that need a sweep are in it, so the cost
   does not grow with the clocks that are not due, and no other index can tempt the
   planner into reading every running clock). On PostgreSQL the rows are taken
   FOR UPDATE SKIP LOCKED, so sweepers running at once split the work instead of
   queueing on the same rows; on SQLite the transaction is IMMEDIATE, so it holds
   the write lock from its first statement and no other writer can move the rows.
2. Sort the batch in memory: warnings that passed, breaches that passed, scheduled
   starts that came. Move each group with one UPDATE … WHERE id IN (…) AND its
   warning / breach is still unrecorded (a compare-and-set). After step 1 it must
   move every row; if it does not, something else changed them, and the whole batch
   is rolled back rather than recorded from a stale read.
3. In the same transaction insert the alert / breach rows and timeline entries.
   Their unique constraints make a duplicate impossible even if steps 1–2 were
   wrong; a worker that dies before commit loses nothing, because the batch rolls
   back and its rows are still due for the next sweep.
Every clock in a batch leaves it with `next_check_at` after now (or null), so each
sweep ends. A clock found long overdue records its warning and then its breach, each
at its own instant, as a late timeline event would (clock.advance).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import connections, router, transaction
from django.db.models import Case, F, Model, Q, QuerySet, When

from promisedesk.breaches.models import Breach, Source
from promisedesk.calendars.compiled import clock_for
from promisedesk.cases.models import CaseEvent
from promisedesk.lib.businesstime import from_micros, to_micros
from promisedesk.lib.faults import crash_point

from . import clock as clocks
from .engine import record_effects
from .models import Commitment, CommitmentAlert, State

BATCH = 1000
log = logging.getLogger("promisedesk.sweeper")


@dataclass
class SweepResult:
    breached: int = 0
    warned: int = 0
    started: int = 0

    def __str__(self) -> str:
        return f"sweep: {self.breached} breached, {self.warned} warned, {self.started} started"


class LostClaim(RuntimeError):
    """A locked batch did not match its own compare-and-set: nothing of it is recorded."""


@dataclass(frozen=True)
class _Due:
    """The columns of one claimed clock that sorting and recording need."""

    id: int
    case_id: int
    promise_code: str | None
    state: str
    due_at: datetime | None
    warn_at: datetime | None
    warned_at: datetime | None
    liability: dict | None

    def warning_passed(self, now: datetime) -> bool:
        return (
            self.state == State.RUNNING
            and self.warned_at is None
            and self.warn_at is not None
            and self.due_at is not None
            and self.warn_at <= now
            and self.warn_at < self.due_at
        )

    def breach_passed(self, now: datetime) -> bool:
        return self.state == State.RUNNING and self.due_at is not None and self.due_at <= now

    @property
    def warned(self) -> datetime:
        """When the warning happened; only for a clock whose warning passed."""
        assert self.warn_at is not None
        return self.warn_at

    @property
    def breached(self) -> datetime:
        """When the breach happened (the due time); only for a clock whose breach passed."""
        assert self.due_at is not None
        return self.due_at


COLUMNS = ("id", "case_id", "promise_code", "state", "due_at", "warn_at", "warned_at", "liability")


def due_candidates(now: datetime) -> QuerySet[Commitment]:
    """Clocks the sweeper must look at, by the partial index `commitment_due_sweep` only.

    `next_check_at <= now` implies `next_check_at IS NOT NULL`, the index's predicate.
    """
    return Commitment.objects.filter(next_check_at__lte=now).order_by("next_check_at")


# What step 2 re-checks of a locked clock: that its warning / breach is still unrecorded.
# The UPDATE names the rows by primary key and checks only columns with no index, or
# SQLite's planner may walk `commitment_state_due` over every running clock instead.
UNWARNED = Q(warned_at__isnull=True)
UNBREACHED = Q(breached_at__isnull=True)


def claimed(ids: list[int], still: Q) -> QuerySet[Commitment]:
    return Commitment.objects.filter(still, pk__in=ids)


def _move(ids: list[int], still: Q, **changes: object) -> None:
    """Step 2: compare-and-set one group of locked clocks."""
    if ids:
        moved = claimed(ids, still).update(**changes)
        if moved != len(ids):
            raise LostClaim(f"claimed {len(ids)} clocks but moved {moved}")


def _warn(rows: list[_Due]) -> None:
    _move([r.id for r in rows], UNWARNED, warned_at=F("warn_at"), next_check_at=F("due_at"))


def _breach(rows: list[_Due]) -> None:
    # A warning never recorded is recorded with the breach (see _record).
    warned = Case(When(warned_at__isnull=True, warn_at__lt=F("due_at"), then=F("warn_at")), default=F("warned_at"))
    _move(
        [r.id for r in rows],
        UNBREACHED,
        state=State.BREACHED,
        breached_at=F("due_at"),
        warned_at=warned,
        next_check_at=None,
    )


def _insert(
    model: type[Model], varying: tuple[str, ...], rows: list[tuple], *, once: bool = False, **same: object
) -> None:
    """INSERT rows into model's table with one executemany.

    `varying` names the fields each row gives; every other field takes `same` or its
    default, prepared once for the batch. bulk_create prepares every value of every
    object, which was most of a sweep's time at thousands of rows a batch.
    """
    if not rows:
        return
    db = connections[router.db_for_write(model)]  # not the thread-local proxy, per value
    template = model(**same)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    position = {name: i for i, name in enumerate(varying)}
    fixed = {f.attname: f.get_db_prep_save(f.pre_save(template, True), db) for f in fields}
    params = [
        [
            f.get_db_prep_save(row[position[f.attname]], db) if f.attname in position else fixed[f.attname]
            for f in fields
        ]
        for row in rows
    ]
    quote = db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # `once`: a row its unique constraint already holds (a breach a claim recorded first)
    # is left as it is; the constraint, not this code, decides what "already" means.
    conflict = " ON CONFLICT DO NOTHING" if once else ""
    with db.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks}){conflict}", params)


def _record(warnings: list[_Due], breaches: list[_Due], now: datetime) -> None:
    """Step 3: the alerts, breaches and timeline entries for the moved clocks."""
    _insert(
        CommitmentAlert,
        ("commitment_id", "at"),
        [(r.id, r.warned) for r in warnings],
        once=True,
        kind="at_risk",
        recorded_at=now,
    )
    _insert(
        Breach,
        ("case_id", "commitment_id", "promise_code", "status", "detected_at"),
        [(r.case_id, r.id, r.promise_code, Breach.initial_status(r.liability), r.breached) for r in breaches],
        once=True,
        source=Source.CLOCK,
        recorded_at=now,
        description="the clock ran out",
    )
    entries = [(r, "promise_at_risk", r.warned) for r in warnings] + [
        (r, "promise_breached", r.breached) for r in breaches
    ]
    _insert(
        CaseEvent,
        ("case_id", "type", "at", "data"),
        [(r.case_id, type, at, {"promise_code": r.promise_code, "commitment": r.id}) for r, type, at in entries],
        system=True,
        recorded_at=now,
    )


def _start(ids: list[int], now: datetime, result: SweepResult) -> None:
    """Start clocks whose booked appointment has begun (few, so each through the clock).

    A start long missed can warn and breach in the same step, as clock.advance says.
    """
    if not ids:
        return
    for commitment in Commitment.objects.filter(pk__in=ids).select_related("calendar"):
        effects = clocks.advance(commitment, now, clock_for(commitment.calendar))
        if commitment.next_check_at is not None and commitment.next_check_at <= now:
            # Nothing to start: the row was due for a sweep by mistake. Point it at its start.
            log.warning("commitment %s was due for a sweep with no start to make", commitment.pk)
            commitment.next_check_at = commitment.scheduled_start if commitment.state == State.PENDING else None
        commitment.save(update_fields=clocks.CHANGED_FIELDS)
        record_effects(commitment, effects, now)
        result.started += commitment.state != State.PENDING
        result.warned += sum(1 for e in effects if e.kind == "warned")
        result.breached += sum(1 for e in effects if e.kind == "breached")


def _heal(rows: list[_Due]) -> None:
    """Clocks in the index with nothing due: point them at their real next instant."""
    for r in rows:
        following = None
        if r.state == State.RUNNING and r.due_at is not None:
            warn_us = to_micros(r.warn_at) if r.warn_at else None
            following = from_micros(clocks.next_check_us(to_micros(r.due_at), warn_us, r.warned_at is not None))
        log.warning("commitment %s was due for a sweep with nothing to do; next check %s", r.id, following)
        Commitment.objects.filter(pk=r.id).update(next_check_at=following)


def sweep_batch(now: datetime, batch: int = BATCH) -> tuple[SweepResult, int]:
    """Steps 1–3 for one batch in one transaction; returns what it did and how many it claimed."""
    result = SweepResult()
    with transaction.atomic():
        rows = [
            _Due(*values)
            for values in due_candidates(now).select_for_update(skip_locked=True).values_list(*COLUMNS)[:batch]
        ]
        breaches = [r for r in rows if r.breach_passed(now)]
        warnings = [r for r in rows if r.warning_passed(now)]
        starts = [r.id for r in rows if r.state == State.PENDING]
        _warn([r for r in warnings if not r.breach_passed(now)])
        _breach(breaches)
        crash_point("breach_claimed")
        _record(warnings, breaches, now)
        _start(starts, now, result)
        handled = {r.id for r in breaches} | {r.id for r in warnings} | set(starts)
        _heal([r for r in rows if r.id not in handled])
    result.warned += len(warnings)
    result.breached += len(breaches)
    return result, len(rows)


def sweep(now: datetime, batch: int = BATCH) -> SweepResult:
    """One full sweep at instant now, a batch at a time. Safe to run in many processes at once.

    Memory stays flat: at most `batch` clocks are held at once, however many are open.
    """
    crash_point("sweep_started")
    total = SweepResult()
    while True:
        done, claimed = sweep_batch(now, batch)
        total.breached += done.breached
        total.warned += done.warned
        total.started += done.started
        if claimed < batch:
            return total
