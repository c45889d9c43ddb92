"""Reads for the customer's case page: one case, found by its token, and only what the customer may see.

Everything here is scoped to the one case the token names; the page is built with a
fixed number of queries, however long its timeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Prefetch

from promisedesk.breaches.models import Breach, Compensation, Source, Status
from promisedesk.cases.models import Attachment, Case, CaseEvent, CaseKind
from promisedesk.commitments.models import OPEN_STATES, Commitment, State
from promisedesk.notifications.events import appointment_window, customer_zone, window_text

from . import rules, wording
from .stages import StageNamer, stage_text

# new_access_token() makes 43 URL-safe characters; anything else names no case.
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# A very long timeline shows its latest entries; the case page is not an archive.
MAX_UPDATES = 200


def case_for_token(token: str) -> Case | None:
    """The case whose link carries token, or None (the caller answers a plain 404)."""
    if not TOKEN.match(token):
        return None
    return Case.objects.select_related("customer", "service").filter(access_token=token).first()


def attachment_for_token(token: str, attachment_id: int) -> Attachment | None:
    """One of the customer's own attachments on the case token names, or None."""
    case = case_for_token(token)
    if case is None:
        return None
    found = Attachment.objects.select_related("event").filter(case=case, pk=attachment_id).first()
    if found is None or found.event is None or not rules.customer_may_download(found.event):
        return None
    return found


@dataclass
class PromiseCard:
    """One promise on the case as the customer sees it."""

    commitment: Commitment
    statement: str
    status: str  # running, overdue, paused, pending, met, breached
    countdown: str
    left_when_paused: str
    liability: str
    liability_terms: str
    breach: Breach | None
    refusal: str | None

    @property
    def oral(self) -> bool:
        return self.commitment.promise_version_id is None

    @property
    def claimable(self) -> bool:
        return self.refusal is None

    @property
    def breach_status_text(self) -> str:
        return str(wording.BREACH_STATUS.get(self.breach.status, "")) if self.breach is not None else ""

    @property
    def hint(self) -> str:
        """What the customer should know about claiming it: when it becomes claimable, or why not again."""
        if self.refusal not in (rules.NOT_DUE, rules.CLAIM_REJECTED):
            return ""
        return str(wording.ERROR_TEXTS[self.refusal or ""])


@dataclass
class UpdateRow:
    """One timeline entry the customer may see."""

    event: CaseEvent
    label: str
    mine: bool
    note: str = ""
    details: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class ClaimRow:
    """A broken promise on the case (the customer's claims, and what was found and confirmed)."""

    breach: Breach
    statement: str
    source_text: str
    status_text: str
    compensation: Compensation | None
    compensation_text: str
    compensation_status: str

    @property
    def rejection_reason(self) -> str:
        return self.breach.verdict_note if self.breach.status == Status.REJECTED else ""


@dataclass
class CasePage:
    case: Case
    language: str
    zone: str
    now: datetime
    stage: str
    appointment: str
    promises: list[PromiseCard]
    updates: list[UpdateRow]
    claims: list[ClaimRow]

    @property
    def claimable(self) -> list[PromiseCard]:
        return [p for p in self.promises if p.claimable]


def _statement(commitment: Commitment | None, language: str, fallback: str = "") -> str:
    if commitment is None:
        return fallback
    version = commitment.promise_version
    return version.statement_in(language) if version is not None else commitment.statement


def _status(commitment: Commitment, now: datetime) -> str:
    if rules.is_overdue(commitment, now):
        return "overdue"
    return str(commitment.state)


def promise_card(case: Case, commitment: Commitment, breaches: list[Breach], now: datetime, lang: str) -> PromiseCard:
    left = ""
    if commitment.state == State.PAUSED and commitment.target_us is not None:
        left = wording.duration_text(timedelta(microseconds=commitment.target_us - commitment.consumed_us))
    standing = [b for b in breaches if b.status != Status.REJECTED]
    shown = standing[0] if standing else next((b for b in breaches if b.source == Source.CLAIM), None)
    due = commitment.due_at
    return PromiseCard(
        commitment=commitment,
        statement=_statement(commitment, lang),
        status=_status(commitment, now),
        countdown=wording.countdown_text(due, now) if due is not None and commitment.is_open else "",
        left_when_paused=left,
        liability=wording.liability_text(commitment.liability, case.price, case.currency),
        liability_terms=wording.liability_terms(commitment.liability),
        breach=shown,
        refusal=rules.claim_refusal(commitment, breaches, now),
    )


def _promise_order(card: PromiseCard) -> tuple[int, datetime, int]:
    commitment = card.commitment
    far = datetime.max.replace(tzinfo=ZoneInfo("UTC"))
    return (0 if commitment.state in OPEN_STATES else 1, commitment.due_at or far, commitment.pk)


def claim_row(breach: Breach, case: Case, language: str) -> ClaimRow:
    compensation: Compensation | None = getattr(breach, "compensation", None)
    return ClaimRow(
        breach=breach,
        statement=_statement(breach.commitment, language, breach.description),
        source_text=str(wording.SOURCE_WORDS.get(breach.source, breach.source)),
        status_text=str(wording.BREACH_STATUS.get(breach.status, breach.status)),
        compensation=compensation,
        compensation_text=_compensation_text(compensation),
        compensation_status=str(wording.COMPENSATION_STATUS.get(compensation.status, ""))
        if compensation is not None
        else "",
    )


def _compensation_text(compensation: Compensation | None) -> str:
    if compensation is None:
        return ""
    kind = str(wording.KIND_WORDS.get(compensation.kind, compensation.kind))
    if compensation.kind == "apology" or compensation.amount is None:
        return kind
    return f"{kind} · {wording.money_text(compensation.amount, compensation.currency)}"


def updates(case: Case, language: str) -> list[UpdateRow]:
    """The entries marked for the customer, newest first; their own files with their own entries."""
    events = list(
        case.events.filter(visible_to_customer=True)
        .order_by("-at", "-id")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))[:MAX_UPDATES]
    )
    zone = customer_zone(case)
    namer = StageNamer(case)
    rows: list[UpdateRow] = []
    previous_window: tuple[datetime, datetime] | None = None
    for event in reversed(events):  # oldest first, to tell a booking from a move
        data = event.data or {}
        details: list[str] = []
        moved = False
        if event.type == "appointment_scheduled":
            window = appointment_window(data.get("start"), data.get("end"), zone)
            if window is not None:
                moved = previous_window is not None and previous_window != window
                if moved and previous_window is not None:
                    details.append(wording.window_change_text(window_text(previous_window), window_text(window)))
                else:
                    details.append(window_text(window))
                previous_window = window
            if data.get("reason"):
                details.append(wording.reason_text(str(data["reason"])))
        if event.type == "stage_changed" and data.get("to"):
            details.append(namer(str(data["to"]), str(data.get("substatus") or ""), language))
        note = event.note
        if event.type == "appointment_scheduled" and note.strip() == str(data.get("reason") or "").strip():
            note = ""  # the reason, already shown
        rows.append(
            UpdateRow(
                event=event,
                label=wording.event_label(event.type, data, moved=moved, complaint=case.kind == CaseKind.COMPLAINT),
                mine=rules.is_customers_own(event),
                note=note,
                details=details,
                attachments=list(event.attachments.all()) if rules.customer_may_download(event) else [],
            )
        )
    rows.reverse()
    return rows


def case_page(case: Case, now: datetime, language: str) -> CasePage:
    """Everything the customer's page shows for case, in language."""
    commitments = list(case.commitments.exclude(state=State.CANCELLED).select_related("promise_version").order_by("id"))
    all_breaches = list(
        case.breaches.select_related("commitment__promise_version", "compensation").order_by("-recorded_at", "-id")
    )
    by_commitment: dict[int, list[Breach]] = {}
    for breach in all_breaches:
        if breach.commitment_id is not None:
            by_commitment.setdefault(breach.commitment_id, []).append(breach)
    cards = [promise_card(case, c, by_commitment.get(c.pk, []), now, language) for c in commitments]
    cards.sort(key=_promise_order)
    shown_breaches = [b for b in all_breaches if b.source == Source.CLAIM or b.status == Status.VERIFIED]
    zone = customer_zone(case)
    window = appointment_window(case.appointment_start, case.appointment_end, zone) if case.appointment_start else None
    return CasePage(
        case=case,
        language=language,
        zone=str(zone),
        now=now,
        stage=stage_text(case, language),
        appointment=window_text(window) if window else "",
        promises=cards,
        updates=updates(case, language),
        claims=[claim_row(b, case, language) for b in shown_breaches],
    )
