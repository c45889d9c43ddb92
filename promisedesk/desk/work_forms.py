"""Forms for working a case on the desk (stage, assignment, notes, appointment, profile), for logging
a phone call or a walk-in, and for naming stages. They check shape only; the case actions own the rules."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from promisedesk.cases.actions import MAX_SUBSTATUSES
from promisedesk.cases.models import Channel, Locale, Stage

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class PageForm(forms.Form):
    """A form sharing its page with others: its ids start with its own prefix (stage_note, assign_note),
    so no two fields on the page share an id, while the names it posts stay plain."""

    prefix_id = "form"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.prefix_id}_%s")
        super().__init__(*args, **kwargs)


def _datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class StageForm(PageForm):
    """One choice, "stage" or "stage:substatus", from a list grouped by stage (no script needed)."""

    prefix_id = "stage"

    move_to = forms.CharField(label=_("Move to"), max_length=100)
    # A stage move is news the customer is told, so its note goes to them: say so where it is typed.
    note = forms.CharField(label=_("Message to the customer (optional; sent to them)"), required=False, max_length=5000)

    def target(self) -> tuple[str, str]:
        stage, _sep, substatus = self.cleaned_data["move_to"].partition(":")
        return stage, substatus


class AssignForm(PageForm):
    prefix_id = "assign"
    department = forms.CharField(label=_("Department"), required=False, max_length=64)
    assignee = forms.CharField(label=_("Person"), required=False, max_length=150)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=5000,
        widget=forms.TextInput(attrs={"placeholder": _("Why, for whoever picks it up")}),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; Django's FileField takes one."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class NoteForm(PageForm):
    """The composer: an internal note for colleagues, or an update the customer sees and is sent."""

    prefix_id = "note"

    INTERNAL, CUSTOMER = "internal", "customer"
    audience = forms.ChoiceField(
        label=_("Who sees it"),
        choices=[(INTERNAL, _("Internal note")), (CUSTOMER, _("Update to the customer"))],
        initial=INTERNAL,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(label=_("Text"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    upload = MultipleFileField(label=_("Attach files"), required=False)

    @property
    def to_customer(self) -> bool:
        return self.cleaned_data.get("audience") == self.CUSTOMER


class AppointmentForm(PageForm):
    prefix_id = "appt"
    start = forms.DateTimeField(label=_("From"), input_formats=DATETIME_FORMATS, widget=_datetime_input())
    end = forms.DateTimeField(label=_("Until"), input_formats=DATETIME_FORMATS, widget=_datetime_input())
    reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": _("Told to the customer")}),
    )

    def window(self) -> tuple[datetime, datetime]:
        return self.cleaned_data["start"], self.cleaned_data["end"]


class ProfileForm(PageForm):
    """Tier, time zone and preferences as "name: value" lines (true/false for yes and no)."""

    prefix_id = "profile"

    # Offered as suggestions; any IANA zone is accepted.
    common_zones = (
        "Asia/Shanghai",
        "Asia/Hong_Kong",
        "Asia/Taipei",
        "Asia/Tokyo",
        "Asia/Singapore",
        "Europe/London",
        "Europe/Paris",
        "Europe/Berlin",
        "America/New_York",
        "America/Los_Angeles",
        "Australia/Sydney",
        "UTC",
    )

    tier = forms.CharField(label=_("Tier"), max_length=40)
    timezone = forms.CharField(
        label=_("Time zone"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"list": "timezones", "placeholder": "Asia/Shanghai", "autocomplete": "off"}),
    )
    preferences = forms.CharField(
        label=_("Preferences"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "pillow: buckwheat\nquiet_room: true"}),
        help_text=_("One per line: name: value"),
    )

    def clean_preferences(self) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        for number, line in enumerate((self.cleaned_data.get("preferences") or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, colon, value = line.partition(":")
            if not colon or not name.strip():
                raise forms.ValidationError(
                    _("Line %(number)d: write name: value."), params={"number": number}, code="line"
                )
            parsed[name.strip()] = _typed(value.strip())
        return parsed


def _typed(value: str) -> Any:
    return {"true": True, "false": False}.get(value.lower(), value)


def preferences_text(preferences: dict[str, Any]) -> str:
    """Preferences as the form shows them: one "name: value" line each."""
    lines = []
    for name, value in (preferences or {}).items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def new_form_key() -> str:
    """The key a logging form carries, so the same form sent twice opens one case."""
    return secrets.token_urlsafe(12)


class LogContactForm(PageForm):
    """A phone call or walk-in: who, about which service, what they asked; the button says which channel."""

    prefix_id = "log"

    key = forms.CharField(widget=forms.HiddenInput, max_length=32, required=False)
    q = forms.CharField(
        label=_("Find the customer"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, phone or email"), "autocomplete": "off", "autofocus": True}
        ),
    )
    customer = forms.IntegerField(required=False, min_value=1, max_value=2**62)
    new_name = forms.CharField(label=_("Name"), required=False, max_length=200)
    new_phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    new_email = forms.CharField(label=_("Email"), required=False, max_length=254)
    new_locale = forms.ChoiceField(label=_("Language"), required=False, choices=Locale.choices)
    service = forms.ChoiceField(label=_("Service"))
    summary = forms.CharField(
        label=_("What they asked"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("In their words, briefly")}),
    )
    department = forms.ChoiceField(label=_("Pass to (optional)"), required=False)
    channel = forms.ChoiceField(
        choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.WALK_IN, Channel.WALK_IN.label)]
    )

    def __init__(self, *args: Any, services: list[tuple[str, str]], departments: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["service"]).choices = [("", _("— choose —")), *services]
        cast(forms.ChoiceField, self.fields["department"]).choices = [("", _("nobody yet")), *departments]
        self.fields["channel"].error_messages["required"] = _("Say whether they called or came in.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = cleaned.get("customer")
        new = any(cleaned.get(f) for f in ("new_name", "new_phone", "new_email"))
        if chosen and new:
            raise forms.ValidationError(_("Choose a customer from the list or enter a new one, not both."))
        if not chosen and not new:
            raise forms.ValidationError(_("Choose a customer from the list or enter a new one."))
        return cleaned

    def new_customer(self) -> dict[str, str] | None:
        if self.cleaned_data.get("customer"):
            return None
        return {
            "name": self.cleaned_data.get("new_name") or "",
            "phone": self.cleaned_data.get("new_phone") or "",
            "email": self.cleaned_data.get("new_email") or "",
            "locale": self.cleaned_data.get("new_locale") or Locale.ZH_HANS,
        }

    # DomainError fields of the action, as fields of this form.
    ACTION_FIELDS = {
        "name": "new_name",
        "phone": "new_phone",
        "email": "new_email",
        "service": "service",
        "department": "department",
        "summary": "summary",
        "customer": None,
    }


class StageLabelForm(PageForm):
    """The organisation's name for a stage, for all services or one, and its sub-statuses, one per line."""

    prefix_id = "label"

    service = forms.CharField(label=_("Service"), required=False, max_length=64)
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    label_en = forms.CharField(label=_("Name in English"), required=False, max_length=100)
    label_zh_hans = forms.CharField(label=_("Name in Chinese"), required=False, max_length=100)
    substatuses = forms.CharField(
        label=_("Sub-statuses"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "waiting_parts | Waiting for parts | 等待配件"}),
        help_text=_("One per line: code | English | Chinese"),
    )

    def clean_substatuses(self) -> list[dict[str, str]]:
        items = []
        for line in (self.cleaned_data.get("substatuses") or "").splitlines():
            if line.strip():
                code, en, zh = [*(part.strip() for part in line.split("|")), "", ""][:3]
                items.append({"code": code, "label_en": en, "label_zh_hans": zh})
        if len(items) > MAX_SUBSTATUSES:
            raise forms.ValidationError(_("At most %(count)d sub-statuses."), params={"count": MAX_SUBSTATUSES})
        return items


def substatuses_text(items: list[dict[str, str]]) -> str:
    """Sub-statuses as the form shows them: "code | English | Chinese" lines (an empty name keeps its place)."""
    lines = []
    for item in items:
        parts = [item["code"], item["label_en"], item["label_zh_hans"]]
        while parts[-1] == "" and len(parts) > 1:
            parts.pop()
        lines.append(" | ".join(parts))
    return "\n".join(lines)
