"""Recomputing open clocks when their calendar changes.

The clock history (closed running segments) is replayed on the new calendar in
memory, and only the clocks whose due time actually moved are written, in bulk,
with one timeline entry per affected case saying which clocks moved and why.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import connection

from promisedesk.calendars.compiled import clock_for
from promisedesk.calendars.models import BusinessCalendar
from promisedesk.cases.models import CaseEvent

from . import clock as clocks
from .models import Commitment, State

FIELDS = (
    "id",
    "case_id",
    "promise_code",
    "state",
    "target_us",
    "warn_rule",
    "segments",
    "segment_started_at",
    "warned_at",
    "warn_at",
    "due_at",
    "consumed_us",
)
CHUNK = 5000


def recompute_open_clocks(calendar: BusinessCalendar, *, now: datetime, reason: str) -> int:
    """Recompute every running or paused clock on calendar; returns how many moved.

    Each affected case gets one `clock_recomputed` entry listing its clocks that
    moved, with their old and new due times and the reason.
    """
    clock = clock_for(calendar)
    # The default ordering (due_at, id) is kept on purpose: writing the rows back in
    # due order walks the (state, due_at) index in order, measurably faster than id order.
    # Locked until the change commits: a sweeper (SKIP LOCKED) or an event must not move
    # these clocks between this read and the write below, or the write would undo it.
    query = (
        Commitment.objects.select_for_update()
        .filter(calendar=calendar, state__in=(State.RUNNING, State.PAUSED), target_us__isnull=False)
        .values_list(*FIELDS)
    )
    updates: list[tuple] = []
    moved_by_case: dict[int, list[dict[str, object]]] = defaultdict(list)
    adapt = _datetime_adapter()
    for row in query.iterator(chunk_size=CHUNK):
        pk, case_id = row[0], row[1]
        commitment = _clock_only(row)
        old_due, old_consumed = commitment.due_at, commitment.consumed_us
        clocks.recompute(commitment, clock)
        if commitment.due_at == old_due and commitment.consumed_us == old_consumed:
            continue
        updates.append(
            (
                commitment.consumed_us,
                adapt(commitment.due_at),
                adapt(commitment.warn_at),
                adapt(commitment.next_check_at),
                pk,
            )
        )
        moved_by_case[case_id].append(
            {
                "commitment": pk,
                "promise_code": commitment.promise_code,
                "old_due_at": old_due.isoformat() if old_due else None,
                "new_due_at": commitment.due_at.isoformat() if commitment.due_at else None,
            }
        )
    now_db = adapt(now)
    events = [
        (case_id, "clock_recomputed", now_db, "", json.dumps({"reason": reason, "clocks": moved}), True, now_db)
        for case_id, moved in moved_by_case.items()
    ]
    if updates:
        _write(updates, events)
    return len(updates)


def _clock_only(row: tuple) -> Commitment:
    """An unsaved Commitment carrying only the clock fields of row (FIELDS after id, case_id).

    Model.__init__ visits every field of the model for each row, which cost more than
    the clock arithmetic itself for the hundred thousand rows a holiday can move; the
    clock functions read and write plain attributes only.
    """
    commitment = Commitment.__new__(Commitment)
    commitment.__dict__.update(zip(FIELDS[2:], row[2:], strict=True))
    return commitment


def _datetime_adapter() -> Callable[[datetime | None], object]:
    """The database form of an aware datetime.

    On SQLite that is the backend's own rule (naive text in the connection's time
    zone) without the settings lookups it repeats on every call; other backends
    take their adapter as it is.
    """
    if connection.vendor != "sqlite" or not settings.USE_TZ:
        return connection.ops.adapt_datetimefield_value
    zone = connection.timezone

    def adapt(value: datetime | None) -> str | None:
        return None if value is None else str(value.astimezone(zone).replace(tzinfo=None))

    return adapt


def _write(updates: list[tuple], events: list[tuple]) -> None:
    # executemany with positional rows: the ORM's bulk_update builds a CASE per row,
    # far too slow for the hundred thousand clocks a holiday can move.
    table, event_table = Commitment._meta.db_table, CaseEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET consumed_us = %s, due_at = %s, warn_at = %s, next_check_at = %s WHERE id = %s",
            updates,
        )
        cursor.executemany(
            f"INSERT INTO {event_table} (case_id, type, at, note, data, system, recorded_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            events,
        )
