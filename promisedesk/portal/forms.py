"""The customer page's forms: parse the post; the actions decide what is acceptable."""

from __future__ import annotations

import uuid

from django import forms

from . import rules

MAX_ID = 2**63 - 1  # what the database can store; a larger number names nothing


def new_key() -> str:
    """A fresh form key: a double submit of the same rendered form carries the same one."""
    return uuid.uuid4().hex


class KeyedForm(forms.Form):
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)


class ReplyForm(KeyedForm):
    text = forms.CharField(max_length=rules.MAX_TEXT, widget=forms.Textarea, strip=False)


class InformationForm(KeyedForm):
    text = forms.CharField(max_length=rules.MAX_TEXT, widget=forms.Textarea, required=False, strip=False)
    file = forms.FileField(required=False, allow_empty_file=True)


class ClaimForm(KeyedForm):
    commitment = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    text = forms.CharField(max_length=rules.MAX_CLAIM_TEXT, widget=forms.Textarea, required=False, strip=False)


class ComplaintForm(KeyedForm):
    """What happened, and what would put it right."""

    text = forms.CharField(max_length=rules.MAX_TEXT, widget=forms.Textarea, strip=False)
    remedy_wanted = forms.ChoiceField(choices=[])
    remedy_detail = forms.CharField(max_length=rules.MAX_CLAIM_TEXT, required=False, strip=False)

    def __init__(self, *args: object, **kwargs: object):
        from .complaints import REMEDY_CHOICES

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["remedy_wanted"].choices = REMEDY_CHOICES  # type: ignore[attr-defined]
