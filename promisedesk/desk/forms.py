"""Desk forms: they check shape and presence only; the actions own every domain rule."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from promisedesk.breaches.actions import REPORTABLE_SOURCES
from promisedesk.breaches.models import CompensationStatus, Source
from promisedesk.breaches.models import Status as BreachStatus
from promisedesk.cases.models import BUILTIN_EVENT_TYPES
from promisedesk.commitments.models import OPEN_STATES
from promisedesk.lib.timerange import day_in_range

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
    mine = forms.BooleanField(required=False)
    department = forms.CharField(required=False, max_length=64)
    assignee = forms.CharField(required=False, max_length=150)

    def __init__(
        self,
        data: Any = None,
        *,
        promise_codes: list[str] | None = None,
        departments: list[str] | None = None,
        staff: list[str] | None = None,
    ) -> None:
        super().__init__(data)
        self.promise_codes = promise_codes or []
        self.departments = departments
        self.staff = staff

    def clean_promise(self) -> str:
        value = self.cleaned_data.get("promise") or ""
        if value and value != "oral" and value not in self.promise_codes:
            raise forms.ValidationError(_("There is no promise with that code."))
        return value

    def clean_department(self) -> str:
        value = self.cleaned_data.get("department") or ""
        if value and self.departments is not None and value not in self.departments:
            raise forms.ValidationError(_("There is no such department."))
        return value

    def clean_assignee(self) -> str:
        value = self.cleaned_data.get("assignee") or ""
        if value and self.staff is not None and value not in self.staff:
            raise forms.ValidationError(_("There is no staff member with that username."))
        return value

    def values(self) -> dict[str, Any]:
        """The valid filters; invalid ones fall back to their defaults."""
        cleaned = self.cleaned_data if self.is_bound else {}
        return {
            "view": cleaned.get("view") or "open",
            "state": cleaned.get("state") or "",
            "promise": cleaned.get("promise") or "",
            "mine": bool(cleaned.get("mine")),
            "department": cleaned.get("department") or "",
            "assignee": cleaned.get("assignee") or "",
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
        widget=forms.TextInput(attrs={"placeholder": _("you"), "autocomplete": "off", "list": "staff-usernames"}),
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


class PromiseCodeField(forms.CharField):
    """A promise code from the catalogue, or "oral" for oral promises; checked by the form that knows the codes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, max_length=64, **kwargs)


class _PromiseFilter(forms.Form):
    promise = PromiseCodeField()

    def __init__(self, data: Any = None, *, promise_codes: list[str] | None = None) -> None:
        super().__init__(data)
        self.promise_codes = promise_codes or []

    def clean_promise(self) -> str:
        value = self.cleaned_data.get("promise") or ""
        if value and value != "oral" and value not in self.promise_codes:
            raise forms.ValidationError(_("There is no promise with that code."))
        return value


def _breach_tab_choices() -> list[tuple[str, Any]]:
    return [*((s.value, s.label) for s in BreachStatus), ("all", _("all"))]


def _source_choices() -> list[tuple[str, Any]]:
    return [("", _("any source")), *Source.choices]


class BreachFilter(_PromiseFilter):
    """The breach queue's GET parameters; a bad value is reported and ignored."""

    status = forms.ChoiceField(required=False, choices=_breach_tab_choices)
    source = forms.ChoiceField(required=False, choices=_source_choices)

    def values(self) -> dict[str, str]:
        cleaned = self.cleaned_data if self.is_bound else {}
        return {
            "status": cleaned.get("status") or BreachStatus.SUSPECTED,
            "source": cleaned.get("source") or "",
            "promise": cleaned.get("promise") or "",
        }


def _compensation_status_choices() -> list[tuple[str, Any]]:
    return [("", _("any status")), *CompensationStatus.choices]


def start_of_day(day: date) -> datetime:
    """Midnight at the start of day in the server's time zone (the zone the ledger's dates are read in)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


class LedgerFilter(_PromiseFilter):
    """The ledger's GET parameters: a period of whole days (both ends included), a promise, a status."""

    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    status = forms.ChoiceField(required=False, choices=_compensation_status_choices)

    def clean_since(self) -> date | None:
        return self._day_in_range(self.cleaned_data.get("since"))

    def clean_until(self) -> date | None:
        return self._day_in_range(self.cleaned_data.get("until"))

    @staticmethod
    def _day_in_range(day: date | None) -> date | None:
        if day is not None and not day_in_range(day):
            raise forms.ValidationError(_("Choose a day between 1972 and 2190."))
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The period ends before it starts."))
        return cleaned

    def values(self) -> dict[str, Any]:
        cleaned = self.cleaned_data if self.is_bound else {}
        return {
            "since": cleaned.get("since"),
            "until": cleaned.get("until"),
            "promise": cleaned.get("promise") or "",
            "status": cleaned.get("status") or "",
        }

    def query(self) -> dict[str, Any]:
        """The filters as filtered_compensations takes them: the period as [since 00:00, the day after until 00:00)."""
        chosen = self.values()
        since, until = chosen["since"], chosen["until"]
        return {
            "since": start_of_day(since) if since else None,
            "until": start_of_day(until + timedelta(days=1)) if until else None,
            "promise": chosen["promise"] or None,
            "status": chosen["status"] or None,
        }


# Forms for the make-good actions. They are rendered by hand (several per page, one per breach)
# and only check shape; the actions own every rule (a root cause to verify, a reason to reject …).


def _report_source_choices() -> list[tuple[str, Any]]:
    return [(value, Source(value).label) for value in REPORTABLE_SOURCES]


class BreachReportForm(forms.Form):
    commitment = forms.IntegerField(
        label=_("Promise"), error_messages={"required": _("Choose the promise that was broken.")}
    )
    source = forms.ChoiceField(label=_("Source"), required=False, choices=_report_source_choices)
    description = forms.CharField(label=_("What happened"), required=False, max_length=5000)

    def cleaned_source(self) -> str:
        return self.cleaned_data.get("source") or Source.CLAIM


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("Verdict"),
        choices=[(BreachStatus.VERIFIED.value, _("verify")), (BreachStatus.REJECTED.value, _("reject"))],
    )
    root_cause = forms.CharField(label=_("Root cause"), required=False, max_length=64)
    note = forms.CharField(label=_("Note"), required=False, max_length=5000)


class RootCauseForm(forms.Form):
    root_cause = forms.CharField(label=_("Root cause"), required=False, max_length=64)


class ApproveForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), required=False, min_value=0, max_digits=14, decimal_places=3)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class IssueForm(forms.Form):
    reference = forms.CharField(label=_("Reference"), required=False, max_length=100)


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)


def errors_text(form: forms.Form) -> str:
    """A hand-rendered form's errors as one sentence per field: "Amount: Enter a number." """
    parts: list[str] = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        parts.extend(f"{label}: {e}" if label else str(e) for e in errors)
    return " ".join(parts)


__all__ = [
    "ApproveForm",
    "BreachFilter",
    "BreachReportForm",
    "DeclineForm",
    "EventForm",
    "IssueForm",
    "LedgerFilter",
    "OralPromiseForm",
    "QueueFilter",
    "RootCauseForm",
    "VerdictForm",
    "errors_text",
]
