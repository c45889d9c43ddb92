"""Scheduling chains: read the at-risk alerts and clock breaches recorded since last time.

Nothing here scans open commitments. Two streams of rows the sweeper writes are
read in id order past a stored cursor (EscalationCursor), each in batches, each
batch in one transaction:
0. First, without a transaction or a lock, look whether any row past the cursor is
   there at all; most passes find none and stop here, so the table lock below is taken
   only when there is something to read (it holds writers off while it lasts). A row
   not committed yet is not seen: the next pass reads it.
1. Take the stream's cursor row FOR UPDATE SKIP LOCKED (PostgreSQL): another worker
   reading the same stream makes this one skip it, rather than both reading the same
   rows. On SQLite the transaction is IMMEDIATE: one writer at a time.
2. On PostgreSQL, lock the stream's table IN SHARE MODE (briefly, with a timeout).
   That waits for every transaction still inserting into it and holds off new ones
   until this batch commits, so no row can appear later with an id below the
   cursor: ids are taken from a sequence before commit, and without the lock a slow
   transaction could commit id 100 after id 200 was read and the cursor moved past
   it. SQLite commits one transaction at a time, so ids arrive in order there.
3. Read up to `batch` rows past the cursor; for each commitment whose current run
   has no chain yet, insert one Escalation per level of its chain (unique per
   commitment, role and run, so a second insert is a no-op); move the cursor.
A clock that warns starts its chain at the warning; a clock that never warns (no
threshold, or an oral promise) starts it at its breach, when every level is due. The
two streams never schedule the same run (a breach of a warned clock is left to the
warning), so workers reading them at once cannot race each other either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import OperationalError, connection, transaction
from django.db.models import Model, Q

from promisedesk.breaches.models import Breach
from promisedesk.calendars.compiled import clock_for
from promisedesk.commitments.models import Commitment, CommitmentAlert, State

from .clockstate import earliest_after_pause, reached_at
from .models import Escalation, EscalationCursor, Status, Trigger
from .policy import Chains, Level, chain_for, load_chains

log = logging.getLogger("promisedesk.escalations")
LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class Stream:
    name: str
    model: type[Model]
    condition: Q
    at_field: str
    trigger: str


STREAMS = (
    Stream("at_risk_alerts", CommitmentAlert, Q(kind="at_risk"), "at", Trigger.AT_RISK),
    Stream("clock_breaches", Breach, Q(source="clock", commitment__isnull=False), "detected_at", Trigger.BREACH),
)


@dataclass(frozen=True)
class Start:
    """A chain to begin: a commitment, the instant its warning or breach happened, and which."""

    commitment_id: int
    at: datetime
    trigger: str


def pick_up(now: datetime, batch: int) -> int:
    """Schedule the chains of every warning and breach recorded since the last call; returns rows made."""
    made = 0
    for stream in STREAMS:
        while True:
            try:
                scheduled, more = _pick_up_batch(stream, now, batch)
            except OperationalError:
                # The table lock timed out behind a long transaction: the next pass reads on.
                log.warning("escalation pick-up of %s postponed: its table stayed busy", stream.name)
                break
            made += scheduled
            if not more:
                break
    return made


def _cursor(stream: Stream) -> EscalationCursor | None:
    EscalationCursor.objects.get_or_create(stream=stream.name)
    return EscalationCursor.objects.select_for_update(skip_locked=True).filter(stream=stream.name).first()


def _lock_stream(stream: Stream) -> None:
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(stream.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        [before] = cursor.fetchone()
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
        # SET LOCAL outlives a savepoint: put it back for whatever transaction this runs in.
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])


def _anything_new(stream: Stream) -> bool:
    """Step 0: whether a committed row of stream lies past its cursor (no lock, one cheap query)."""
    last = EscalationCursor.objects.filter(stream=stream.name).values_list("last_id", flat=True).first()
    return stream.model._default_manager.filter(stream.condition, pk__gt=last or 0).exists()


def _pick_up_batch(stream: Stream, now: datetime, batch: int) -> tuple[int, bool]:
    """Steps 0–3 for one batch of one stream: (escalations made, whether more may follow)."""
    if not _anything_new(stream):
        return 0, False
    with transaction.atomic():
        cursor = _cursor(stream)
        if cursor is None:
            return 0, False  # another worker is reading this stream now
        _lock_stream(stream)
        rows = list(
            stream.model._default_manager.filter(stream.condition, pk__gt=cursor.last_id)
            .order_by("pk")
            .values_list("pk", "commitment_id", stream.at_field)[:batch]
        )
        if not rows:
            return 0, False
        made = schedule([Start(commitment_id, at, stream.trigger) for _, commitment_id, at in rows], now)
        EscalationCursor.objects.filter(pk=cursor.pk).update(last_id=rows[-1][0])
    return made, len(rows) == batch


def schedule(starts: list[Start], now: datetime) -> int:
    """Insert the chain of each start's commitment run, unless that run has one; returns rows inserted."""
    ids = {s.commitment_id for s in starts}
    commitments = {c.pk: c for c in Commitment.objects.filter(pk__in=ids).select_related("calendar")}
    runs = set(
        Escalation.objects.filter(commitment_id__in=ids).values_list("commitment_id", "run_started_at").distinct()
    )
    chains: Chains = load_chains()
    rows: list[Escalation] = []
    for start in starts:
        commitment = commitments.get(start.commitment_id)
        if commitment is None or commitment.started_at is None or start.at < commitment.started_at:
            continue  # the warning of a run that has since been restarted: the new run warns anew
        if start.trigger == Trigger.BREACH and commitment.warned_at is not None:
            continue  # it warned: its chain starts at the warning, from the other stream
        run = (commitment.pk, commitment.started_at)
        if run in runs:
            continue
        runs.add(run)
        rows += [_row(commitment, level, start, now) for level in _chain(commitment, chains)]
    Escalation.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _chain(commitment: Commitment, chains: Chains) -> list[Level]:
    return chain_for(commitment.promise_code, chains)


def _row(commitment: Commitment, level: Level, start: Start, now: datetime) -> Escalation:
    return Escalation(
        commitment=commitment,
        case_id=commitment.case_id,
        promise_code=commitment.promise_code,
        run_started_at=commitment.started_at,  # type: ignore[misc]  # schedule() checked it is set
        role=level.role,
        threshold=level.threshold,
        trigger=start.trigger,
        cycle_at=start.at,
        fire_at=first_look(commitment, level, start.at, now),
        created_at=now,
    )


def first_look(commitment: Commitment, level: Level, cycle_at: datetime, now: datetime) -> datetime:
    """When to look at a new level first: its threshold instant as the clock stands (never before the chain began).

    A stopped clock is looked at at once (to be marked void); a paused one when it
    could reach the threshold at the earliest. The look itself decides again.
    """
    if level.threshold is None or commitment.target_us is None:
        return cycle_at
    if commitment.state not in (State.RUNNING, State.PAUSED, State.BREACHED):
        return cycle_at
    clock = clock_for(commitment.calendar)
    reached = reached_at(commitment, level.threshold, clock)
    if reached is None:
        reached = earliest_after_pause(commitment, level.threshold, clock, now)
    return max(reached, cycle_at)


def reschedule_calendar(calendar_id: int, now: datetime) -> int:
    """Bring the pending escalations of clocks on a changed calendar to their new instants; returns how many moved.

    Not needed for correctness when the change makes thresholds come later (the
    look at the old instant finds the clock short and moves it on), but a change
    that makes them come sooner (a holiday taken back, a make-up workday added)
    would otherwise wait for the old instant. Call it after the clocks were recomputed,
    in the same transaction.
    """
    # Locked (only the escalation rows), and only while pending: a row a worker is firing
    # right now is skipped, so the bulk update below can never move the instant of one it fired.
    with transaction.atomic():
        pending = list(
            Escalation.objects.filter(status=Status.PENDING, commitment__calendar_id=calendar_id)
            .select_related("commitment__calendar")
            .select_for_update(skip_locked=True, of=("self",))
        )
        moved = []
        for row in pending:
            level = Level(row.role, row.threshold)
            instant = first_look(row.commitment, level, row.cycle_at, now)
            if instant != row.fire_at:
                row.fire_at = instant
                moved.append(row)
        Escalation.objects.bulk_update(moved, ["fire_at"])
    return len(moved)
