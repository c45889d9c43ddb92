"""What an escalation writes: the email to each person told and the case's timeline entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation

from promisedesk.cases.models import CaseEvent
from promisedesk.commitments.models import Commitment, State
from promisedesk.notifications.models import OutboxMessage
from promisedesk.notifications.outbox import render_message, staff_emails

from .models import Escalation, Role

TEMPLATE = "promise_escalated"
ESCALATED, SKIPPED = "escalated", "escalation_skipped"  # the timeline entries


def staff_language() -> str:
    """The language of messages to staff: settings.PROMISEDESK_STAFF_LANGUAGE, else Chinese."""
    return getattr(settings, "PROMISEDESK_STAFF_LANGUAGE", "zh-Hans")


def desk_link(case_id: int) -> str:
    """The case on the staff desk (never the customer's own link: that one is the customer's credential)."""
    return f"{settings.PROMISEDESK_BASE_URL}/desk/cases/{case_id}/"


def _zone(commitment: Commitment) -> ZoneInfo:
    calendar = commitment.calendar
    return ZoneInfo(calendar.timezone if calendar is not None else settings.TIME_ZONE)


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _broken(commitment: Commitment, reached: datetime) -> bool:
    """Broken, or at its due time this very moment (the sweeper may not have recorded it yet)."""
    return commitment.state == State.BREACHED or (commitment.due_at is not None and reached >= commitment.due_at)


def _context(row: Escalation, commitment: Commitment, reached: datetime, language: str) -> dict[str, Any]:
    zone = _zone(commitment)
    case = commitment.case
    with translation.override(language):
        role = str(Role(row.role).label)
        threshold = row.threshold_label()
    return {
        "case": case,
        "promise": commitment.label(language),
        "promise_code": commitment.promise_code or "",
        "role": role,
        "threshold": threshold,
        "at_warning": row.threshold is None,
        # Formatted here: the `date` filter would move them to the site's time zone.
        "reached": _local(reached, zone),
        "due_at": _local(commitment.due_at, zone) if commitment.due_at else "",
        "broken": _broken(commitment, reached),
        "zone": str(zone),
        "link": desk_link(case.pk),
    }


def staff_messages(
    row: Escalation, commitment: Commitment, people: list[Any], *, reached: datetime, notify: datetime, now: datetime
) -> list[OutboxMessage]:
    """One email per distinct address told, held back until `notify` (inside business hours)."""
    language = staff_language()
    subject, body = render_message(TEMPLATE, language, _context(row, commitment, reached, language))
    return staff_emails(
        (p.email for p in people),
        event_key=f"escalation:{row.pk}",
        template=TEMPLATE,
        language=language,
        subject=subject,
        body=body,
        send_at=notify,
        now=now,
        case_id=commitment.case_id,
    )


def timeline_entry(
    type: str, row: Escalation, commitment: Commitment, *, at: datetime, now: datetime, **data: Any
) -> CaseEvent:
    """The case's record of a level: `escalated` (who was told, when) or `escalation_skipped` (why not)."""
    return CaseEvent(
        case_id=commitment.case_id,
        type=type,
        at=at,
        data={
            "level": row.role,
            "commitment": commitment.pk,
            "promise_code": commitment.promise_code,
            "escalation": row.pk,
            **data,
        },
        system=True,
        recorded_at=now,
    )
