"""Words and shapes for the CAPA pages: errors in the reader's language, the history's lines,
and the before/after bars of the effectiveness check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from promisedesk.desk import display as desk_display
from promisedesk.errors import DomainError

from .effectiveness import IMPROVED, NOT_DONE, NOT_IMPROVED, TOO_LITTLE_DATA, Effect
from .models import CapaEvent, CorrectiveAction

ERRORS = {
    "forbidden": _("Only the action's owner or a manager may do that."),
    "forbidden:check": _("Only a manager checks whether an action worked."),
    "wrong_status": _("The action has moved on meanwhile: reload to see where it stands."),
    "missing_field:reason": _("Give the reason."),
    "missing_field:note": _("Say what was done (or, for an action that did not work, why and what comes next)."),
    "missing_field:root_cause": _("A corrective action names the root cause it removes."),
    "missing_field:title": _("Give the action a title."),
    "due_in_past": _("The due date must lie in the future."),
    "due_too_far": _("The due date must lie within three years."),
    "unknown_root_cause": _("That root cause is not in the list (or no longer in use)."),
    "unknown_user": _("There is no such member of staff."),
    "unknown_department": _("There is no such department."),
    "not_a_complaint": _("That case is not a complaint."),
    "duplicate": _("A root cause with that code exists already."),
    "not_verified": _("Only a verified breach has a root cause."),
}

VERDICTS = {
    IMPROVED: _("Improved"),
    NOT_IMPROVED: _("Not improved"),
    TOO_LITTLE_DATA: _("Too little data to tell"),
    NOT_DONE: _("Not done yet: the rate so far is the baseline"),
}

EVENTS = {
    "created": _("created"),
    "started": _("started"),
    "completed": _("done"),
    "checked": _("checked"),
    "cancelled": _("cancelled"),
    "owner_changed": _("handed over"),
    "due_changed": _("due date moved"),
    "description_changed": _("description changed"),
    "window_changed": _("comparison window changed"),
    "alert_due_soon": _("reminder sent: three quarters of the time used"),
    "alert_overdue": _("overdue: owner, lead and manager told"),
}


def error_text(exc: DomainError) -> str:
    """The action's error in the reader's language, by code and field first, then by code."""
    text = ERRORS.get(f"{exc.code}:{exc.field}") or ERRORS.get(exc.code)
    if exc.code == "forbidden" and "manager checks" in exc.message:
        text = ERRORS["forbidden:check"]
    return str(text) if text is not None else desk_display.error_text(exc)


def field_of(exc: DomainError, form: forms.Form) -> str | None:
    return exc.field if exc.field in form.fields else None


def cause_name(action: CorrectiveAction, language: str) -> str:
    return action.root_cause.name_in(language) if action.root_cause else ""


@dataclass
class HistoryRow:
    event: CapaEvent
    label: str
    details: list[tuple[str, str]]


def history_row(event: CapaEvent) -> HistoryRow:
    data: dict[str, Any] = event.data or {}
    details: list[tuple[str, str]] = []
    if "before" in data and "after" in data:
        details.append((str(_("from")), str(data["before"])))
        details.append((str(_("to")), str(data["after"])))
    if data.get("to"):
        details.append((str(_("told")), ", ".join(data["to"])))
    if data.get("verdict"):
        details.append((str(_("verdict")), str(data["verdict"]).replace("_", " ")))
    return HistoryRow(event, str(EVENTS.get(event.type, event.type.replace("_", " "))), details)


@dataclass
class Bar:
    """One side of the check as a bar: its label, counts, rate and width (percent of the widest rate)."""

    label: str
    met: int
    breached: int
    percent: float | None
    width: float


def bars(effect: Effect) -> dict[str, Any]:
    sides = [(str(_("Before")), effect.before)]
    if effect.after is not None:
        sides.append((str(_("After")), effect.after))
    widest = max((side.percent or 0.0) for _label, side in sides) or 1.0
    return {
        "rows": [
            Bar(label, s.met, s.breached, s.percent, round(100 * (s.percent or 0.0) / widest, 1)) for label, s in sides
        ],
        "verdict": effect.verdict,
        "verdict_text": str(VERDICTS.get(effect.verdict, effect.verdict)),
    }
