"""The commitment clock as pure transitions on a Commitment in memory.

Nothing here touches the database: callers load the row, apply transitions with the
calendar arithmetic, and save. Every transition takes the instant it happens at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from promisedesk.lib.businesstime import BusinessClock, from_micros, to_micros
from promisedesk.lib.durations import parse_duration

from .models import Commitment, State

CHANGED_FIELDS = [
    "state",
    "scheduled_start",
    "started_at",
    "segment_started_at",
    "consumed_us",
    "segments",
    "paused_at",
    "due_at",
    "warn_at",
    "warned_at",
    "met_at",
    "breached_at",
    "cancelled_at",
    "stopped_at",
    "next_check_at",
]


@dataclass(frozen=True)
class Effect:
    """Something a transition did that the caller must record (a warning or a breach)."""

    kind: str  # "warned" or "breached"
    at: datetime


def warn_offset_us(rule: str | None, target_us: int | None) -> int | None:
    """Business microseconds into the target at which the clock is at risk."""
    if not rule or target_us is None:
        return None
    if rule.endswith("%"):
        return int(Decimal(target_us) * Decimal(rule[:-1]) / 100)
    before = parse_duration(rule)
    return max(0, target_us - before // timedelta(microseconds=1))


@dataclass(frozen=True)
class Plan:
    """Where a running clock stands, in epoch microseconds."""

    due_us: int
    warn_us: int | None
    next_check_us: int


def next_check_us(due_us: int, warn_us: int | None, warned: bool) -> int:
    """The warning while it is still to come before the due time, else the due time."""
    return warn_us if not warned and warn_us is not None and warn_us < due_us else due_us


def plan(
    clock: BusinessClock,
    *,
    start_us: int,
    target_us: int,
    consumed_us: int,
    warn_rule: str | None,
    warned: bool,
    warn_us: int | None,
) -> Plan:
    """Due, warning and next check of a clock running since start_us with consumed_us used.

    A warning already given keeps its instant; one still to come is placed anew.
    """
    due = clock.due_us(start_us, max(0, target_us - consumed_us))
    offset = warn_offset_us(warn_rule, target_us)
    if offset is not None and not warned:
        warn_us = clock.due_us(start_us, max(0, offset - consumed_us))
    return Plan(due, warn_us, next_check_us(due, warn_us, warned))


def schedule(commitment: Commitment, clock: BusinessClock) -> None:
    """Recompute due, warning and next-check instants from the running segment."""
    if commitment.state == State.RUNNING and commitment.target_us is not None:
        planned = plan(
            clock,
            start_us=to_micros(commitment.segment_started_at),  # type: ignore[arg-type]
            target_us=commitment.target_us,
            consumed_us=commitment.consumed_us,
            warn_rule=commitment.warn_rule,
            warned=commitment.warned_at is not None,
            warn_us=to_micros(commitment.warn_at) if commitment.warn_at else None,
        )
        commitment.due_at = from_micros(planned.due_us)
        commitment.warn_at = from_micros(planned.warn_us) if planned.warn_us is not None else None
        commitment.next_check_at = from_micros(planned.next_check_us)
    elif commitment.state == State.PENDING and commitment.scheduled_start is not None:
        commitment.next_check_at = commitment.scheduled_start
    else:
        commitment.next_check_at = None


def start(commitment: Commitment, at: datetime, clock: BusinessClock) -> None:
    commitment.state = State.RUNNING
    commitment.started_at = at
    commitment.segment_started_at = at
    commitment.consumed_us = 0
    commitment.segments = []
    commitment.scheduled_start = None
    if commitment.target_us is None:
        commitment.due_at = None
    schedule(commitment, clock)


def _close_segment(commitment: Commitment, at: datetime, clock: BusinessClock) -> None:
    begin = to_micros(commitment.segment_started_at)  # type: ignore[arg-type]
    end = to_micros(at)
    commitment.segments = [*commitment.segments, [begin, end]]
    commitment.consumed_us += clock.elapsed_us(begin, end)
    commitment.segment_started_at = None


def pause(commitment: Commitment, at: datetime, clock: BusinessClock) -> None:
    if commitment.state != State.RUNNING or commitment.target_us is None:
        return
    _close_segment(commitment, at, clock)
    commitment.state = State.PAUSED
    commitment.paused_at = at
    commitment.due_at = None
    commitment.next_check_at = None


def resume(commitment: Commitment, at: datetime, clock: BusinessClock) -> None:
    if commitment.state != State.PAUSED:
        return
    commitment.state = State.RUNNING
    commitment.paused_at = None
    commitment.segment_started_at = at
    schedule(commitment, clock)


def stop(commitment: Commitment, at: datetime, clock: BusinessClock) -> None:
    """The promised thing happened: met if the clock had not run out, else note when."""
    if commitment.state == State.PENDING and commitment.scheduled_start is not None:
        # Done before the booked window even opened (the installer came early): kept.
        commitment.state, commitment.met_at = State.MET, at
        commitment.scheduled_start = commitment.next_check_at = None
        return
    if commitment.state in (State.RUNNING, State.PAUSED):
        if commitment.state == State.RUNNING and commitment.segment_started_at is not None:
            _close_segment(commitment, at, clock)
        commitment.state = State.MET
        commitment.met_at = at
        commitment.paused_at = None
        commitment.next_check_at = None
    elif commitment.state == State.BREACHED and commitment.stopped_at is None:
        commitment.stopped_at = at


def cancel(commitment: Commitment, at: datetime) -> None:
    if commitment.is_open:
        commitment.state = State.CANCELLED
        commitment.cancelled_at = at
        commitment.next_check_at = None


def advance(commitment: Commitment, to: datetime, clock: BusinessClock) -> list[Effect]:
    """Bring the clock forward to `to`: start a scheduled clock, cross the warning, breach.

    A breach happens at the due time, never at the moment someone noticed.
    """
    effects: list[Effect] = []
    if commitment.state == State.PENDING and commitment.scheduled_start and commitment.scheduled_start <= to:
        start(commitment, commitment.scheduled_start, clock)
    if commitment.state != State.RUNNING or commitment.due_at is None:
        return effects
    warning_pending = commitment.warned_at is None and commitment.warn_at is not None
    if warning_pending and commitment.warn_at <= to and commitment.warn_at < commitment.due_at:  # type: ignore[operator]
        commitment.warned_at = commitment.warn_at
        effects.append(Effect("warned", commitment.warn_at))  # type: ignore[arg-type]
        commitment.next_check_at = commitment.due_at
    if commitment.due_at <= to:
        commitment.state = State.BREACHED
        commitment.breached_at = commitment.due_at
        commitment.next_check_at = None
        effects.append(Effect("breached", commitment.due_at))
    return effects


def apply_event(commitment: Commitment, event_type: str, at: datetime, clock: BusinessClock) -> list[Effect]:
    """React to one timeline event; the clock is first advanced to the event's instant."""
    effects = advance(commitment, at, clock)
    rules = commitment.rules or {}
    if event_type == "closed" and event_type not in rules.get("stop_on", []):
        if commitment.target_us is None and commitment.state == State.RUNNING:
            stop(commitment, at, clock)  # a promise with no clock was kept if nobody said otherwise
        else:
            cancel(commitment, at)
        return effects
    if event_type in rules.get("stop_on", []):
        stop(commitment, at, clock)
    elif commitment.state == State.PENDING and event_type in rules.get("start_on", []):
        start(commitment, at, clock)
    elif event_type in rules.get("pause_on", []):
        pause(commitment, at, clock)
    elif event_type in rules.get("resume_on", []):
        resume(commitment, at, clock)
    return effects


def recompute(commitment: Commitment, clock: BusinessClock) -> None:
    """Rebuild consumed time and the due time from the recorded segments (calendar changed)."""
    commitment.consumed_us = sum(clock.elapsed_us(begin, end) for begin, end in commitment.segments)
    schedule(commitment, clock)
