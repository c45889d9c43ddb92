"""Recomputing open clocks when their calendar changes.

The clock history (closed running segments) is replayed on the new calendar in
memory, and only the clocks whose due time actually moved are written, in bulk,
with one timeline entry per affected case saying which clocks moved and why.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import connection

from promisedesk.calendars.compiled import clock_for
from promisedesk.calendars.models import BusinessCalendar
from promisedesk.cases.models import CaseEvent
from promisedesk.lib.businesstime import BusinessClock, from_micros, to_micros

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
_NAIVE_EPOCH = datetime(1970, 1, 1)


def recompute_open_clocks(calendar: BusinessCalendar, *, now: datetime, reason: str) -> int:
    """Recompute every running or paused clock on calendar; returns how many moved.

    Each affected case gets one `clock_recomputed` entry listing its clocks that
    moved, with their old and new due times and the reason. The rows are read and
    written as raw values: for the hundred thousand clocks a holiday can move, the
    ORM's per-row model and converter work cost more than the clock arithmetic.
    """
    clock = clock_for(calendar)
    # Locked until the change commits: a sweeper (SKIP LOCKED) or an event must not move
    # these clocks between this read and the write below, or the write would undo it.
    # The default ordering (due_at, id) is kept on purpose: writing the rows back in
    # due order walks the (state, due_at) index in order, measurably faster than id order.
    query = (
        Commitment.objects.select_for_update()
        .filter(calendar=calendar, state__in=(State.RUNNING, State.PAUSED), target_us__isnull=False)
        .values_list(*FIELDS)
    )
    sql, params = query.query.sql_with_params()
    updates: list[tuple] = []
    moved_by_case: dict[int, list[dict[str, object]]] = defaultdict(list)
    write = _datetime_writer()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            for row in rows:
                moved = _replay(row, clock, write)
                if moved is not None:
                    update, case_id, entry = moved
                    updates.append(update)
                    moved_by_case[case_id].append(entry)
    now_db = write(to_micros(now))
    events = [
        (case_id, "clock_recomputed", now_db, "", json.dumps({"reason": reason, "clocks": moved}), True, now_db)
        for case_id, moved in moved_by_case.items()
    ]
    if updates:
        _write(updates, events)
    return len(updates)


def _replay(
    row: tuple, clock: BusinessClock, write: Callable[[int | None], object]
) -> tuple[tuple, int, dict[str, object]] | None:
    """One clock's history on the new calendar: (update row, case id, timeline entry), or None if unmoved."""
    pk, case_id, code, state, target, rule, segments, started, warned_at, warn_at, due_at, consumed = row
    closed = json.loads(segments) if isinstance(segments, str) else segments
    new_consumed = sum(clock.elapsed_us(begin, end) for begin, end in closed)
    old_due, warn_us = _micros(due_at), _micros(warn_at)
    due_us = next_check = None
    start_us = _micros(started)
    if state == State.RUNNING and start_us is not None:
        planned = clocks.plan(
            clock,
            start_us=start_us,
            target_us=target,
            consumed_us=new_consumed,  # type: ignore[arg-type]
            warn_rule=rule,
            warned=warned_at is not None,
            warn_us=warn_us,
        )
        due_us, warn_us, next_check = planned.due_us, planned.warn_us, planned.next_check_us
    if due_us == old_due and new_consumed == consumed:
        return None
    update = (new_consumed, write(due_us), write(warn_us), write(next_check), pk)
    entry = {"commitment": pk, "promise_code": code, "old_due_at": _iso(old_due), "new_due_at": _iso(due_us)}
    return update, case_id, entry


def _micros(value: datetime | str | None) -> int | None:
    """A raw datetime column as epoch microseconds (SQLite gives UTC text, PostgreSQL datetimes)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return to_micros(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC))


def _iso(micros: int | None) -> str | None:
    return from_micros(micros).isoformat() if micros is not None else None


def _datetime_writer() -> Callable[[int | None], object]:
    """Epoch microseconds as the database stores a datetime (what the ORM would write).

    SQLite keeps UTC as naive text, written straight from the microseconds; the
    backend's adapter would look up the connection and settings for every value.
    """
    if connection.vendor == "sqlite" and str(connection.timezone) == "UTC":

        def write(micros: int | None) -> object:
            return None if micros is None else str(_NAIVE_EPOCH + timedelta(0, 0, micros))

        return write
    adapt = connection.ops.adapt_datetimefield_value
    return lambda micros: None if micros is None else adapt(from_micros(micros))


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
