"""What the customer (and connected systems) are told when something happens on a case.

Called from the case actions inside their transaction, so a message is owed exactly
when the change it is about is committed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from promisedesk.cases.models import Case, CaseEvent

from .outbox import queue_for_customer, queue_for_endpoints

# Timeline entries worth a message of their own; the rest show on the case page only.
UPDATE_TYPES = frozenset(
    {"progress_update", "appointment_scheduled", "arrived", "delivered", "resolved", "closed", "reopened"}
)


def case_link(case: Case) -> str:
    """The customer's own page for case: the unguessable token is the whole credential."""
    return f"{settings.PROMISEDESK_BASE_URL}/c/{case.access_token}/"


def customer_zone(case: Case) -> ZoneInfo:
    return ZoneInfo(case.customer.timezone or settings.TIME_ZONE)


def case_opened(case: Case, now: datetime) -> None:
    """Tell the customer the case was received, with the promises that apply and when they fall due."""
    zone = customer_zone(case)
    promises = [
        {"statement": c.label(), "due_at": c.due_at.astimezone(zone) if c.due_at else None}
        for c in getattr(case, "attached_commitments", [])
    ]
    context: dict[str, Any] = {"case": case, "promises": promises, "link": case_link(case), "zone": str(zone)}
    queue_for_customer(
        customer=case.customer,
        case_id=case.pk,
        event_key=f"case:{case.pk}:received",
        template="case_received",
        context=context,
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
    if event.visible_to_customer and event.type in UPDATE_TYPES:
        context = {
            "case": case,
            "event": event,
            "link": case_link(case),
            "at": event.at.astimezone(customer_zone(case)),
        }
        queue_for_customer(
            customer=case.customer, case_id=case.pk, event_key=key, template="case_update", context=context, now=now
        )
    payload = _case_payload(case) | {"event": {"id": event.pk, "type": event.type, "at": event.at.isoformat()}}
    queue_for_endpoints(event=f"case.{event.type}", event_key=key, payload=payload, case_id=case.pk, now=now)


def _case_payload(case: Case) -> dict[str, Any]:
    return {
        "case": {"id": case.pk, "external_ref": case.external_ref, "stage": case.stage, "customer": case.customer_id}
    }
