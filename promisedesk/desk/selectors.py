"""Reads for the desk pages: the queue, a case's clocks and timeline, the promise catalogue.

Every list here is fetched with a fixed number of queries, whatever its length.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce

from promisedesk.cases.models import Case, CaseEvent
from promisedesk.commitments.models import OPEN_STATES, Commitment, State
from promisedesk.promises.models import Promise, PromiseVersion

from . import display

RECENT_BREACHES = timedelta(days=7)
QUEUE_VIEWS = ("open", "at_risk", "breached")


@dataclass
class ClockRow:
    """One commitment as the desk shows it."""

    commitment: Commitment
    tz: str
    mark: str
    title: str
    statement: str
    countdown: str

    @property
    def is_oral(self) -> bool:
        return self.commitment.promise_version_id is None

    @property
    def ticking(self) -> bool:
        return self.commitment.state == State.RUNNING and self.commitment.due_at is not None

    @property
    def can_fulfil(self) -> bool:
        c = self.commitment
        late_open = c.state == State.BREACHED and c.stopped_at is None
        return self.is_oral and (c.state in (State.RUNNING, State.PAUSED) or late_open)


@dataclass
class EventRow:
    event: CaseEvent
    label: str
    details: list[tuple[str, str]] = field(default_factory=list)


def clock_row(commitment: Commitment, now: datetime, language: str) -> ClockRow:
    version = commitment.promise_version
    if version is not None:
        title, statement = version.title_in(language), version.statement_in(language)
    else:
        title, statement = "", commitment.statement
    return ClockRow(
        commitment=commitment,
        tz=display.display_timezone(commitment),
        mark=display.mark(commitment, now),
        title=title,
        statement=statement,
        countdown=display.countdown_text(commitment.due_at, now) if commitment.is_open else "",
    )


def _queue_base() -> QuerySet[Commitment]:
    return Commitment.objects.select_related("case__customer", "case__service", "owner", "calendar", "promise_version")


def queue_commitments(*, now: datetime, view: str, state: str = "", promise: str = "") -> QuerySet[Commitment]:
    """The commitments of one queue view, soonest due first (no due time last).

    open: pending, running or paused; at_risk: running past its warning time and not yet due;
    breached: breached in the last seven days, or past due and not yet swept, latest first.
    """
    query = _queue_base()
    if view == "breached":
        recent = Q(state=State.BREACHED, breached_at__gte=now - RECENT_BREACHES)
        overdue = Q(state=State.RUNNING, due_at__lte=now)
        query = query.filter(recent | overdue).order_by(Coalesce("breached_at", "due_at").desc(), "-id")
    else:
        query = query.filter(state__in=OPEN_STATES).order_by(F("due_at").asc(nulls_last=True), "id")
        if view == "at_risk":
            query = query.filter(state=State.RUNNING, warn_at__lte=now, due_at__gt=now)
        if state:
            query = query.filter(state=state)
    if promise == "oral":
        query = query.filter(promise_version__isnull=True)
    elif promise:
        query = query.filter(promise_code=promise)
    return query


def queue_counts(now: datetime) -> dict[str, int]:
    return {view: queue_commitments(now=now, view=view).count() for view in QUEUE_VIEWS}


def promise_codes() -> list[str]:
    return list(Promise.objects.order_by("code").values_list("code", flat=True))


def case_clocks(case: Case, now: datetime, language: str) -> list[ClockRow]:
    commitments = case.commitments.select_related("promise_version", "owner", "calendar").order_by("id")
    return [clock_row(c, now, language) for c in commitments]


def event_details(
    event: CaseEvent, skip: frozenset[str] = frozenset(), names: Mapping[str, Mapping[str, str]] | None = None
) -> list[tuple[str, str]]:
    """An event's data as (label, value) pairs for the reader; keys in skip are left out, and
    names gives words for codes (names["root_cause"]["staffing"] == "Not enough staff")."""
    data: dict[str, Any] = {k: v for k, v in (event.data or {}).items() if k not in skip}
    if data.get("amount") is not None and data.get("currency"):
        data["amount"] = f"{data['amount']} {data.pop('currency')}"  # one money value, not two fields
    words = names or {}
    return [
        (display.data_label(k), words[k].get(v, v) if k in words and isinstance(v, str) else display.data_value(k, v))
        for k, v in data.items()
        if k not in ("commitment", "currency") and v != ""
    ]


def case_timeline(case: Case) -> list[EventRow]:
    """The timeline, newest first."""
    events = case.events.select_related("actor").order_by("-at", "-id")
    return [EventRow(event=e, label=display.event_label(e.type), details=event_details(e)) for e in events]


@dataclass
class VersionRow:
    version: PromiseVersion
    statement: str
    target: str
    liability: str

    @property
    def calendar_name(self) -> str:
        calendar = self.version.calendar
        return calendar.name if calendar is not None else ""

    def _events(self, key: str) -> str:
        return display.events_text((self.version.standard or {}).get(key))

    @property
    def start_on(self) -> str:
        return self._events("start_on")

    @property
    def stop_on(self) -> str:
        return self._events("stop_on")

    @property
    def pause_on(self) -> str:
        return self._events("pause_on")

    @property
    def resume_on(self) -> str:
        return self._events("resume_on")

    @property
    def breach_by(self) -> str:
        return display.breach_by_text((self.version.standard or {}).get("breach_by"))

    @property
    def applies(self) -> list[tuple[str, str]]:
        return display.applies_text(self.version.applies_to)


def version_row(version: PromiseVersion, language: str) -> VersionRow:
    return VersionRow(
        version=version,
        statement=version.statement_in(language),
        target=display.target_text(version.standard),
        liability=display.liability_text(version.liability),
    )


def catalogue(language: str) -> list[VersionRow]:
    """Every promise with its latest version, by code."""
    versions = PromiseVersion.objects.select_related("calendar").order_by("-number")
    promises = Promise.objects.order_by("code").prefetch_related(Prefetch("versions", queryset=versions))
    rows = []
    for promise in promises:
        latest = next(iter(promise.versions.all()), None)
        if latest is not None:
            latest.promise = promise  # already in hand; spares a query per row
            rows.append(version_row(latest, language))
    return rows


def promise_versions(promise: Promise, language: str) -> list[VersionRow]:
    versions = promise.versions.select_related("calendar", "created_by", "published_by", "retired_by")
    rows = []
    for version in versions.order_by("-number"):
        version.promise = promise
        rows.append(version_row(version, language))
    return rows
