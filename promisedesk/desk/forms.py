"""Desk forms: they check shape and presence only; the actions own every domain rule."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from promisedesk.cases.models import BUILTIN_EVENT_TYPES
from promisedesk.commitments.models import OPEN_STATES

from .display import event_label
from .selectors import QUEUE_VIEWS

# case_opened is written when a case is opened; the action refuses it by hand.
HAND_EVENT_TYPES = tuple(t for t in BUILTIN_EVENT_TYPES if t != "case_opened")
MAX_ORAL_MINUTES = 60 * 24 * 366


def _view_choices() -> list[tuple[str, Any]]:
    views = {"open": _("Open"), "at_risk": _("At risk"), "breached": _("Recently breached")}
    return [(v, views[v]) for v in QUEUE_VIEWS]


def _state_choices() -> list[tuple[str, Any]]:
    return [("", _("any state")), *((s.value, s.label) for s in OPEN_STATES)]


def _event_choices() -> list[tuple[str, Any]]:
    return [("", _("— choose —")), *((t, event_label(t)) for t in HAND_EVENT_TYPES)]


class QueueFilter(forms.Form):
    """The queue's GET parameters; a bad value is reported and ignored, never an error page."""

    view = forms.ChoiceField(required=False, choices=_view_choices)
    state = forms.ChoiceField(required=False, choices=_state_choices)
    promise = forms.CharField(required=False, max_length=64)

    def __init__(self, data: Any = None, *, promise_codes: list[str] | None = None) -> None:
        super().__init__(data)
        self.promise_codes = promise_codes or []

    def clean_promise(self) -> str:
        value = self.cleaned_data.get("promise") or ""
        if value and value != "oral" and value not in self.promise_codes:
            raise forms.ValidationError(_("There is no promise with that code."))
        return value

    def values(self) -> dict[str, str]:
        """The valid filters; invalid ones fall back to their defaults."""
        cleaned = self.cleaned_data if self.is_bound else {}
        return {
            "view": cleaned.get("view") or "open",
            "state": cleaned.get("state") or "",
            "promise": cleaned.get("promise") or "",
        }


class EventForm(forms.Form):
    type = forms.ChoiceField(label=_("Event"), required=False, choices=_event_choices)
    custom_type = forms.CharField(
        label=_("or a custom type"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": "site_survey_done", "autocomplete": "off"}),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen, custom = cleaned.get("type") or "", (cleaned.get("custom_type") or "").strip()
        if chosen and custom:
            raise forms.ValidationError(_("Choose an event or type a custom one, not both."))
        if not chosen and not custom:
            raise forms.ValidationError(_("Choose an event or type a custom one."))
        cleaned["event_type"] = chosen or custom
        return cleaned


class OralPromiseForm(forms.Form):
    statement = forms.CharField(
        label=_("What was promised"),
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": _("Call back about the pool opening time")}),
    )
    minutes = forms.IntegerField(label=_("Due in (minutes)"), required=False, min_value=1, max_value=MAX_ORAL_MINUTES)
    due_at = forms.DateTimeField(
        label=_("or due at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    owner = forms.CharField(
        label=_("Owner (username)"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"placeholder": _("you"), "autocomplete": "off"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        has_minutes, has_due = cleaned.get("minutes") is not None, cleaned.get("due_at") is not None
        if has_minutes == has_due:
            raise forms.ValidationError(_("Give either the minutes until it is due or a due time, not both."))
        return cleaned

    def due(self) -> tuple[datetime | None, timedelta | None]:
        """(due_at, target) for do_record_oral_commitment: exactly one is set."""
        minutes = self.cleaned_data.get("minutes")
        if minutes is not None:
            return None, timedelta(minutes=minutes)
        return self.cleaned_data["due_at"], None

    # DomainError fields of the action, as fields of this form.
    ACTION_FIELDS = {"due_at": "due_at", "target": "minutes", "owner": "owner", "statement": "statement"}


__all__ = ["EventForm", "OralPromiseForm", "QueueFilter"]
