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

from promisedesk.breaches.models import KIND_LABELS, Source
from promisedesk.cases.models import Channel, Stage
from promisedesk.commitments.models import OPEN_STATES, Commitment, State
from promisedesk.errors import DomainError
from promisedesk.lib.durations import parse_duration
from promisedesk.lib.money import format_money

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
    "internal_note": gettext_lazy("internal note"),
    "stage_changed": gettext_lazy("stage changed"),
    "promise_at_risk": gettext_lazy("promise at risk"),
    "promise_breached": gettext_lazy("promise breached"),
    "clock_recomputed": gettext_lazy("clock recomputed"),
    "commitment_recorded": gettext_lazy("oral promise recorded"),
    "commitment_fulfilled": gettext_lazy("promise marked kept"),
    "commitment_cancelled": gettext_lazy("promise withdrawn"),
    "breach_reported": gettext_lazy("breach reported"),
    "breach_verified": gettext_lazy("breach verified"),
    "breach_rejected": gettext_lazy("breach rejected"),
    "breach_root_caused": gettext_lazy("root cause named"),
    "compensation_proposed": gettext_lazy("compensation proposed"),
    "compensation_approved": gettext_lazy("compensation approved"),
    "compensation_issued": gettext_lazy("compensation issued"),
    "compensation_declined": gettext_lazy("compensation declined"),
    "escalated": gettext_lazy("escalated"),
    "escalation_skipped": gettext_lazy("escalation skipped"),
    "customer_request": gettext_lazy("customer's request"),
    "complaint_acknowledged": gettext_lazy("complaint acknowledged"),
    "apology_given": gettext_lazy("apology given"),
    "solution_offered": gettext_lazy("solution offered"),
    "follow_up_done": gettext_lazy("followed up"),
    "complaint_root_caused": gettext_lazy("complaint's root cause named"),
    "incident_attached": gettext_lazy("attached to an incident"),
    "incident_notice": gettext_lazy("incident notice sent"),
}

# The timeline entries that belong to a breach's history (and change the make-good section).
MAKEGOOD_EVENTS = frozenset(
    {
        "promise_breached",
        "breach_reported",
        "breach_verified",
        "breach_rejected",
        "breach_root_caused",
        "compensation_proposed",
        "compensation_approved",
        "compensation_issued",
        "compensation_declined",
    }
)

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
    # working a case
    "invalid_stage": gettext_lazy("Choose one of the stages."),
    "unknown_substatus": gettext_lazy("That sub-status does not belong to the stage."),
    "unknown_department": gettext_lazy("There is no such department."),
    "unknown_user:assignee": gettext_lazy("There is no staff member with that username."),
    "not_a_member": gettext_lazy("That person is not a member of the department. Choose someone from it."),
    "reason_required": gettext_lazy("Say why the appointment moves: the customer is told."),
    "end_before_start": gettext_lazy("The appointment ends before it starts."),
    "internal_note_visible": gettext_lazy("An internal note is never shown to the customer."),
    "missing_field:text": gettext_lazy("Write something first."),
    "too_large": gettext_lazy("A file may be at most 10 MB."),
    "too_many_files": gettext_lazy("Attach at most 5 files at a time."),
    "invalid_timezone": gettext_lazy("That is not a time zone. Use a name like Asia/Shanghai or Europe/London."),
    "invalid_preferences": gettext_lazy(
        "Preferences are short names with a text, a number or true/false; this one was not understood."
    ),
    "invalid:tier": gettext_lazy("A tier is a name of 1 to 40 characters."),
    "invalid_email": gettext_lazy("That is not an email address."),
    "missing_field:name": gettext_lazy("A new customer needs a name."),
    "missing_field:phone": gettext_lazy("A new customer needs a phone number or an email address."),
    "invalid_channel": gettext_lazy("Say whether they called or came in."),
    "unknown_service": gettext_lazy("There is no such service."),
    "missing_field:customer": gettext_lazy("Choose a customer from the list or enter a new one."),
    # breaches and make-good
    "invalid_source": gettext_lazy(
        "Choose where the report comes from: a claim, a staff report, an inspection or a survey."
    ),
    "not_on_case": gettext_lazy("That promise is not on this case."),
    "promise_not_applicable": gettext_lazy("That promise does not apply to this case."),
    "not_in_force": gettext_lazy("That promise was withdrawn from the case; nothing is owed under it."),
    "already_breached": gettext_lazy("This promise is already recorded as broken on the case."),
    "missing_field:root_cause": gettext_lazy("Choose the root cause before verifying the breach."),
    "unknown_root_cause": gettext_lazy("That root cause is not in the list (or no longer in use)."),
    "missing_field:note": gettext_lazy("Say why the breach is rejected: the customer is told the reason."),
    "already_decided": gettext_lazy("This breach already has its verdict."),
    "not_verified": gettext_lazy("Only a verified breach has a root cause."),
    "not_proposed": gettext_lazy("This compensation was already approved, issued or declined."),
    "currency_mismatch": gettext_lazy("The compensation is paid in the case's currency."),
    "invalid_amount": gettext_lazy("An amount cannot be negative."),
    "missing_field:amount": gettext_lazy("No amount could be computed for this compensation: enter it to approve."),
    "not_approved": gettext_lazy("Only an approved compensation can be issued."),
    "missing_field:reason": gettext_lazy("Say why the compensation is declined: the customer is told the reason."),
    "already_final": gettext_lazy("This compensation was already issued or declined."),
}


DATA_LABELS: dict[str, Any] = {
    "channel": gettext_lazy("channel"),
    "start": gettext_lazy("from"),
    "end": gettext_lazy("until"),
    "promise_code": gettext_lazy("promise"),
    "statement": gettext_lazy("promise"),
    "state": gettext_lazy("state"),
    "reason": gettext_lazy("reason"),
    "breach": gettext_lazy("breach"),
    "compensation": gettext_lazy("compensation"),
    "source": gettext_lazy("source"),
    "root_cause": gettext_lazy("root cause"),
    "kind": gettext_lazy("kind"),
    "amount": gettext_lazy("amount"),
    "reference": gettext_lazy("reference"),
    "by": gettext_lazy("by"),
    "note": gettext_lazy("note"),
    "automatic": gettext_lazy("automatic"),
    "from": gettext_lazy("from stage"),
    "to": gettext_lazy("to stage"),
    "substatus": gettext_lazy("sub-status"),
    "department": gettext_lazy("department"),
    "assignee": gettext_lazy("person"),
    "from_department": gettext_lazy("before: department"),
    "from_assignee": gettext_lazy("before: person"),
    "previous_start": gettext_lazy("was from"),
    "previous_end": gettext_lazy("was until"),
}


def data_label(key: str) -> str:
    label = DATA_LABELS.get(key)
    return str(label) if label is not None else key


def data_value(key: str, value: Any) -> str:
    """A value from an event's data; ISO times are shown in the current time zone, channels in words."""
    if key == "channel" and value in Channel.values:
        return str(Channel(value).label)
    if key in ("breach", "compensation") and isinstance(value, int):
        return f"#{value}"
    if key == "source" and value in Source.values:
        return str(Source(value).label)
    if key == "kind" and value in KIND_LABELS:
        return str(KIND_LABELS[value])
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
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
    """The words for a built-in or system event type, or for reaching a stage (stage_delivery, as a
    promise's standard names it); a custom type is shown as typed."""
    label = EVENT_LABELS.get(event_type)
    if label is not None:
        return str(label)
    stage = event_type.removeprefix("stage_")
    if stage != event_type and stage in Stage.values:
        return _("reaching %(stage)s") % {"stage": Stage(stage).label}
    return event_type


def error_text(exc: DomainError) -> str:
    """The error in the reader's language: by code and field first (one code can mean several things), then by code."""
    text = ERROR_TEXTS.get(f"{exc.code}:{exc.field}") or ERROR_TEXTS.get(exc.code)
    return str(text) if text is not None else exc.message


def above_limit_text(amount: str, limit: str) -> str:
    return _("%(amount)s is above your approval limit of %(limit)s: ask a team lead or manager to approve it.") % {
        "amount": amount,
        "limit": limit,
    }


CLOCK_DESCRIPTION = "the clock ran out"  # what the clock writes on the breaches it finds


def breach_description(source: str, description: str) -> str:
    if source == Source.CLOCK and description == CLOCK_DESCRIPTION:
        return _("The clock ran out before the promise was kept.")
    return description


def money_text(amount: Any, currency: str) -> str:
    """136.00 CNY, to the currency's minor unit; "" when there is no amount yet."""
    shown = format_money(amount, currency)
    return f"{shown} {currency}" if shown is not None else ""


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
