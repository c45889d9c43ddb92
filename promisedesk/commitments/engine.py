"""Commitments in the database: attach them to cases, move their clocks on events,
and record what the clocks did (warnings, breaches) exactly once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Q

from promisedesk.breaches.models import Breach, Source
from promisedesk.calendars.compiled import clock_for
from promisedesk.cases.models import Case, CaseEvent
from promisedesk.lib.durations import parse_duration
from promisedesk.promises.models import PromiseVersion

from . import clock as clocks
from .models import OPEN_STATES, Commitment, State

SYSTEM_EVENT_TYPES = (
    "promise_at_risk",
    "promise_breached",
    "clock_recomputed",
    "commitment_recorded",
    "commitment_fulfilled",
    "commitment_cancelled",
)


def system_event(case_id: int, type: str, at: datetime, now: datetime, **data: object) -> CaseEvent:
    return CaseEvent(case_id=case_id, type=type, at=at, data=data, system=True, recorded_at=now)


def commitment_from_version(case: Case, version: PromiseVersion, now: datetime) -> Commitment:
    """An unsaved commitment of case to version, with its clock scheduled but not started."""
    standard = version.standard or {}
    target = standard.get("target")
    commitment = Commitment(
        case=case,
        promise_version=version,
        promise_code=version.promise.code,
        version_number=version.number,
        rules={k: standard.get(k, []) for k in ("start_on", "stop_on", "pause_on", "resume_on")},
        calendar=version.calendar,
        target_us=parse_duration(target) // timedelta(microseconds=1) if target else None,
        warn_rule=standard.get("warn_at"),
        liability=version.liability,
        state=State.PENDING,
        created_at=now,
    )
    starts = commitment.rules["start_on"]
    if "appointment_start" in starts and case.appointment_start:
        commitment.scheduled_start = case.appointment_start
    elif "appointment_end" in starts and case.appointment_end:
        commitment.scheduled_start = case.appointment_end
    elif not commitment.target_us and not starts:
        commitment.rules["start_on"] = ["case_opened"]  # a promise with no clock is in force from the start
    clocks.schedule(commitment, clock_for(commitment.calendar))
    return commitment


def record_effects(
    commitment: Commitment, effects: Iterable[clocks.Effect], now: datetime, *, timeline: bool = True
) -> None:
    """Write what a clock did. The unique constraints make a second write impossible.

    `timeline=False` when the timeline already says so (a breach recorded late).
    """
    from .models import CommitmentAlert

    for effect in effects:
        label = {"promise_code": commitment.promise_code, "commitment": commitment.pk}
        if effect.kind == "warned":
            CommitmentAlert.objects.get_or_create(
                commitment=commitment, kind="at_risk", at=effect.at, defaults={"recorded_at": now}
            )
            if timeline:
                system_event(commitment.case_id, "promise_at_risk", effect.at, now, **label).save()
        elif effect.kind == "breached":
            # A claim may have recorded this broken promise before its clock ran out.
            if not commitment.breaches.exclude(status="rejected").exists():
                Breach.objects.create(
                    case_id=commitment.case_id,
                    commitment=commitment,
                    promise_code=commitment.promise_code,
                    source=Source.CLOCK,
                    status=Breach.initial_status(commitment.liability),
                    detected_at=effect.at,
                    recorded_at=now,
                    description="the clock ran out",
                )
            if timeline:
                system_event(commitment.case_id, "promise_breached", effect.at, now, **label).save()


def react_to_event(case: Case, event: CaseEvent, now: datetime) -> list[Commitment]:
    """Move every open clock of case for event; call inside the transaction that added it.

    Rows are locked so a concurrent sweeper cannot breach a clock this is changing;
    the sweeper's compare-and-set then finds the row already moved on.
    """
    changed = []
    # Open clocks move; a breached clock can still be stopped late, which is worth recording.
    candidates = (
        Commitment.objects.select_for_update(of=("self",))
        .filter(Q(state__in=OPEN_STATES) | Q(state=State.BREACHED, stopped_at__isnull=True), case=case)
        .select_related("calendar")
    )
    for commitment in candidates:
        before = (commitment.state, commitment.due_at, commitment.next_check_at, commitment.stopped_at)
        effects = clocks.apply_event(commitment, event.type, event.at, clock_for(commitment.calendar))
        if before != (commitment.state, commitment.due_at, commitment.next_check_at, commitment.stopped_at) or effects:
            commitment.save(update_fields=clocks.CHANGED_FIELDS)
            record_effects(commitment, effects, now)
            changed.append(commitment)
    return changed


__all__ = ["SYSTEM_EVENT_TYPES", "commitment_from_version", "react_to_event", "record_effects"]
