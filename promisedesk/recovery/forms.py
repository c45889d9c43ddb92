"""The desk's incident forms: declaring, attaching, telling, compensating, force majeure."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from promisedesk.breaches.models import KIND_LABELS
from promisedesk.cases.models import Channel, Service, Stage

from . import references

LOCAL_TIME = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class LocalTime(forms.DateTimeField):
    """A date and time typed in the desk's time zone (the browser's datetime-local input)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(input_formats=LOCAL_TIME, **kwargs)


class DeclareForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    code = forms.RegexField(
        label=_("Reference"),
        regex=r"^[A-Za-z0-9_.\-]*$",
        max_length=40,
        required=False,
        help_text=_("Short, e.g. a flight number and date; left empty, one is made."),
    )
    reason = forms.CharField(
        label=_("Reason customers are told"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )
    reason_en = forms.CharField(
        label=_("The reason in English (if it differs)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        required=False,
    )
    starts_at = LocalTime(label=_("Starts"))
    ends_at = LocalTime(label=_("Ends"), required=False, help_text=_("Empty while it is still going on."))
    new_time = LocalTime(label=_("New time given to customers"), required=False)
    services = forms.ModelMultipleChoiceField(
        label=_("Services affected"),
        queryset=Service.objects.order_by("code"),
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    locations = forms.CharField(
        label=_("Locations"), required=False, max_length=2000, help_text=_("Separated by commas, e.g. PVG, CTU.")
    )

    def cleaned(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["services"] = [service.code for service in data["services"]]
        data["locations"] = [place.strip() for place in (data["locations"] or "").split(",") if place.strip()]
        return data


class QueryForm(forms.Form):
    stages = forms.MultipleChoiceField(
        label=_("Only in stages"), choices=Stage.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    channels = forms.MultipleChoiceField(
        label=_("Only from channels"), choices=Channel.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    tiers = forms.CharField(
        label=_("Only customer tiers"), required=False, max_length=500, help_text=_("e.g. gold, silver")
    )
    open_only = forms.BooleanField(label=_("Open cases only"), required=False)

    def tier_list(self) -> list[str]:
        return [tier.strip() for tier in self.cleaned_data["tiers"].split(",") if tier.strip()]


class CsvForm(forms.Form):
    file = forms.FileField(label=_("CSV of case references"))
    skip_unknown = forms.BooleanField(
        label=_("Attach the known ones and list the unknown"),
        required=False,
        help_text=_("Otherwise nothing is attached while any reference is unknown."),
    )

    def clean_file(self) -> Any:
        """Refuse a file larger than the limit by its size, before anything reads it."""
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > references.MAX_CSV_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB.") % {"mb": references.MAX_CSV_BYTES // (1024 * 1024)},
                code="too_large",
            )
        return upload

    def content(self) -> bytes:
        """The file's bytes, at most one more than the limit (so parsing still refuses a file that lied)."""
        data: bytes = self.cleaned_data["file"].read(references.MAX_CSV_BYTES + 1)
        return data


class NotifyForm(forms.Form):
    message = forms.CharField(
        label=_("Added to the notice (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        required=False,
        help_text=_("e.g. where meals are served or how to rebook."),
    )


class CompensateForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Rule"),
        choices=[("grant", _("One grant each")), ("liability", _("Per-promise liability"))],
        widget=forms.RadioSelect,
        initial="grant",
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=list(KIND_LABELS.items()), initial="voucher", required=False)
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, min_value=0, required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3, initial="CNY", required=False)
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)
    approve = forms.BooleanField(label=_("Approve within my limit"), required=False, initial=True)
    issue = forms.BooleanField(label=_("Issue and tell the customer"), required=False)
    promise_code = forms.ChoiceField(label=_("Promise broken"), required=False, choices=[])

    def __init__(self, *args: Any, promise_codes: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = [("", "—"), *[(code, code) for code in promise_codes or []]]
        self.fields["promise_code"].choices = codes  # type: ignore[attr-defined]

    def rule(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data["mode"] == "liability":
            return {"mode": "liability", "promise_code": data["promise_code"]}
        return {
            "mode": "grant",
            "kind": data["kind"],
            "amount": data["amount"],
            "currency": (data["currency"] or "").upper(),
            "reason": data["reason"],
            "approve": data["approve"],
            "issue": data["issue"],
        }


class ForceMajeureForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
