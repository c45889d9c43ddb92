"""The incident notice as a customer would get it, for the desk to check before telling everyone."""

from __future__ import annotations

from typing import TypedDict

from promisedesk.notifications.events import customer_zone
from promisedesk.notifications.outbox import customer_language, render_message

from .models import Incident, IncidentCase
from .steps import NOTICE_TEMPLATE, notice_context


class Preview(TypedDict):
    customer: str
    language: str
    subject: str
    body: str


def notice_preview(incident: Incident, message: str) -> Preview | None:
    """The notice to the first affected customer, in their language and time zone; None with no case attached."""
    link = (
        IncidentCase.objects.filter(incident=incident)
        .select_related("case__customer", "case__service")
        .order_by("id")
        .first()
    )
    if link is None:
        return None
    case = link.case
    language = customer_language(case.customer)
    context = notice_context(incident, case, language, customer_zone(case), message.strip())
    subject, body = render_message(NOTICE_TEMPLATE, language, context)
    return Preview(customer=case.customer.name, language=language, subject=subject, body=body)
