"""A sample context for previewing a template: made-up values under every name the built-in
templates use (customer messages and escalations to staff alike), in the language being
previewed. Plain dicts only, so nothing real is touched."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

ZONE = "Asia/Shanghai"
SAMPLE_AT = datetime(2026, 3, 2, 10, 30, tzinfo=ZoneInfo(ZONE))
SAMPLE_DUE = datetime(2026, 3, 2, 14, 0, tzinfo=ZoneInfo(ZONE))


def sample_context(language: str) -> dict[str, Any]:
    """Values for case, customer, promises, event, compensation, reason and the like."""
    with translation.override(language):
        customer = {"name": _("Li Lei"), "email": "li@example.com", "phone": "13800000000", "tier": "gold"}
        statement = _("We reply within 4 working hours.")
        case = {
            "pk": 1024,
            "id": 1024,
            "external_ref": "WEB-1024",
            "customer": customer,
            "service": {"code": "install", "name": _("Broadband installation")},
            "stage": "delivery",
            "priority": "normal",
        }
        compensation = {
            "kind": "voucher",
            "kind_label": _("voucher"),
            "amount": "20.00",
            "currency": "CNY",
            "reference": "V-7Q2K9",
        }
        return {
            "case": case,
            "customer": customer,
            "link": f"{settings.PROMISEDESK_BASE_URL}/c/sample/",
            "zone": ZONE,
            "promises": [{"statement": statement, "due_at": SAMPLE_DUE}],
            "event": {"type": "progress_update", "note": _("The engineer is on the way."), "at": SAMPLE_AT},
            "at": SAMPLE_AT,
            "statement": statement,
            "commitment": {"statement": statement, "due_at": SAMPLE_DUE, "owner": "agent"},
            "due_at": SAMPLE_DUE,
            "compensation": compensation,
            "exclusion": "",
            "reason": _("The engineer arrived inside the booked window."),
            # appointments
            "appointment": "2026-03-03 09:00–12:00",
            "window": "2026-03-03 09:00–12:00",
            "old_window": "2026-03-02 14:00–17:00",
            "moved": True,
            "note": _("The engineer is on the way."),
            "stage": _("Service delivery"),
            # claims
            "breach": {"pk": 77, "id": 77, "description": _("The engineer arrived late.")},
            "accepted": True,
            # complaints (the apology of the recovery steps)
            "about": {"pk": 1023, "id": 1023, "summary": _("Broadband installation")},
            "about_summary": _("Broadband installation"),
            "complaint_summary": _("The engineer arrived late."),
            "words": "",
            # escalations to staff
            "promise": statement,
            "promise_code": "reply-4h",
            "role": _("team lead"),
            "threshold": "80%",
            "at_warning": False,
            "broken": False,
            "reached": "2026-03-02 13:12",
            # incidents (the notice to every affected customer)
            "incident": {"code": "ES5199", "title": _("Flight ES5199 delayed")},
            "new_time": SAMPLE_DUE,
            "message": _("Meals and drinks are served at gate B12."),
            # corrective and preventive actions chased (capa)
            "action": {"pk": 12, "id": 12, "title": _("Fix the delay notification process")},
            "action_kind": _("corrective"),
            "overdue": False,
            "owner": _("Li Lei"),
        }
