"""What the customer (and connected systems) are told when something happens on a case.

Called from the case actions inside their transaction, so a message is owed exactly
when the change it is about is committed. Each message has one event key (what it is
about), and the outbox stores it once per recipient and channel under that key, so a
retried action never tells the customer twice. Every customer message carries the link
to the customer's case page and is worded in the customer's language, with times in
the customer's time zone. SMS gets the same body as email, so bodies stay short.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from promisedesk.cases.models import Case, CaseEvent, CaseKind

from .outbox import customer_language, queue_for_customer, queue_for_endpoints

if TYPE_CHECKING:
    from promisedesk.breaches.models import Breach
    from promisedesk.commitments.models import Commitment

# Timeline entries worth a message of their own when the customer may see them; the rest
# show on the case page only (a visible entry with a note from staff is a message too).
UPDATE_TYPES = frozenset({"progress_update", "arrived", "delivered", "resolved", "closed", "reopened", "stage_changed"})
APPOINTMENT_TYPES = frozenset({"appointment_scheduled"})
# Never a message: the case's opening has its own, and customers are not told what they wrote.
SILENT_TYPES = frozenset({"case_opened", "customer_replied"})


def case_link(case: Case) -> str:
    """The customer's own page for case: the unguessable token is the whole credential."""
    return f"{settings.PROMISEDESK_BASE_URL}/c/{case.access_token}/"


def customer_zone(case: Case) -> ZoneInfo:
    """The customer's time zone; the site's when they have none (or one that no longer exists)."""
    try:
        return ZoneInfo(case.customer.timezone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def promise_line(commitment: Commitment, language: str, zone: ZoneInfo) -> dict[str, Any]:
    """A promise as a message states it: its words in the customer's language, due time in their
    zone (a plain dict, so a manager's own wording can use it too)."""
    version = commitment.promise_version
    statement = version.statement_in(language) if version is not None else commitment.statement
    due = commitment.due_at.astimezone(zone) if commitment.due_at else None
    return {"statement": statement, "due_at": due}


def appointment_window(start: Any, end: Any, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """An appointment window from datetimes or ISO strings, in zone; None when it is not one."""
    try:
        begin = start if isinstance(start, datetime) else datetime.fromisoformat(str(start))
        finish = end if isinstance(end, datetime) else datetime.fromisoformat(str(end))
    except ValueError:
        return None
    if begin.tzinfo is None or finish.tzinfo is None:
        return None
    return begin.astimezone(zone), finish.astimezone(zone)


def window_text(window: tuple[datetime, datetime]) -> str:
    """2026-03-03 09:00–12:00, or both dates when the window crosses midnight (already in the zone)."""
    start, end = window
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


def _context(case: Case, zone: ZoneInfo, **extra: Any) -> dict[str, Any]:
    return {"case": case, "link": case_link(case), "zone": str(zone), **extra}


# A case or event dated further back than this is an import of history: connected systems
# hear of it, the customer is not sent news (and due times) from long ago.
HISTORY = timedelta(hours=24)


def _is_history(at: datetime, now: datetime) -> bool:
    return at < now - HISTORY


def case_opened(case: Case, now: datetime) -> None:
    """Tell the customer the case was received, with the promises that apply and when they fall due."""
    from promisedesk.commitments.models import State

    if not _is_history(case.opened_at, now):
        zone = customer_zone(case)
        language = customer_language(case.customer)
        promises = [
            promise_line(c, language, zone)
            for c in getattr(case, "attached_commitments", [])
            if c.state != State.CANCELLED
        ]
        start, end = case.appointment_start, case.appointment_end
        window = appointment_window(start, end, zone) if start else None
        appointment = window_text(window) if window else ""
        # A complaint is acknowledged as a complaint (with what it is about), not as a request.
        complaint = case.kind == CaseKind.COMPLAINT
        extra = {"about": case.about, "complaint_summary": case.summary} if complaint else {}
        queue_for_customer(
            customer=case.customer,
            case_id=case.pk,
            event_key=f"case:{case.pk}:received",
            template="complaint_received" if complaint else "case_received",
            context=_context(case, zone, promises=promises, appointment=appointment, **extra),
            now=now,
        )
    queue_for_endpoints(
        event="case.received",
        event_key=f"case:{case.pk}:received",
        payload=_case_payload(case),
        case_id=case.pk,
        now=now,
    )


def event_recorded(case: Case, event: CaseEvent, now: datetime) -> None:
    """Tell the customer about progress they can see; every event goes to connected systems."""
    key = f"event:{event.pk}"
    message = None if _is_history(event.at, now) else customer_message(case, event)
    if message is not None:
        template, context = message
        queue_for_customer(
            customer=case.customer, case_id=case.pk, event_key=key, template=template, context=context, now=now
        )
    payload = _case_payload(case) | {"event": {"id": event.pk, "type": event.type, "at": event.at.isoformat()}}
    queue_for_endpoints(event=f"case.{event.type}", event_key=key, payload=payload, case_id=case.pk, now=now)


def customer_message(case: Case, event: CaseEvent) -> tuple[str, dict[str, Any]] | None:
    """(template, context) of the message event owes the customer, or None.

    Owed for entries the customer may see: an appointment booked or moved (with the
    old and new window and the reason), progress updates, arrival and every other move
    of the stage, and any visible entry with a note from staff. Not for what the
    customer did themselves (their messages, a reopening by their reply).
    """
    from promisedesk.cases.actions import STAGE_EVENTS
    from promisedesk.cases.selectors import stage_label

    data = event.data or {}
    if not event.visible_to_customer or event.type in SILENT_TYPES or data.get("by") == "customer":
        return None
    zone = customer_zone(case)
    if event.type in APPOINTMENT_TYPES:
        window = appointment_window(data.get("start"), data.get("end"), zone)
        if window is not None:
            return "appointment_changed", _appointment_context(case, event, window, zone)
    stage_moved = event.type in STAGE_EVENTS or event.type == "stage_changed"
    if event.type not in UPDATE_TYPES and not (event.note and event.actor_id):
        return None
    stage = str(stage_label(case, customer_language(case.customer))) if stage_moved else ""
    return "case_update", _context(case, zone, event=event, at=event.at.astimezone(zone), stage=stage)


def _appointment_context(
    case: Case, event: CaseEvent, window: tuple[datetime, datetime], zone: ZoneInfo
) -> dict[str, Any]:
    """Booked, or moved: from the window the booking says it replaced (`previous_start`/`previous_end`),
    else from the previous booking on the timeline (the case row already holds the new one)."""
    data = event.data or {}
    previous = appointment_window(data.get("previous_start"), data.get("previous_end"), zone)
    if previous is None:
        previous = _previous_booking(case, event, zone)
    moved = previous is not None and previous != window
    reason = str(data.get("reason") or "").strip()
    return _context(
        case,
        zone,
        event=event,
        start=window[0],
        end=window[1],
        window=window_text(window),
        moved=moved,
        old_window=window_text(previous) if moved and previous else "",
        reason=reason,
        note="" if event.note.strip() == reason else event.note,  # a reason is often written as the note too
    )


def _previous_booking(case: Case, event: CaseEvent, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    earlier = (
        CaseEvent.objects.filter(case_id=case.pk, type__in=APPOINTMENT_TYPES, pk__lt=event.pk)
        .order_by("-at", "-pk")
        .values_list("data", flat=True)
    )
    for old in earlier[:5]:
        window = appointment_window((old or {}).get("start"), (old or {}).get("end"), zone)
        if window is not None:
            return window
    return None


def claim_received(case: Case, breach: Breach, now: datetime) -> None:
    """Acknowledge a claim the customer made on their case page, once per claim."""
    from promisedesk.breaches.models import Status

    zone = customer_zone(case)
    language = customer_language(case.customer)
    commitment = breach.commitment
    statement = promise_line(commitment, language, zone)["statement"] if commitment else breach.description
    key = f"breach:{breach.pk}:claim_received"
    context = _context(case, zone, breach=breach, statement=statement, accepted=breach.status == Status.VERIFIED)
    queue_for_customer(
        customer=case.customer, case_id=case.pk, event_key=key, template="claim_received", context=context, now=now
    )
    payload = _case_payload(case) | {
        "breach": {"id": breach.pk, "promise_code": breach.promise_code, "source": breach.source}
    }
    queue_for_endpoints(event="case.claim_received", event_key=key, payload=payload, case_id=case.pk, now=now)


def _case_payload(case: Case) -> dict[str, Any]:
    return {
        "case": {"id": case.pk, "external_ref": case.external_ref, "stage": case.stage, "customer": case.customer_id}
    }
