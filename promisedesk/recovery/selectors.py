"""Reads for incidents: the list with its counts, one incident, its affected cases and its runs."""

from __future__ import annotations

from typing import Any, TypedDict

from django.db.models import Count, Q, QuerySet

from promisedesk.breaches.models import CompensationStatus
from promisedesk.breaches.models import Status as BreachStatus
from promisedesk.errors import NotFound

from .models import BulkRun, Incident, IncidentCase, Outcome, RunStatus


class Counts(TypedDict):
    affected: int
    notified: int
    compensated: int
    awaiting_approval: int
    excluded: int
    skipped: int


PAID = (CompensationStatus.APPROVED, CompensationStatus.ISSUED)


def _compensated(prefix: str = "") -> Q:
    """Granted or paid by liability, with the compensation approved or issued."""
    return Q(**{f"{prefix}outcome": Outcome.GRANTED, f"{prefix}compensation__status__in": PAID}) | Q(
        **{f"{prefix}outcome": Outcome.LIABILITY, f"{prefix}breach__compensation__status__in": PAID}
    )


def _awaiting_approval(prefix: str = "") -> Q:
    """A grant still proposed (above the launcher's limit), or a liability breach awaiting its
    verification or its compensation's approval."""
    proposed = CompensationStatus.PROPOSED
    return (
        Q(**{f"{prefix}outcome": Outcome.GRANTED, f"{prefix}compensation__status": proposed})
        | Q(**{f"{prefix}outcome": Outcome.LIABILITY, f"{prefix}breach__status": BreachStatus.SUSPECTED})
        | Q(**{f"{prefix}outcome": Outcome.LIABILITY, f"{prefix}breach__compensation__status": proposed})
    )


def _count_annotations(prefix: str = "affected__") -> dict[str, Any]:
    return {
        "n_affected": Count(f"{prefix}id"),
        "n_notified": Count(f"{prefix}id", filter=Q(**{f"{prefix}notified_at__isnull": False})),
        "n_compensated": Count(f"{prefix}id", filter=_compensated(prefix)),
        "n_awaiting_approval": Count(f"{prefix}id", filter=_awaiting_approval(prefix)),
        "n_excluded": Count(f"{prefix}id", filter=Q(**{f"{prefix}outcome": Outcome.EXCLUDED})),
        "n_skipped": Count(f"{prefix}id", filter=Q(**{f"{prefix}outcome": Outcome.SKIPPED})),
    }


def incidents(status: str | None = None) -> QuerySet[Incident]:
    """Incidents newest first, each with its counts (one query)."""
    found = Incident.objects.select_related("created_by", "force_majeure_by").annotate(**_count_annotations())
    if status:
        found = found.filter(status=status)
    return found.order_by("-starts_at", "-id")


def counts_of(incident: Incident) -> Counts:
    """Affected, notified, compensated (granted or paid by liability, approved or issued), awaiting
    approval (proposed above the launcher's limit, or a breach awaiting verification), excluded, skipped."""
    if hasattr(incident, "n_affected"):
        row: dict[str, int] = {name: getattr(incident, f"n_{name}") for name in Counts.__annotations__}
    else:
        aggregated = IncidentCase.objects.filter(incident=incident).aggregate(**_count_annotations(prefix=""))
        row = {name: aggregated[f"n_{name}"] for name in Counts.__annotations__}
    return Counts(**row)  # type: ignore[typeddict-item]


def get_incident(incident_id: int) -> Incident:
    found = incidents().filter(pk=incident_id).first()
    if found is None:
        raise NotFound(f"incident {incident_id}")
    return found


def affected_cases(incident: Incident, state: str = "") -> QuerySet[IncidentCase]:
    """The incident's cases in the order attached, with what was done for each; `state` narrows:
    not_notified, notified, compensated, awaiting_approval, excluded, skipped, not_compensated."""
    links = IncidentCase.objects.filter(incident=incident).select_related(
        "case__customer", "case__service", "compensation", "breach"
    )
    filters = {
        "not_notified": Q(notified_at__isnull=True),
        "notified": Q(notified_at__isnull=False),
        "compensated": _compensated(),
        "awaiting_approval": _awaiting_approval(),
        "not_compensated": Q(outcome__in=("", Outcome.SKIPPED)),
        "excluded": Q(outcome=Outcome.EXCLUDED),
        "skipped": Q(outcome=Outcome.SKIPPED),
    }
    if state in filters:
        links = links.filter(filters[state])
    return links.order_by("id")


def runs_of(incident: Incident) -> list[BulkRun]:
    return list(incident.runs.select_related("launched_by").order_by("-started_at", "-id"))


def get_run(incident: Incident, run_id: int) -> BulkRun:
    found = incident.runs.select_related("launched_by").filter(pk=run_id).first()
    if found is None:
        raise NotFound(f"run {run_id} of incident {incident.pk}")
    return found


def any_running(runs: list[BulkRun]) -> bool:
    return any(run.status == RunStatus.RUNNING for run in runs)
