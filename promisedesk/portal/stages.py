"""The name of a case's stage in a language, as the organisation words it.

The organisation's own names (StageLabel, per service or for all) are read by
`cases.selectors`; until that module offers them, promisedesk's names are used.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from types import ModuleType
from typing import Any

from django.utils import translation

from promisedesk.cases.models import Case, Stage


def _cases_selectors() -> ModuleType | None:
    if importlib.util.find_spec("promisedesk.cases.selectors") is None:
        return None
    return importlib.import_module("promisedesk.cases.selectors")


def _stage_label_selector() -> Callable[[Case, str], Any] | None:
    """`cases.selectors.stage_label(case, language)` when the cases app has it; None before."""
    return getattr(_cases_selectors(), "stage_label", None)


def default_name(stage: str, language: str) -> str:
    with translation.override(language):
        return str(Stage(stage).label) if stage in Stage.values else stage


def stage_text(case: Case, language: str) -> str:
    """What the customer is told the case's status is (with its sub-status, where it has one)."""
    selector = _stage_label_selector()
    if selector is not None:
        label = selector(case, language)
        if label:
            return str(label)
    return default_name(case.stage, language)


class StageNamer:
    """Names any stage (and sub-status) of one case's service, reading the labels once, when first asked."""

    def __init__(self, case: Case):
        self.case = case
        self._names: Any = None

    def __call__(self, stage: str, substatus: str, language: str) -> str:
        names_class = getattr(_cases_selectors(), "StageNames", None)
        if names_class is None:
            return default_name(stage, language)
        if self._names is None:
            self._names = names_class.load(self.case.service_id)
        name = str(self._names.stage(self.case.service_id, stage, language))
        sub = str(self._names.substatus(self.case.service_id, stage, substatus, language)) if substatus else ""
        return f"{name} · {sub}" if sub else name
