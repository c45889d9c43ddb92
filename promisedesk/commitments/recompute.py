"""Recomputing open clocks when their calendar changes.

The clock history (closed running segments) is replayed on the new calendar in
memory, and only the clocks whose due time actually moved are written, in bulk,
each with a timeline entry saying why.
"""

from __future__ import annotations

import json
from datetime import datetime

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
    """Recompute every running or paused clock on calendar; returns how many moved."""
    clock = clock_for(calendar)
    query = Commitment.objects.filter(
        calendar=calendar, state__in=(State.RUNNING, State.PAUSED), target_us__isnull=False
    ).values_list(*FIELDS)
    updates, events = [], []
    adapt = connection.ops.adapt_datetimefield_value
    for row in query.iterator(chunk_size=CHUNK):
        values = dict(zip(FIELDS, row, strict=True))
        commitment = Commitment(**{k: v for k, v in values.items() if k not in ("id", "case_id")})
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
                values["id"],
            )
        )
        events.append(
            (
                values["case_id"],
                "clock_recomputed",
                adapt(now),
                "",
                json.dumps(
                    {
                        "commitment": values["id"],
                        "promise_code": commitment.promise_code,
                        "reason": reason,
                        "old_due_at": old_due.isoformat() if old_due else None,
                        "new_due_at": commitment.due_at.isoformat() if commitment.due_at else None,
                    }
                ),
                True,
                adapt(now),
            )
        )
    if updates:
        _write(updates, events)
    return len(updates)


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
