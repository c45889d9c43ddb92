"""The customer's case link for staff and integrations that send their own messages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from promisedesk.cases.models import Case
from promisedesk.errors import NotFound
from promisedesk.notifications.events import case_link

router = Router(tags=["portal"])


class CustomerLinkOut(Schema):
    case: int
    url: str


@router.get("/cases/{case_id}/customer-link", response=CustomerLinkOut)
def customer_link(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """The link to the customer's own page for the case (the same link every message carries).
    Anyone holding it sees the case as its customer does: give it to the customer only."""
    case = Case.objects.filter(pk=case_id).only("pk", "access_token").first()
    if case is None:
        raise NotFound(f"case {case_id}")
    return {"case": case.pk, "url": case_link(case)}
