"""Moving clocks that start at the booked appointment when the appointment moves."""

from __future__ import annotations

from promisedesk.calendars.compiled import clock_for
from promisedesk.cases.models import Case

from . import clock as clocks
from .clock import CHANGED_FIELDS
from .models import Commitment, State


def move_appointment_clocks(case: Case) -> int:
    """Re-anchor open appointment clocks on the case's new window; returns how many moved.

    A rebooked appointment is a new promise of arrival: the clock restarts from the
    new window rather than carrying time from the old one.
    """
    moved = 0
    for commitment in Commitment.objects.select_for_update(of=("self",)).filter(
        case=case, state__in=(State.PENDING, State.RUNNING)
    ):
        starts = (commitment.rules or {}).get("start_on", [])
        anchor = None
        if "appointment_start" in starts:
            anchor = case.appointment_start
        elif "appointment_end" in starts:
            anchor = case.appointment_end
        if anchor is None:
            continue
        commitment.state = State.PENDING
        commitment.scheduled_start = anchor
        commitment.started_at = commitment.segment_started_at = commitment.due_at = commitment.warn_at = None
        commitment.consumed_us, commitment.segments, commitment.warned_at = 0, [], None
        clocks.schedule(commitment, clock_for(commitment.calendar))
        commitment.save(update_fields=CHANGED_FIELDS)
        moved += 1
    return moved
