"""How the desk words things: event labels, liabilities, durations, marks and error sentences.

Pure functions over model instances and plain values; no queries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.dateformat import format as date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from promisedesk.cases.models import Channel
from promisedesk.commitments.models import OPEN_STATES, Commitment, State
from promisedesk.errors import DomainError
from promisedesk.lib.durations import parse_duration

EVENT_LABELS: dict[str, Any] = {
    "case_opened": gettext_lazy("case opened"),
    "first_response": gettext_lazy("first response"),
    "progress_update": gettext_lazy("progress update"),
    "assigned": gettext_lazy("assigned"),
    "appointment_scheduled": gettext_lazy("appointment scheduled"),
    "arrived": gettext_lazy("arrived"),
    "delivered": gettext_lazy("delivered"),
    "customer_waiting": gettext_lazy("waiting for the customer"),
    "customer_replied": gettext_lazy("customer replied"),
    "resolved": gettext_lazy("resolved"),
    "closed": gettext_lazy("closed"),
    "reopened": gettext_lazy("reopened"),
    "promise_at_risk": gettext_lazy("promise at risk"),
    "promise_breached": gettext_lazy("promise breached"),
    "clock_recomputed": gettext_lazy("clock recomputed"),
    "commitment_recorded": gettext_lazy("oral promise recorded"),
    "commitment_fulfilled": gettext_lazy("promise marked kept"),
    "commitment_cancelled": gettext_lazy("promise withdrawn"),
}

LIABILITY_KINDS: dict[str, Any] = {
    "refund": gettext_lazy("refund"),
    "voucher": gettext_lazy("voucher"),
    "discount": gettext_lazy("discount"),
    "gift": gettext_lazy("gift"),
    "cash": gettext_lazy("cash"),
    "apology": gettext_lazy("apology"),
}

BREACH_BY: dict[str, Any] = {
    "clock": gettext_lazy("the clock runs out"),
    "verified_report": gettext_lazy("a verified report"),
    "survey": gettext_lazy("a survey answer"),
    "inspection": gettext_lazy("an inspection"),
    "claim": gettext_lazy("a customer claim"),
}

# DomainError codes the desk can say in the reader's language; others show the action's own sentence.
ERROR_TEXTS: dict[str, Any] = {
    "invalid_event_type": gettext_lazy(
        "An event type is lower_snake_case: small letters, digits and underscores, starting with a letter."
    ),
    "reserved_event_type": gettext_lazy("promisedesk records this event type itself; it cannot be added by hand."),
    "in_future": gettext_lazy("The time cannot lie in the future."),
    "before_previous_event": gettext_lazy("The event cannot be dated before the previous one."),
    "unknown_user": gettext_lazy("There is no staff member with that username."),
    "in_past": gettext_lazy("An oral promise must fall due after now."),
    "invalid_duration": gettext_lazy("The time allowed must be longer than zero."),
    "not_open": gettext_lazy("This promise is no longer open."),
}


DATA_LABELS: dict[str, Any] = {
    "channel": gettext_lazy("channel"),
    "start": gettext_lazy("from"),
    "end": gettext_lazy("until"),
    "promise_code": gettext_lazy("promise"),
    "statement": gettext_lazy("promise"),
    "state": gettext_lazy("state"),
    "reason": gettext_lazy("reason"),
}


def data_label(key: str) -> str:
    label = DATA_LABELS.get(key)
    return str(label) if label is not None else key


def data_value(key: str, value: Any) -> str:
    """A value from an event's data; ISO times are shown in the current time zone, channels in words."""
    if key == "channel" and value in Channel.values:
        return str(Channel(value).label)
    if not isinstance(value, str):
        return str(value)
    if len(value) >= 16 and value[10:11] == "T":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return date_format(localtime(moment), "Y-m-d H:i")
    return value


def event_label(event_type: str) -> str:
    """The words for a built-in or system event type; a custom type is shown as typed."""
    label = EVENT_LABELS.get(event_type)
    return str(label) if label is not None else event_type


def error_text(exc: DomainError) -> str:
    text = ERROR_TEXTS.get(exc.code)
    return str(text) if text is not None else exc.message


def display_timezone(commitment: Commitment) -> str:
    """A clock's times are shown in its calendar's zone; round-the-clock ones in the server's."""
    if commitment.calendar_id is not None and commitment.calendar is not None:
        return commitment.calendar.timezone
    return settings.TIME_ZONE


def mark(commitment: Commitment, now: datetime) -> str:
    """ "breached" once the due time has passed (even before the sweeper records it),
    "at_risk" from the warning time until then, else ""."""
    if commitment.state == State.BREACHED:
        return "breached"
    if commitment.state not in OPEN_STATES or commitment.due_at is None:
        return ""
    if commitment.due_at <= now:
        return "breached"
    if commitment.warn_at is not None and commitment.warn_at <= now:
        return "at_risk"
    return ""


def duration_text(value: timedelta) -> str:
    """4 h 30 min, 24 h, 45 min: hours rather than days, as business time is counted."""
    total_minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(total_minutes, 60)
    if hours and minutes:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if hours:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(minutes)d min") % {"minutes": minutes}


def countdown_text(due: datetime | None, now: datetime) -> str:
    """The countdown as first rendered (H:MM:SS, a minus sign once overdue); countdown.js keeps it ticking."""
    if due is None:
        return ""
    seconds = int((due - now).total_seconds())
    sign = "−" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"


def target_text(standard: dict[str, Any] | None) -> str:
    target = (standard or {}).get("target")
    if not target:
        return ""
    try:
        return duration_text(parse_duration(target))
    except ValueError:
        return str(target)


def _money(amount: str, currency: str | None) -> str:
    return f"{amount} {currency}" if currency else amount


def liability_text(liability: dict[str, Any] | None) -> str:
    """One line saying what the customer gets when the promise is broken."""
    if not liability:
        return _("none")
    kind = liability.get("kind", "")
    parts = [str(LIABILITY_KINDS.get(kind, kind))]
    currency = liability.get("currency")
    if liability.get("amount") is not None:
        parts.append(_money(liability["amount"], currency))
    elif liability.get("percent_of_price") is not None:
        parts.append(_("%(percent)s%% of the price") % {"percent": liability["percent_of_price"]})
    elif liability.get("multiple_of_price") is not None:
        parts.append(_("%(multiple)s× the price") % {"multiple": liability["multiple_of_price"]})
    if liability.get("cap") is not None:
        parts.append(_("at most %(cap)s") % {"cap": _money(liability["cap"], currency)})
    if liability.get("verification_required"):
        parts.append(_("once verified"))
    parts.append(_("paid automatically") if liability.get("automatic") else _("on claim"))
    return " · ".join(parts)


def applies_text(applies_to: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(what, which) pairs; an empty list in applies_to means every value."""
    rules = applies_to or {}
    names = (
        ("services", _("services")),
        ("channels", _("channels")),
        ("customer_tiers", _("customer tiers")),
        ("priorities", _("priorities")),
    )
    return [(label, ", ".join(rules.get(key) or []) or _("all")) for key, label in names]


def events_text(values: list[str] | None) -> str:
    return ", ".join(event_label(v) for v in values or []) or "—"


def breach_by_text(value: str | None) -> str:
    if not value:
        return ""
    label = BREACH_BY.get(value)
    return str(label) if label is not None else value
