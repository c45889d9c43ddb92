"""Did the action work? The breach rate of its promise before and after it was done.

A commitment counts on the side of the action's completion in which it closed: kept
(state met, at `met_at`) or broken (state breached, at `breached_at`), within a
window of N days before `done_at` or N days after it (the after side ends at now
while the window is still running). Commitments broken under force majeure (their
breach excluded as such) are left out of both sides. Every version of the promise counts, since an
action may well have led to a new version. Rate = breached / (met + breached).

The four counts come from one aggregate query, however many commitments there are.
With fewer than MIN_SAMPLE closed commitments on either side no verdict is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from promisedesk.breaches.models import Breach, Exclusion
from promisedesk.commitments.models import Commitment, State

from .models import CorrectiveAction

MIN_SAMPLE = 10

IMPROVED, NOT_IMPROVED, TOO_LITTLE_DATA, NOT_DONE = "improved", "not_improved", "too_little_data", "not_done"


@dataclass(frozen=True)
class Side:
    """One window's counts: commitments kept and broken that closed between start and end."""

    start: datetime
    end: datetime
    met: int
    breached: int

    @property
    def total(self) -> int:
        return self.met + self.breached

    @property
    def rate(self) -> float | None:
        return self.breached / self.total if self.total else None

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else round(self.rate * 100, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "met": self.met,
            "breached": self.breached,
            "total": self.total,
            "rate": None if self.rate is None else round(self.rate, 4),
        }


@dataclass(frozen=True)
class Effect:
    """Before and after, and what they say: improved, not_improved, too_little_data or not_done."""

    promise_code: str
    window_days: int
    before: Side
    after: Side | None
    verdict: str
    min_sample: int = MIN_SAMPLE

    def as_dict(self) -> dict[str, Any]:
        return {
            "promise": self.promise_code,
            "window_days": self.window_days,
            "min_sample": self.min_sample,
            "before": self.before.as_dict(),
            "after": self.after.as_dict() if self.after else None,
            "verdict": self.verdict,
        }


def _closed_between(start: datetime, end: datetime, name: str) -> dict[str, Count]:
    met = Q(state=State.MET, met_at__gte=start, met_at__lt=end)
    breached = Q(state=State.BREACHED, breached_at__gte=start, breached_at__lt=end)
    return {f"{name}_met": Count("id", filter=met), f"{name}_breached": Count("id", filter=breached)}


def measure(
    promise_code: str, *, pivot: datetime | None, window_days: int, now: datetime, min_sample: int = MIN_SAMPLE
) -> Effect:
    """The promise's breach rate in the window before pivot and after it (clipped to now).

    Without a pivot (the action is not done yet) the "before" side is the window up
    to now: the baseline the action will be judged against.
    """
    window = timedelta(days=window_days)
    centre = pivot if pivot is not None else now
    before_start = centre - window
    after_end = max(centre, min(centre + window, now))
    buckets = _closed_between(before_start, centre, "before")
    if pivot is not None:
        buckets |= _closed_between(centre, after_end, "after")
    # A promise broken under force majeure says nothing about the action: left out of both sides.
    force_majeure = Breach.objects.filter(commitment=OuterRef("pk"), exclusion=Exclusion.FORCE_MAJEURE)
    counts = Commitment.objects.filter(~Exists(force_majeure), promise_code=promise_code).aggregate(**buckets)
    before = Side(before_start, centre, counts["before_met"], counts["before_breached"])
    if pivot is None:
        return Effect(promise_code, window_days, before, None, NOT_DONE, min_sample)
    after = Side(centre, after_end, counts["after_met"], counts["after_breached"])
    return Effect(promise_code, window_days, before, after, _verdict(before, after, min_sample), min_sample)


def _verdict(before: Side, after: Side, min_sample: int) -> str:
    if before.total < min_sample or after.total < min_sample or before.rate is None or after.rate is None:
        return TOO_LITTLE_DATA
    return IMPROVED if after.rate < before.rate else NOT_IMPROVED


def measure_action(action: CorrectiveAction, now: datetime) -> Effect | None:
    """The action's effect on its promise; None when it names no promise."""
    if action.promise_id is None:
        return None
    code = action.promise.code  # type: ignore[union-attr]  # promise_id is set
    return measure(code, pivot=action.done_at, window_days=action.window_days, now=now)
