"""The customer's request form and the staff's quarantine decisions."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core import signing
from django.core.validators import RegexValidator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from promisedesk.cases.models import Locale, Service

TOKEN_SALT = "promisedesk.intake.form"
PHONE = RegexValidator(r"^[0-9+()\-. ]{3,40}$", _("Enter a phone number: digits, spaces and + - ( ) only."))
MAX_NEED = 5000


def new_form_token() -> str:
    """A token for one rendering of the form: a double submit of that rendering makes one case.

    Signed, so only tokens this site handed out are accepted (a script posting
    straight at the form has to fetch the page first).
    """
    return signing.dumps(uuid.uuid4().hex, salt=TOKEN_SALT)


def current_locale() -> str:
    return Locale.ZH_HANS if (get_language() or "").lower().startswith("zh") else Locale.EN


class RequestForm(forms.Form):
    """What a customer asks for, without logging in. `website` is a honeypot: people leave it empty."""

    name = forms.CharField(label=_("Your full name"), max_length=200)
    email = forms.EmailField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False, validators=[PHONE])
    service = forms.ModelChoiceField(
        label=_("What is it about?"),
        queryset=Service.objects.order_by("name"),
        to_field_name="code",
        empty_label=None,
    )
    kind = forms.TypedChoiceField(
        label=_("You are"),
        choices=[("request", _("asking for something")), ("complaint", _("making a complaint"))],
        initial="request",
        required=False,  # left out, it is a request
        empty_value="request",
        widget=forms.RadioSelect,
    )
    need = forms.CharField(
        label=_("What do you need?"),
        max_length=MAX_NEED,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    language = forms.ChoiceField(label=_("Preferred language"), choices=Locale.choices)
    website = forms.CharField(label=_("Leave this field empty"), required=False)
    token = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update(autocomplete="email", inputmode="email")
        self.fields["phone"].widget.attrs.update(autocomplete="tel", inputmode="tel")
        self.fields["name"].widget.attrs.update(autocomplete="name")
        self.fields["website"].widget.attrs.update(autocomplete="off", tabindex="-1")
        self.token_refused = False

    def clean_token(self) -> str:
        try:
            return str(signing.loads(self.cleaned_data["token"], salt=TOKEN_SALT))
        except signing.BadSignature as exc:
            self.token_refused = True
            raise forms.ValidationError(
                _("This form was changed or not issued by this site; please check it and send it again."),
                code="bad_token",
            ) from exc

    def clean_website(self) -> str:
        if self.cleaned_data["website"]:
            raise forms.ValidationError(_("Leave this field empty."), code="honeypot")
        return ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("email") and not data.get("phone") and "email" not in self.errors:
            self.add_error("email", forms.ValidationError(_("Give an email address or a phone number."), "contact"))
        return data


class ReleaseForm(forms.Form):
    """Put a held message into a case: an existing one, or a new one for a service."""

    mode = forms.ChoiceField(
        choices=[("thread", _("into case")), ("new", _("as a new case"))], widget=forms.RadioSelect
    )
    case = forms.IntegerField(label=_("Case number"), required=False, min_value=1, max_value=2**62)
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.order_by("name"), to_field_name="code", required=False
    )
    customer = forms.IntegerField(
        label=_("Customer number (empty: the sender)"), required=False, min_value=1, max_value=2**62
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == "thread" and not data.get("case"):
            self.add_error("case", forms.ValidationError(_("Give the case number."), "required"))
        return data


class DiscardForm(forms.Form):
    reason = forms.CharField(label=_("Why discard it?"), max_length=2000)


class QuarantineFilter(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[("held", _("Held")), ("released", _("Released")), ("discarded", _("Discarded")), ("all", _("All"))],
    )
