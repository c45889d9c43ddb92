"""Desk forms for the outbox: they check shape only; the actions own every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from promisedesk.cases.models import BUILTIN_EVENT_TYPES

from .models import Channel, OutboxStatus
from .templating import MAX_SUBJECT_SOURCE

# Events connected systems are sent as they happen (see notifications/events.py).
KNOWN_WEBHOOK_EVENTS = ("case.received", *(f"case.{t}" for t in BUILTIN_EVENT_TYPES))


class OutboxFilter(forms.Form):
    """The outbox list's GET parameters; a bad value is reported and left out, never an error page."""

    status = forms.ChoiceField(required=False, choices=[("", _("any status")), *OutboxStatus.choices])
    channel = forms.ChoiceField(required=False, choices=[("", _("any channel")), *Channel.choices])
    event = forms.CharField(required=False, max_length=64)
    case = forms.IntegerField(required=False, min_value=1, max_value=2**62)

    def values(self) -> dict[str, Any]:
        """The valid filters, None for the others."""
        cleaned = self.cleaned_data if self.is_bound else {}
        return {name: cleaned.get(name) or None for name in self.fields}


class TemplateForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), required=False, max_length=MAX_SUBJECT_SOURCE)
    body = forms.CharField(label=_("Body"), widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}))


class EndpointForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.CharField(label=_("URL"), max_length=500)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen means every event."),
    )
    other_events = forms.CharField(
        label=_("Other events"),
        required=False,
        max_length=2000,
        help_text=_("Further event names, separated by commas, e.g. case.inspection_done"),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    rotate_secret = forms.BooleanField(label=_("Give it a new signing secret"), required=False)

    def __init__(self, *args: Any, chosen: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = list(dict.fromkeys([*KNOWN_WEBHOOK_EVENTS, *(chosen or [])]))
        events = self.fields["events"]
        assert isinstance(events, forms.MultipleChoiceField)
        events.choices = [(name, name) for name in names]

    def event_names(self) -> list[str]:
        """The chosen events and the other names typed in, as one list."""
        typed = [name.strip() for name in self.cleaned_data.get("other_events", "").split(",")]
        return [*self.cleaned_data.get("events", []), *(name for name in typed if name)]
