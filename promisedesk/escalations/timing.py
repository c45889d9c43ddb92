"""When a threshold is reached and when a message to staff may go: pure business-time arithmetic.

Nothing here touches the database. Instants are epoch microseconds, as in
promisedesk.lib.businesstime; a clock's history is its closed running segments plus
the segment running now (if any), exactly as the commitment stores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from promisedesk.lib.businesstime import BusinessClock, RoundTheClock, from_micros, to_micros


def threshold_us(target_us: int, percent: Decimal) -> int:
    """Business microseconds into the target at which percent of it is used (as clock.warn_offset_us)."""
    return int(Decimal(target_us) * percent / 100)


def reach_us(
    clock: BusinessClock,
    *,
    segments: Sequence[Sequence[int]],
    running_since_us: int | None,
    need_us: int,
) -> int | None:
    """The instant the clock has used need_us of business time, or None if it has not and is not running.

    Closed segments are replayed on the calendar as it is now (a calendar change
    moves the answer just as it moves the due time); the running segment, if any,
    is open-ended. A clock paused below the threshold has no such instant yet.
    """
    used = 0
    for begin, end in segments:
        spent = clock.elapsed_us(begin, end)
        if used + spent >= need_us:
            return clock.due_us(begin, need_us - used)
        used += spent
    if running_since_us is None:
        return None
    return clock.due_us(running_since_us, need_us - used)


def release_at(clock: BusinessClock, moment: datetime) -> datetime:
    """The first instant at or after moment inside a working window of the calendar.

    Staff are told inside business hours only: a threshold reached at the close of
    Friday's window is told at Monday's opening (or a make-up Saturday's, or after
    lunch). Round-the-clock promises have no closed hours: at once. A calendar with
    no working time within reach gives moment itself rather than never.
    """
    if isinstance(clock, RoundTheClock):
        return moment
    following = clock.next_working_us(to_micros(moment))
    return moment if following is None else from_micros(following)
