"""Reads for the desk pages: the queue, a case's clocks and timeline, the promise catalogue.

Every list here is fetched with a fixed number of queries, whatever its length.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce

from promisedesk.accounts.models import Department
from promisedesk.cases.models import Attachment, Case, CaseEvent, Stage
from promisedesk.cases.selectors import StageNames
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
    stage: str = ""

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
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def is_internal(self) -> bool:
        return self.event.type == "internal_note"


def clock_row(commitment: Commitment, now: datetime, language: str, names: StageNames | None = None) -> ClockRow:
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
        stage=names.of(commitment.case, language) if names is not None else "",
    )


def _queue_base() -> QuerySet[Commitment]:
    return Commitment.objects.select_related(
        "case__customer", "case__service", "case__department", "case__assignee", "owner", "calendar", "promise_version"
    )


def scope_filter(*, department: str = "", assignee: str = "", mine: Any = None) -> Q:
    """Whose promises: a department's cases, a person's cases, or mine (my cases and the promises I own)."""
    scope = Q()
    if department:
        scope &= Q(case__department__code=department)
    if assignee:
        scope &= Q(case__assignee__username=assignee)
    if mine is not None:
        scope &= Q(case__assignee=mine) | Q(owner=mine)
    return scope


def queue_commitments(
    *,
    now: datetime,
    view: str,
    state: str = "",
    promise: str = "",
    department: str = "",
    assignee: str = "",
    mine: Any = None,
) -> QuerySet[Commitment]:
    """The commitments of one queue view, soonest due first (no due time last).

    open: pending, running or paused; at_risk: running past its warning time and not yet due;
    breached: breached in the last seven days, or past due and not yet swept, latest first.
    department / assignee / mine narrow it to whose they are; an oral promise is its owner's
    as well as the case's assignee's.
    """
    query = _queue_base().filter(scope_filter(department=department, assignee=assignee, mine=mine))
    if view == "breached":
        query = query.filter(_breached(now)).order_by(Coalesce("breached_at", "due_at").desc(), "-id")
    else:
        query = query.filter(state__in=OPEN_STATES).order_by(F("due_at").asc(nulls_last=True), "id")
        if view == "at_risk":
            query = query.filter(_at_risk(now))
        if state:
            query = query.filter(state=state)
    if promise == "oral":
        query = query.filter(promise_version__isnull=True)
    elif promise:
        query = query.filter(promise_code=promise)
    return query


@dataclass
class QueuePeople:
    """Whose queue to show: the departments (code, name) and the staff usernames."""

    departments: list[tuple[str, str]]
    staff: list[str]


def queue_people() -> QueuePeople:
    departments = list(Department.objects.order_by("name").values_list("code", "name"))
    staff = list(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .order_by("username")
        .values_list("username", flat=True)
    )
    return QueuePeople(departments=departments, staff=staff)


def queue_counts(now: datetime, *, department: str = "", assignee: str = "", mine: Any = None) -> dict[str, int]:
    """How many promises each view holds, for the same people, in one query."""
    scoped = Commitment.objects.filter(scope_filter(department=department, assignee=assignee, mine=mine))
    return scoped.aggregate(
        open=Count("id", filter=Q(state__in=OPEN_STATES)),
        at_risk=Count("id", filter=_at_risk(now)),
        breached=Count("id", filter=_breached(now)),
    )


def _at_risk(now: datetime) -> Q:
    """Running past its warning time and not yet due."""
    return Q(state=State.RUNNING, warn_at__lte=now, due_at__gt=now)


def _breached(now: datetime) -> Q:
    """Breached in the last seven days, or past due and not yet swept."""
    return Q(state=State.BREACHED, breached_at__gte=now - RECENT_BREACHES) | Q(state=State.RUNNING, due_at__lte=now)


def promise_codes() -> list[str]:
    return list(Promise.objects.order_by("code").values_list("code", flat=True))


def case_clocks(case: Case, now: datetime, language: str) -> list[ClockRow]:
    commitments = case.commitments.select_related("promise_version", "owner", "calendar").order_by("id")
    return [clock_row(c, now, language) for c in commitments]


# Keys left out of an event's details when they say nothing (a first assignment came from nowhere).
QUIET_WHEN_EMPTY = frozenset({"from_department", "from_assignee", "substatus", "previous_start", "previous_end"})


def event_details(
    event: CaseEvent, skip: frozenset[str] = frozenset(), names: Mapping[str, Mapping[str, str]] | None = None
) -> list[tuple[str, str]]:
    """An event's data as (label, value) pairs for the reader; keys in skip are left out, and
    names gives words for codes (names["root_cause"]["staffing"] == "Not enough staff")."""
    data: dict[str, Any] = {k: v for k, v in (event.data or {}).items() if k not in skip}
    if data.get("amount") is not None and data.get("currency"):
        data["amount"] = f"{data['amount']} {data.pop('currency')}"  # one money value, not two fields
    words = names or {}
    data = {k: v for k, v in data.items() if not (v is None and k in QUIET_WHEN_EMPTY)}
    return [
        (display.data_label(k), words[k].get(v, v) if k in words and isinstance(v, str) else display.data_value(k, v))
        for k, v in data.items()
        if k not in ("commitment", "currency") and v != ""
    ]


def case_timeline(
    case: Case,
    attachments: list[Attachment] | None = None,
    names: Mapping[str, Mapping[str, str]] | None = None,
) -> list[EventRow]:
    """The timeline, newest first, each entry with the files that came with it; `names` gives words
    for codes in the events' data (stages, departments)."""
    by_event: dict[int | None, list[Attachment]] = defaultdict(list)
    for attachment in attachments or []:
        by_event[attachment.event_id].append(attachment)
    events = case.events.select_related("actor").order_by("-at", "-id")
    return [
        EventRow(
            event=e,
            label=display.event_label(e.type),
            details=event_details(e, names=names),
            attachments=by_event.get(e.pk, []),
        )
        for e in events
    ]


def arrival(timeline: list[EventRow]) -> CaseEvent | None:
    """The arrival for the appointment booked now: the latest `arrived` after the latest booking."""
    for row in timeline:  # newest first
        if row.event.type == "arrived":
            return row.event
        if row.event.type == "appointment_scheduled":
            return None
    return None


# -- working a case: stage, assignment, profile, files ---------------------------------------------

OTHER_CASES = 10


@dataclass
class StageGroup:
    """A stage and its sub-statuses as choices: ("delivery", "Installation"), ("delivery:waiting_parts", …)."""

    stage: str
    label: str
    options: list[tuple[str, str]]


@dataclass
class CaseWork:
    """What the case page shows beside the clocks: the stage in the organisation's words, whom it can
    go to, the customer's other cases and preferences, and the files on the case."""

    stage_text: str
    stage_groups: list[StageGroup]
    departments: list[Department]
    staff: list[Any]
    other_cases: list[Case]
    other_count: int
    attachments: list[Attachment]
    preferences: list[tuple[str, str]]
    names: dict[str, dict[str, str]]


def stage_groups(case: Case, names: StageNames, language: str) -> list[StageGroup]:
    groups = []
    for stage in Stage.values:
        label = names.stage(case.service_id, stage, language)
        subs = names.substatuses(case.service_id, stage, language)
        options = [(stage, label), *((f"{stage}:{s.code}", f"{label} · {s.label}") for s in subs)]
        groups.append(StageGroup(stage=stage, label=label, options=options))
    return groups


def preference_rows(preferences: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A customer's preferences for the reader: "room floor" → "high", lists joined, yes/no in words."""
    rows = []
    for key, value in (preferences or {}).items():
        if isinstance(value, list):
            shown = ", ".join(display.data_value(key, item) for item in value)
        else:
            shown = display.data_value(key, value)
        rows.append((str(key).replace("_", " "), shown))
    return rows


def case_work(case: Case, language: str) -> CaseWork:
    """Everything the case page needs beyond clocks and timeline, in a fixed number of queries."""
    names = StageNames.load(case.service_id)
    departments = list(
        Department.objects.select_related("lead", "manager").prefetch_related("members").order_by("name")
    )
    staff = list(get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username"))
    others = case.customer.cases.exclude(pk=case.pk).select_related("service").order_by("-opened_at", "-id")
    other_cases = list(others[: OTHER_CASES + 1])
    other_count = len(other_cases) if len(other_cases) <= OTHER_CASES else others.count()
    stage_words = {stage: names.stage(case.service_id, stage, language) for stage in Stage.values}
    groups = stage_groups(case, names, language)
    substatus_words = {
        sub.code: sub.label for stage in Stage.values for sub in names.substatuses(case.service_id, stage, language)
    }
    return CaseWork(
        stage_text=names.of(case, language),
        stage_groups=groups,
        departments=departments,
        staff=staff,
        other_cases=other_cases[:OTHER_CASES],
        other_count=other_count,
        attachments=list(case.attachments.order_by("uploaded_at", "id")),
        preferences=preference_rows(case.customer.preferences),
        names={
            "from": stage_words,
            "to": stage_words,
            "substatus": substatus_words,
            "department": {d.code: d.name for d in departments},
            "from_department": {d.code: d.name for d in departments},
        },
    )


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
