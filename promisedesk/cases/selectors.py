"""Reads about cases that other apps reuse: what a stage is called, in the organisation's words.

The organisation may rename each stage and give it sub-statuses, for all services or for one
(`StageLabel`). A name is looked up from the most specific to the most general: the service's
own label, the organisation's label, then promisedesk's name for the stage in that language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import translation

from .models import Case, Stage, StageLabel


def default_stage_label(stage: str, language: str) -> str:
    """promisedesk's own name for stage, in language."""
    if stage not in Stage.values:
        return stage
    with translation.override(language):
        return str(Stage(stage).label)


@dataclass(frozen=True)
class Substatus:
    code: str
    label: str


class StageNames:
    """Every stage label of the organisation, read in one query, to name the stages of many cases."""

    def __init__(self, labels: Iterable[StageLabel]):
        self._labels = {(label.service_id, label.stage): label for label in labels}

    @classmethod
    def load(cls, service_id: int | None = None) -> StageNames:
        """All labels, or only those that can apply to one service."""
        query = StageLabel.objects.all()
        if service_id is not None:
            query = query.filter(Q(service_id=service_id) | Q(service__isnull=True))
        return cls(query)

    def _chain(self, service_id: int | None, stage: str) -> list[StageLabel]:
        found = [self._labels.get((service_id, stage)), self._labels.get((None, stage))]
        return [label for label in found if label is not None]

    def stage(self, service_id: int | None, stage: str, language: str) -> str:
        """The name of stage for the service, in language."""
        for label in self._chain(service_id, stage):
            if text := label.label_in(language):
                return text
        return default_stage_label(stage, language)

    def substatuses(self, service_id: int | None, stage: str, language: str) -> list[Substatus]:
        """The sub-statuses a case of the service can have in stage: the service's own, else the organisation's."""
        for label in self._chain(service_id, stage):
            if codes := label.substatus_codes():
                return [Substatus(code, label.substatus_label(code, language)) for code in codes]
        return []

    def substatus(self, service_id: int | None, stage: str, code: str, language: str) -> str:
        """The words for a sub-status code; the code made readable when nobody named it."""
        if not code:
            return ""
        for label in self._chain(service_id, stage):
            if code in label.substatus_codes():
                return label.substatus_label(code, language)
        return code.replace("_", " ")

    def of(self, case: Case, language: str) -> str:
        """The case's stage and sub-status in words: "Installation · waiting for parts"."""
        name = self.stage(case.service_id, case.stage, language)
        sub = self.substatus(case.service_id, case.stage, case.substatus, language)
        return f"{name} · {sub}" if sub else name


def stage_label(case: Case, language: str) -> str:
    """What the case's stage (and sub-status) is called, in language ("en" or "zh-Hans"), in the
    organisation's own words where it chose some: "Installation · waiting for parts". One query."""
    return StageNames.load(case.service_id).of(case, language)


def stage_names(language: str, service_id: int | None = None) -> list[tuple[str, str]]:
    """(stage, name) for every stage in process order, as the service calls them."""
    names = StageNames.load(service_id)
    return [(stage, names.stage(service_id, stage, language)) for stage in Stage.values]


__all__ = ["StageNames", "Substatus", "default_stage_label", "stage_label", "stage_names"]
