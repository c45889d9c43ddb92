"""Where a commitment's clock stands against a threshold, from the row as stored."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from promisedesk.commitments.models import Commitment, State
from promisedesk.lib.businesstime import BusinessClock, from_micros, to_micros

from .timing import reach_us, threshold_us

# A paused clock is looked at again no sooner than this: a clock resumed meanwhile is told
# at most this late, and a long pause costs one look per interval, not one per second.
PAUSED_RECHECK = timedelta(minutes=5)


def reached_at(commitment: Commitment, percent: Decimal, clock: BusinessClock) -> datetime | None:
    """The instant the clock used percent of its target, or None while it is paused below it.

    A running clock is projected forward (the instant may lie in the future); a
    breached clock reached every threshold up to 100 % by its due time, its running
    segment never having been closed; a paused or stopped clock has only its closed
    segments.
    """
    assert commitment.target_us is not None
    running = None
    if commitment.state in (State.RUNNING, State.BREACHED) and commitment.segment_started_at is not None:
        running = to_micros(commitment.segment_started_at)
    found = reach_us(
        clock,
        segments=commitment.segments or [],
        running_since_us=running,
        need_us=threshold_us(commitment.target_us, percent),
    )
    return from_micros(found) if found is not None else None


def earliest_after_pause(commitment: Commitment, percent: Decimal, clock: BusinessClock, now: datetime) -> datetime:
    """When a clock paused below the threshold would reach it at the earliest: were it resumed now.

    Never sooner than PAUSED_RECHECK from now, so the look after this is bounded.
    """
    assert commitment.target_us is not None
    found = reach_us(
        clock,
        segments=commitment.segments or [],
        running_since_us=to_micros(now),
        need_us=threshold_us(commitment.target_us, percent),
    )
    earliest = from_micros(found) if found is not None else now
    return max(earliest, now + PAUSED_RECHECK)
