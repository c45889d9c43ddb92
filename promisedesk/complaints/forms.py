"""The desk's complaint forms: parse and clean the post; the actions decide what is acceptable."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from promisedesk.accounts.models import Department
from promisedesk.cases.models import Channel, Customer, Service

from .models import ComplaintCategory, Remedy, Severity
from .selectors import ACTIVE
from .steps import APOLOGY_WAYS, StepFields

MAX_ID = 2**63 - 1


def new_key() -> str:
    return uuid.uuid4().hex


def _departments() -> list[tuple[str, Any]]:
    return [("", _("— none —")), *Department.objects.order_by("name").values_list("code", "name")]


def _choices(form: forms.Form, name: str) -> forms.ChoiceField:
    """A choice field of form, to fill with choices read when the form is made."""
    return cast(forms.ChoiceField, form.fields[name])


class QueueFilter(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[
            (ACTIVE, _("Open and resolved")),
            ("open", _("Open")),
            ("resolved", _("Resolved, follow-up due")),
            ("closed", _("Closed")),
            ("all", _("All")),
        ],
    )
    severity = forms.ChoiceField(required=False, choices=[("", _("Any severity")), *Severity.choices])
    department = forms.ChoiceField(required=False)
    mine = forms.BooleanField(required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choices(self, "department").choices = [("", _("Any department")), *_departments()[1:]]

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "status": data.get("status") or ACTIVE,
            "severity": data.get("severity") or "",
            "department": data.get("department") or "",
            "mine": bool(data.get("mine")),
        }


class ComplaintForm(forms.Form):
    """A complaint logged by any member of staff, from any channel."""

    key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    about = forms.IntegerField(
        label=_("About case number"),
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("Leave empty for a general complaint."),
    )
    customer = forms.CharField(
        label=_("Customer"),
        required=False,
        max_length=200,
        help_text=_("Customer number, phone or email; not needed when the complaint is about a case."),
    )
    service = forms.ChoiceField(label=_("Service"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    account = forms.CharField(
        label=_("What the customer says, in their words"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 5})
    )
    remedy_wanted = forms.ChoiceField(label=_("What would put it right"), choices=Remedy.choices, initial=Remedy.OTHER)
    remedy_detail = forms.CharField(label=_("Details of the remedy"), required=False, max_length=2_000)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM)
    category = forms.ChoiceField(label=_("Category"), required=False)
    department = forms.ChoiceField(label=_("Department responsible"), required=False)

    def __init__(self, *args: Any, language: str = "en", **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choices(self, "service").choices = [
            ("", _("— the case's service —")),
            *Service.objects.values_list("code", "name"),
        ]
        categories = ComplaintCategory.objects.filter(active=True).order_by("code")
        _choices(self, "category").choices = [("", _("— none —")), *((c.code, c.name_in(language)) for c in categories)]
        _choices(self, "department").choices = _departments()

    def customer_id(self) -> int | None:
        """The customer named by number, phone or email; None when none was given or none matches."""
        given = (self.cleaned_data.get("customer") or "").strip()
        if not given:
            return None
        if given.isdigit() and len(given) < 19:
            found = Customer.objects.filter(pk=int(given)).values_list("pk", flat=True).first()
        else:
            found = (
                Customer.objects.filter(phone=given).values_list("pk", flat=True).first()
                or Customer.objects.filter(email__iexact=given).values_list("pk", flat=True).first()
            )
        if found is None:
            self.add_error("customer", _("No customer has that number, phone or email."))
        return found


class StepForm(forms.Form):
    """One recovery step, taken or skipped; the fields of every step, each read by its own."""

    action = forms.ChoiceField(choices=[("done", _("Done")), ("skip", _("Skip"))])
    reason = forms.CharField(required=False, max_length=2_000)
    account = forms.CharField(required=False, max_length=10_000, widget=forms.Textarea)
    how = forms.ChoiceField(
        required=False,
        choices=[
            ("", "—"),
            *zip(APOLOGY_WAYS, [_("send a message"), _("said on the phone"), _("said in person")], strict=True),
        ],
    )
    note = forms.CharField(required=False, max_length=4_000, widget=forms.Textarea)
    solution = forms.CharField(required=False, max_length=4_000, widget=forms.Textarea)
    compensation_kind = forms.ChoiceField(
        required=False,
        choices=[
            ("", _("no compensation")),
            ("refund", _("refund")),
            ("voucher", _("voucher")),
            ("discount", _("discount")),
            ("gift", _("gift")),
            ("cash", _("cash")),
        ],
    )
    compensation_amount = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    outcome = forms.CharField(required=False, max_length=4_000, widget=forms.Textarea)
    follow_up_at = forms.DateTimeField(required=False)
    root_cause = forms.CharField(required=False, max_length=64)

    def fields_for(self, step: str, uploads: list[Any]) -> StepFields:
        """The fields the step reads (a skipped step reads none: its reason says it all)."""
        from .steps import ALLOWED

        data = self.cleaned_data
        if data.get("action") == "skip":
            return StepFields()
        given: dict[str, Any] = {
            "account": data.get("account") or "",
            "how": data.get("how") or "",
            "note": data.get("note") or "",
            "solution": data.get("solution") or "",
            "compensation_kind": data.get("compensation_kind") or "",
            "compensation_amount": data.get("compensation_amount"),
            "outcome": data.get("outcome") or "",
            "follow_up_at": data.get("follow_up_at"),  # made aware in the current zone by Django
            "root_cause": data.get("root_cause") or "",
            "uploads": uploads,
        }
        return StepFields(**{name: value for name, value in given.items() if name in ALLOWED[step]})


class HandoverForm(forms.Form):
    department = forms.ChoiceField(label=_("To department"))
    assignee = forms.CharField(label=_("To person (username)"), required=False, max_length=150)
    reason = forms.CharField(label=_("Why it moves"), max_length=2_000)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choices(self, "department").choices = _departments()


class CloseForm(forms.Form):
    root_cause = forms.CharField(max_length=64)
