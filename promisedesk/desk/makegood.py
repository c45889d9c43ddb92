"""Reads for breaches and make-good on the desk: a case's breaches with their history,
the breach queue and the compensation ledger.

Every list here is fetched with a fixed number of queries, whatever its length.
"""

from __future__ import annotations

import uuid
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from promisedesk.breaches.actions import REPORTABLE_SOURCES
from promisedesk.breaches.api import filtered_compensations
from promisedesk.breaches.models import Breach, Compensation, RootCause, Source, Status
from promisedesk.cases.models import Case
from promisedesk.commitments.models import Commitment
from promisedesk.commitments.models import State as ClockState

from . import display, selectors
from .access import BREACH_RELATIONS, COMPENSATION_RELATIONS
from .selectors import ClockRow, EventRow

BREACH_TABS = ("suspected", "verified", "rejected", "all")


@dataclass
class Failure:
    """An action that did not go through, shown where it was asked for with what was typed.

    kind is "report" (the report form), "breach" or "compensation"; pk says which one.
    """

    kind: str
    message: str
    pk: int | None = None
    values: dict[str, str] = field(default_factory=dict)

    def on(self, kind: str, pk: int | None) -> bool:
        return self.kind == kind and self.pk == pk


@dataclass
class RootCauses:
    """The active root causes to choose from, and the names of all (old verdicts name retired ones)."""

    choices: list[tuple[str, str]]
    names: dict[str, str]

    def name(self, code: str) -> str:
        return self.names.get(code, code)


def root_causes(language: str) -> RootCauses:
    rows = list(RootCause.objects.order_by("code"))
    return RootCauses(
        choices=[(r.code, r.name_in(language)) for r in rows if r.active],
        names={r.code: r.name_in(language) for r in rows},
    )


def _promise_words(commitment: Commitment | None, language: str, fallback: str) -> tuple[str, str]:
    """(title, statement) of the promise a breach broke; an oral promise has only its statement."""
    if commitment is None:
        return "", fallback
    version = commitment.promise_version
    if version is not None:
        return version.title_in(language), version.statement_in(language)
    return "", commitment.statement


@dataclass
class BreachRow:
    """One breach as the desk shows it, with its compensation and, on the case page, its history."""

    breach: Breach
    compensation: Compensation | None
    title: str
    statement: str
    root_cause_name: str
    history: list[EventRow] = field(default_factory=list)
    failure: Failure | None = None

    @property
    def description(self) -> str:
        return display.breach_description(self.breach.source, self.breach.description)

    @property
    def is_oral(self) -> bool:
        return self.breach.commitment_id is not None and not self.breach.promise_code

    @property
    def can_verify(self) -> bool:
        return self.breach.status == Status.SUSPECTED

    @property
    def can_set_root_cause(self) -> bool:
        return self.breach.status == Status.VERIFIED

    @property
    def awaiting_settlement(self) -> bool:
        return self.breach.status == Status.VERIFIED and self.breach.settled_at is None

    @property
    def amount_text(self) -> str:
        c = self.compensation
        return display.money_text(c.amount, c.currency) if c is not None else ""

    @property
    def breach_failure(self) -> Failure | None:
        return self.failure if self.failure is not None and self.failure.kind == "breach" else None

    @property
    def compensation_failure(self) -> Failure | None:
        return self.failure if self.failure is not None and self.failure.kind == "compensation" else None


def breach_row(breach: Breach, language: str, causes: RootCauses, history: list[EventRow] | None = None) -> BreachRow:
    title, statement = _promise_words(breach.commitment, language, breach.description)
    return BreachRow(
        breach=breach,
        compensation=getattr(breach, "compensation", None),  # reverse one-to-one: absent raises AttributeError
        title=title,
        statement=statement,
        root_cause_name=causes.name(breach.root_cause) if breach.root_cause else "",
        history=history or [],
    )


def attach_failure(rows: Iterable[BreachRow], failure: Failure | None) -> None:
    """Show a failed action on the row it was asked for."""
    if failure is None:
        return
    for row in rows:
        compensation_pk = row.compensation.pk if row.compensation is not None else None
        if failure.on("breach", row.breach.pk) or failure.on("compensation", compensation_pk):
            row.failure = failure


# Said by the breach card itself, so left out of its history.
HISTORY_SKIP = frozenset({"breach", "compensation", "promise_code", "commitment", "source", "kind"})
HISTORY_NOTES = frozenset({"compensation_approved"})  # other notes are the description or verdict note the card shows


def _histories(breaches: list[Breach], timeline: list[EventRow], causes: RootCauses) -> dict[int, list[EventRow]]:
    """Each breach's timeline entries, oldest first: those naming it, and for a clock's breach the clock's entry."""
    by_commitment = {b.commitment_id: b.pk for b in breaches if b.source == Source.CLOCK and b.commitment_id}
    histories: dict[int, list[EventRow]] = defaultdict(list)
    for row in reversed(timeline):
        data, event = row.event.data or {}, row.event
        if event.type not in display.MAKEGOOD_EVENTS:
            continue
        if isinstance(data.get("breach"), int):
            owner = data["breach"]
        elif event.type == "promise_breached" and data.get("commitment") in by_commitment:
            owner = by_commitment[data["commitment"]]
        else:
            continue
        details = selectors.event_details(event, HISTORY_SKIP, {"root_cause": causes.names})
        histories[owner].append(HistoryRow(event, row.label, details, show_note=event.type in HISTORY_NOTES))
    return histories


@dataclass
class HistoryRow(EventRow):
    show_note: bool = False


def _name_root_causes(timeline: list[EventRow], causes: RootCauses) -> None:
    """The timeline says a verdict's root cause by name, once the names are at hand."""
    for row in timeline:
        if (row.event.data or {}).get("root_cause"):
            row.details = selectors.event_details(row.event, names={"root_cause": causes.names})


@dataclass
class MakeGood:
    """The case page's "Breaches & make-good" section."""

    rows: list[BreachRow]
    claimable: list[ClockRow]
    root_causes: list[tuple[str, str]]
    sources: list[tuple[str, str]]
    stamp: str
    failure: Failure | None = None
    report_key: str = field(default_factory=lambda: f"desk-{uuid.uuid4().hex}")

    @property
    def report_failure(self) -> Failure | None:
        return self.failure if self.failure is not None and self.failure.kind == "report" else None

    @property
    def suspected(self) -> int:
        return sum(1 for row in self.rows if row.can_verify)


def makegood_stamp(timeline: list[EventRow], claimable: list[ClockRow]) -> str:
    """Changes whenever the section would: a breach or compensation moved (a new timeline entry
    about one), or the promises a claim can be made against changed."""
    latest = max((r.event.pk for r in timeline if r.event.type in display.MAKEGOOD_EVENTS), default=0)
    open_to_claims = ",".join(str(r.commitment.pk) for r in claimable)
    return f"{latest}.{zlib.crc32(open_to_claims.encode()):08x}"


def case_makegood(
    case: Case, clocks: list[ClockRow], timeline: list[EventRow], language: str, failure: Failure | None = None
) -> MakeGood:
    """The case's breaches (those waiting for a verdict first, then newest first), each with its
    compensation and history; and the promises a claim can still be made against (in force, and
    not already recorded as broken). Names the root causes in the timeline's entries as well."""
    breaches = list(case.breaches.select_related(*BREACH_RELATIONS).order_by("-recorded_at", "-id"))
    breaches.sort(key=lambda b: b.status != Status.SUSPECTED)  # waiting for a verdict on top (a stable sort)
    causes = root_causes(language) if breaches else RootCauses([], {})
    histories = _histories(breaches, timeline, causes)
    _name_root_causes(timeline, causes)
    rows = [breach_row(b, language, causes, histories.get(b.pk, [])) for b in breaches]
    attach_failure(rows, failure)
    taken = {b.commitment_id for b in breaches if b.status != Status.REJECTED}
    claimable = [r for r in clocks if r.commitment.state != ClockState.CANCELLED and r.commitment.pk not in taken]
    return MakeGood(
        rows=rows,
        claimable=claimable,
        root_causes=causes.choices,
        sources=[(s, str(Source(s).label)) for s in REPORTABLE_SOURCES],
        stamp=makegood_stamp(timeline, claimable),
        failure=failure,
    )


def breach_queue(*, status: str, source: str = "", promise: str = "") -> QuerySet[Breach]:
    """The breach queue: suspected breaches oldest first (the next to decide on top); other tabs newest first."""
    query = _breach_filter(Breach.objects.select_related(*BREACH_RELATIONS), source=source, promise=promise)
    if status == Status.SUSPECTED:
        return query.filter(status=status).order_by("recorded_at", "id")
    if status != "all":
        query = query.filter(status=status)
    return query.order_by("-detected_at", "-id")


def _breach_filter(query: QuerySet[Breach], *, source: str, promise: str) -> QuerySet[Breach]:
    if source:
        query = query.filter(source=source)
    if promise == "oral":
        query = query.filter(promise_code__isnull=True)
    elif promise:
        query = query.filter(promise_code=promise)
    return query


def breach_counts(*, source: str = "", promise: str = "") -> dict[str, int]:
    """How many breaches each tab holds, in one query."""
    counts = _breach_filter(Breach.objects.all(), source=source, promise=promise).aggregate(
        all=Count("id"), **{s: Count("id", filter=Q(status=s)) for s in Status.values}
    )
    return {tab: counts.get(tab) or 0 for tab in BREACH_TABS}


@dataclass
class LedgerRow:
    """One compensation in the ledger, with the promise it pays for."""

    compensation: Compensation
    title: str
    failure: Failure | None = None

    @property
    def amount_text(self) -> str:
        return display.money_text(self.compensation.amount, self.compensation.currency)


def ledger_query(**filters: Any) -> QuerySet[Compensation]:
    """filtered_compensations with what a ledger row shows, in the same query."""
    return filtered_compensations(**filters).select_related(*COMPENSATION_RELATIONS)


def ledger_row(compensation: Compensation, language: str, failure: Failure | None = None) -> LedgerRow:
    breach = compensation.breach
    title, _statement = _promise_words(breach.commitment, language, "") if breach else ("", "")
    shown = failure if failure is not None and failure.on("compensation", compensation.pk) else None
    return LedgerRow(compensation=compensation, title=title, failure=shown)
