"""The name of a case's stage in a language, as the organisation words it (see `cases.selectors`)."""

from __future__ import annotations

from promisedesk.cases.models import Case
from promisedesk.cases.selectors import StageNames, stage_label


def stage_text(case: Case, language: str) -> str:
    """What the customer is told the case's status is (with its sub-status, where it has one)."""
    return str(stage_label(case, language))


class StageNamer:
    """Names any stage (and sub-status) of one case's service, reading the labels once, when first asked."""

    def __init__(self, case: Case):
        self.case = case
        self._names: StageNames | None = None

    def __call__(self, stage: str, substatus: str, language: str) -> str:
        if self._names is None:
            self._names = StageNames.load(self.case.service_id)
        name = str(self._names.stage(self.case.service_id, stage, language))
        sub = str(self._names.substatus(self.case.service_id, stage, substatus, language)) if substatus else ""
        return f"{name} · {sub}" if sub else name
