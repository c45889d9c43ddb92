"""How the customer's page words things, in the customer's language. Pure functions, no queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from promisedesk.errors import DomainError
from promisedesk.lib.money import format_money, liability_amount

from . import rules

# The timeline as the customer reads it; staff words ("need identification") stay on the desk.
EVENT_LABELS: dict[str, Any] = {
    "case_opened": gettext_lazy("We received your request"),
    "first_response": gettext_lazy("We replied"),
    "progress_update": gettext_lazy("Progress update"),
    "assigned": gettext_lazy("Passed to the team handling it"),
    "appointment_scheduled": gettext_lazy("Appointment booked"),
    "arrived": gettext_lazy("Our staff arrived"),
    "delivered": gettext_lazy("Service delivered"),
    "customer_waiting": gettext_lazy("Waiting for you"),
    "resolved": gettext_lazy("Resolved"),
    "closed": gettext_lazy("Case closed"),
    "reopened": gettext_lazy("Case reopened"),
    "stage_changed": gettext_lazy("Status changed"),
    # the recovery steps of a complaint
    "complaint_acknowledged": gettext_lazy("We acknowledged your complaint"),
    "apology_given": gettext_lazy("We apologised"),
    "solution_offered": gettext_lazy("We offered a solution"),
    "follow_up_done": gettext_lazy("We checked back with you"),
    # an incident that affected this case (a delayed flight, an outage)
    "incident_notice": gettext_lazy("Service notice"),
}

KIND_WORDS: dict[str, Any] = {
    "refund": gettext_lazy("a refund"),
    "voucher": gettext_lazy("a voucher"),
    "discount": gettext_lazy("a discount"),
    "gift": gettext_lazy("a gift"),
    "cash": gettext_lazy("cash"),
    "apology": gettext_lazy("an apology"),
}

SOURCE_WORDS: dict[str, Any] = {
    "claim": gettext_lazy("Your claim"),
    "clock": gettext_lazy("Found by our own clock"),
    "report": gettext_lazy("Reported by our staff"),
    "inspection": gettext_lazy("Found by an inspection"),
    "survey": gettext_lazy("From your survey answer"),
}

BREACH_STATUS: dict[str, Any] = {
    "suspected": gettext_lazy("We are looking into it"),
    "verified": gettext_lazy("Confirmed: we did not keep this promise"),
    "rejected": gettext_lazy("Not accepted"),
}

COMPENSATION_STATUS: dict[str, Any] = {
    "proposed": gettext_lazy("being prepared"),
    "approved": gettext_lazy("approved, on its way"),
    "issued": gettext_lazy("issued"),
    "declined": gettext_lazy("declined"),
}

# Why a promise cannot be claimed from the page (see rules.claim_refusal), and the page's errors.
ERROR_TEXTS: dict[str, Any] = {
    rules.NOT_ON_CASE: gettext_lazy("That promise does not apply to your case, so it cannot be claimed."),
    "promise_not_applicable": gettext_lazy("That promise does not apply to your case, so it cannot be claimed."),
    rules.NOT_IN_FORCE: gettext_lazy("That promise was withdrawn from your case; nothing can be claimed under it."),
    rules.ALREADY_RECORDED: gettext_lazy("This promise is already recorded as not kept; see its status below."),
    "already_breached": gettext_lazy("This promise is already recorded as not kept; see its status below."),
    rules.CLAIM_REJECTED: gettext_lazy(
        "We looked into your claim on this promise and did not accept it. If you see it differently, "
        "write to us below and a manager will review it."
    ),
    rules.NOT_STARTED: gettext_lazy("This promise has not started yet, so it cannot have been broken."),
    rules.NOT_DUE: gettext_lazy("This promise is not due yet. If it is not kept by its due time, you can claim it."),
    rules.ON_HOLD: gettext_lazy("This promise is on hold, so its time has not run out."),
    rules.KEPT: gettext_lazy("We kept this promise on time, so there is nothing to claim."),
    "empty_message": gettext_lazy("Write a message, or attach a file."),
    "not_complainable": gettext_lazy("To tell us what is wrong with how we handle your complaint, write to us below."),
    "too_long": gettext_lazy("That is too long for one message; send it in parts or attach a file."),
    "file_too_large": gettext_lazy("The file is too large: at most %(size)s."),
    "too_large": gettext_lazy("The file is too large: at most %(size)s."),
    "file_type_not_allowed": gettext_lazy(
        "That kind of file is not accepted: send a photo (JPEG, PNG, GIF, WebP, HEIC), a PDF or a plain text file."
    ),
    "too_many_messages": gettext_lazy("You have sent a lot in a short time. Please wait a few minutes and try again."),
    "invalid_form": gettext_lazy("The form was not sent completely. Please reload the page and try again."),
}


def event_label(
    event_type: str, data: dict[str, Any] | None = None, *, moved: bool = False, complaint: bool = False
) -> str:
    """The customer's words for a timeline entry; their own messages, moved appointments and the
    opening of a complaint have their own."""
    if event_type == "case_opened" and complaint:
        return _("We received your complaint")
    if event_type == "customer_replied":
        if (data or {}).get("kind") == "information":
            return _("You added information")
        return _("You wrote")
    if event_type == "appointment_scheduled" and moved:
        return _("Appointment moved")
    label = EVENT_LABELS.get(event_type)
    return str(label) if label is not None else _("Update")


def error_text(exc: DomainError) -> str:
    text = ERROR_TEXTS.get(exc.code)
    if text is None:
        return exc.message
    if exc.code in ("file_too_large", "too_large"):
        return str(text) % {"size": size_text(rules.max_upload_bytes())}
    return str(text)


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return _("%(n)s MB") % {"n": f"{size / (1024 * 1024):.0f}"}
    return _("%(n)s KB") % {"n": f"{max(1, size // 1024)}"}


def duration_text(value: timedelta) -> str:
    """2 h 30 min, 45 min: business time is counted in hours, not days."""
    total_minutes = max(0, int(value.total_seconds() // 60))
    hours, minutes = divmod(total_minutes, 60)
    if hours and minutes:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if hours:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(minutes)d min") % {"minutes": minutes}


def countdown_text(due: datetime, now: datetime) -> str:
    """The time left (or overdue) as first rendered: [D d ]H:MM:SS; portal.js keeps it ticking."""
    seconds = abs(int((due - now).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{days_text() % {'days': days}} {clock}" if days else clock


def days_text() -> str:
    """A number of days, abbreviated ("2 d", "2 天"); portal.js fills in the number the same way."""
    return _("%(days)d d")


def money_text(amount: Any, currency: str) -> str:
    shown = format_money(amount, currency)
    return f"{shown} {currency}" if shown is not None else ""


def liability_text(liability: dict[str, Any] | None, price: Decimal | None, currency: str) -> str:
    """What the customer gets on this case if the promise is broken, with the amount worked out."""
    if not liability:
        return ""
    kind = liability.get("kind", "")
    words = str(KIND_WORDS.get(kind, kind))
    if kind == "apology":
        return words
    pays_in = liability.get("currency") if liability.get("amount") is not None else None
    try:
        amount = liability_amount(liability, price, pays_in or currency)
    except (InvalidOperation, ValueError, TypeError):
        amount = None
    if amount is None:
        return words
    return _("%(kind)s worth %(amount)s") % {"kind": words, "amount": money_text(amount, pays_in or currency)}


def liability_terms(liability: dict[str, Any] | None) -> str:
    if not liability:
        return ""
    if liability.get("verification_required"):
        return _("once we have checked what happened")
    return ""


def window_change_text(old: str, new: str) -> str:
    return _("%(old)s → %(new)s") % {"old": old, "new": new}


def reason_text(reason: str) -> str:
    return _("Why: %(reason)s") % {"reason": reason}
