"""The desk's CAPA forms: a new action, moving one along, editing one, root causes and the board's filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from promisedesk.accounts.models import Department
from promisedesk.promises.models import Promise

from .models import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS, Kind, Verdict


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


def staff_choices() -> list[tuple[str, str]]:
    people = User.objects.filter(is_active=True, is_staff=True).order_by("username")
    return [(u.username, f"{u.get_full_name()} ({u.username})" if u.get_full_name() else u.username) for u in people]


def department_choices() -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in Department.objects.order_by("name")]


def promise_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in Promise.objects.order_by("code").values_list("code", flat=True)]


def _aware(value: datetime | None) -> datetime | None:
    """A datetime-local value read in the desk's time zone."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


class ActionForm(forms.Form):
    """A new action; the links (breach, incident, complaint) travel as hidden fields from where it was opened."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.CORRECTIVE)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("What will change"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    root_cause = forms.ChoiceField(label=_("Root cause"), required=False)
    promise = forms.ChoiceField(label=_("Promise it should improve"), required=False)
    owner = forms.ChoiceField(label=_("Owner"))
    department = forms.ChoiceField(label=_("Department"), required=False)
    due_at = forms.DateTimeField(label=_("Due"), widget=LocalDateTimeInput())
    window_days = forms.IntegerField(
        label=_("Compare days before and after"), min_value=1, max_value=MAX_WINDOW_DAYS, initial=DEFAULT_WINDOW_DAYS
    )
    breach = forms.IntegerField(required=False, widget=forms.HiddenInput)
    incident = forms.IntegerField(required=False, widget=forms.HiddenInput)
    complaint_case = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, root_causes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        none = [("", _("— none —"))]
        self.fields["root_cause"].choices = [("", _("— choose —")), *root_causes]  # type: ignore[attr-defined]
        self.fields["promise"].choices = none + promise_choices()  # type: ignore[attr-defined]
        self.fields["owner"].choices = staff_choices()  # type: ignore[attr-defined]
        self.fields["department"].choices = [("", _("— the owner's —")), *department_choices()]  # type: ignore[attr-defined]

    def clean_due_at(self) -> datetime | None:
        return _aware(self.cleaned_data.get("due_at"))


class CompleteForm(forms.Form):
    note = forms.CharField(label=_("What was done"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class CheckForm(forms.Form):
    verdict = forms.ChoiceField(label=_("Verdict"), choices=Verdict.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why cancel it"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class EditForm(forms.Form):
    """Hand over, move the due date (with the reason), reword, change the comparison window."""

    owner = forms.ChoiceField(label=_("Owner"))
    due_at = forms.DateTimeField(label=_("Due"), widget=LocalDateTimeInput())
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=2000)
    description = forms.CharField(label=_("What will change"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    window_days = forms.IntegerField(label=_("Compare days before and after"), min_value=1, max_value=MAX_WINDOW_DAYS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = staff_choices()  # type: ignore[attr-defined]

    def clean_due_at(self) -> datetime | None:
        return _aware(self.cleaned_data.get("due_at"))


class CategoriseForm(forms.Form):
    root_cause = forms.CharField(label=_("Root cause"), max_length=64)


class RootCauseForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=64)
    name_en = forms.CharField(label=_("Name in English"), max_length=200)
    name_zh = forms.CharField(label=_("Name in Chinese"), max_length=200)


class BoardFilter(forms.Form):
    """The board's filters: mine only, a department, a promise. Bad values are reported and left out."""

    mine = forms.BooleanField(label=_("Mine only"), required=False)
    department = forms.ChoiceField(label=_("Department"), required=False)
    promise = forms.ChoiceField(label=_("Promise"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everyone = [("", _("All"))]
        self.fields["department"].choices = everyone + department_choices()  # type: ignore[attr-defined]
        self.fields["promise"].choices = everyone + promise_choices()  # type: ignore[attr-defined]

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "mine": bool(data.get("mine")),
            "department": data.get("department") or "",
            "promise": data.get("promise") or "",
        }


PERIODS = (("7", _("7 days")), ("30", _("30 days")), ("90", _("90 days")), ("365", _("a year")), ("all", _("all")))


class PendingFilter(forms.Form):
    period = forms.ChoiceField(label=_("Detected in the last"), choices=PERIODS, required=False)
    promise = forms.ChoiceField(label=_("Promise"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["promise"].choices = [("", _("All")), *promise_choices()]  # type: ignore[attr-defined]

    def values(self) -> dict[str, str]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {"period": data.get("period") or "90", "promise": data.get("promise") or ""}
