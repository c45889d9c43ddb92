"""The chain form: three levels, each in the chain or not, each with its threshold; the action checks the rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Role
from .policy import Level

HELP = _("Percent of the promise's target time used. Leave it empty to tell this level with the promise's own warning.")


class ChainForm(forms.Form):
    """owner_on / owner_threshold, team_lead_on / …, manager_on / …."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for role, label in Role.choices:
            self.fields[f"{role}_on"] = forms.BooleanField(required=False, label=label)
            self.fields[f"{role}_threshold"] = forms.DecimalField(
                required=False,
                min_value=Decimal("0.01"),
                max_value=Decimal(100),
                max_digits=5,
                decimal_places=2,
                label=_("Threshold (%)"),
                help_text=HELP if role == Role.OWNER else "",  # shown once, under the form
                widget=forms.NumberInput(attrs={"placeholder": _("at the warning")}),
            )

    @staticmethod
    def initial_for(levels: list[Level]) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for level in levels:
            initial[f"{level.role}_on"] = True
            initial[f"{level.role}_threshold"] = level.threshold
        return initial

    def levels(self) -> list[tuple[str, Decimal | None]]:
        """The chosen levels in chain order, for do_set_chain."""
        data = self.cleaned_data
        return [(role, data.get(f"{role}_threshold")) for role in Role.values if data.get(f"{role}_on")]

    def rows(self) -> list[tuple[Any, Any]]:
        """(checkbox, threshold) bound fields per role, for the template."""
        return [(self[f"{role}_on"], self[f"{role}_threshold"]) for role in Role.values]
