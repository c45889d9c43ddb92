"""Incidents over HTTP: declare, attach affected cases, notify and compensate in bulk, force majeure, close.

Telling and compensating are launched as bulk runs (answered 202 with the run); the
worker works them through and `GET /incidents/{id}/runs/{run}` shows the progress.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import AwareDatetime, Field

from promisedesk.actors import actor_of
from promisedesk.breaches.models import KIND_LABELS
from promisedesk.cases.models import Channel, Stage
from promisedesk.schemas import Input, page

from . import selectors
from .actions import (
    AttachResult,
    do_attach_by_query,
    do_attach_references,
    do_cancel_run,
    do_close_incident,
    do_declare_incident,
    do_launch_compensation,
    do_launch_notify,
    do_set_force_majeure,
)
from .display import in_english
from .models import AttachMethod, BulkRun, Incident, IncidentCase, IncidentStatus
from .references import MAX_CSV_BYTES, from_list, parse_csv

router = Router(tags=["incidents"])

CompensationKind = Literal[tuple(KIND_LABELS)]  # type: ignore[valid-type]


class IncidentIn(Input):
    title: str = Field(max_length=200)
    reason: str = Field(max_length=5000, description="what customers are told")
    reason_en: str = Field(default="", max_length=5000, description="the reason in English, if it differs")
    code: str = Field(default="", max_length=40, pattern=r"^[A-Za-z0-9_.\-]*$", description="empty: INC-<id>")
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    new_time: AwareDatetime | None = Field(default=None, description="the new time customers are given")
    services: list[str] = Field(default_factory=list, max_length=100, description="service codes")
    locations: list[str] = Field(default_factory=list, max_length=50)
    force_majeure: bool = False
    force_majeure_reason: str = Field(default="", max_length=2000)


class CountsOut(Schema):
    affected: int
    notified: int
    awaiting_approval: int
    compensated: int
    excluded: int
    skipped: int


class RunOut(Schema):
    id: int
    incident: int
    kind: str
    status: str
    parameters: dict[str, Any]
    total: int
    processed: int
    changed: int
    skipped: int
    skip_reasons: dict[str, int]
    percent: int
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    launched_by: str | None
    last_error: str
    error_code: str


class IncidentOut(Schema):
    id: int
    code: str
    title: str
    reason: str
    reason_en: str
    new_time: datetime | None
    starts_at: datetime
    ends_at: datetime | None
    services: list[str]
    locations: list[str]
    status: str
    force_majeure: bool
    force_majeure_reason: str
    force_majeure_at: datetime | None
    force_majeure_by: str | None
    counts: CountsOut
    created_at: datetime
    created_by: str | None
    closed_at: datetime | None


class IncidentDetailOut(IncidentOut):
    runs: list[RunOut]
    history: list[dict[str, Any]]


class IncidentList(Schema):
    items: list[IncidentOut]
    count: int


class QueryIn(Input):
    stages: list[Stage] = Field(default_factory=list, max_length=10)
    open_only: bool = False
    channels: list[Channel] = Field(default_factory=list, max_length=10)
    tiers: list[str] = Field(default_factory=list, max_length=20)


class ReferencesIn(Input):
    references: list[str] = Field(max_length=50_000, description="external_ref or case id, one each")
    skip_unknown: bool = Field(default=False, description="attach the known ones and list the rest")


class UnknownOut(Schema):
    reference: str
    line: int


class AttachOut(Schema):
    attached: int
    already: int
    unknown: list[UnknownOut]
    counts: CountsOut


class NotifyIn(Input):
    message: str = Field(default="", max_length=1000, description="added to the notice, e.g. where meals are served")


class CompensateIn(Input):
    mode: Literal["grant", "liability"]
    kind: CompensationKind | None = None  # type: ignore[valid-type]
    amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=3, allow_inf_nan=False)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    reason: str = Field(default="", max_length=2000)
    approve: bool = True
    issue: bool = False
    promise_code: str | None = Field(default=None, max_length=64)


class ForceMajeureIn(Input):
    force_majeure: bool
    reason: str = Field(max_length=2000)


class CloseIn(Input):
    note: str = Field(default="", max_length=2000)


class AffectedOut(Schema):
    id: int
    case: int
    external_ref: str | None
    customer: int
    customer_name: str
    service: str
    method: str
    attached_at: datetime
    notified_at: datetime | None
    compensated_at: datetime | None
    outcome: str
    outcome_note: str
    outcome_code: str
    compensation: int | None
    compensation_status: str | None
    breach: int | None


class AffectedList(Schema):
    items: list[AffectedOut]
    count: int


def _name(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def render_run(run: BulkRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "incident": run.incident_id,
        "kind": run.kind,
        "status": run.status,
        "parameters": run.parameters,
        "total": run.total,
        "processed": run.processed,
        "changed": run.changed,
        "skipped": run.skipped,
        "skip_reasons": run.skip_reasons,
        "percent": run.percent,
        "started_at": run.started_at,
        "updated_at": run.updated_at,
        "finished_at": run.finished_at,
        "launched_by": _name(run.launched_by),
        "last_error": in_english(lambda: run.error_text),
        "error_code": run.last_error,
    }


def render(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "code": incident.code,
        "title": incident.title,
        "reason": incident.reason,
        "reason_en": incident.reason_en,
        "new_time": incident.new_time,
        "starts_at": incident.starts_at,
        "ends_at": incident.ends_at,
        "services": [service.code for service in incident.services.all()],
        "locations": incident.locations,
        "status": incident.status,
        "force_majeure": incident.force_majeure,
        "force_majeure_reason": incident.force_majeure_reason,
        "force_majeure_at": incident.force_majeure_at,
        "force_majeure_by": _name(incident.force_majeure_by),
        "counts": selectors.counts_of(incident),
        "created_at": incident.created_at,
        "created_by": _name(incident.created_by),
        "closed_at": incident.closed_at,
    }


def render_detail(incident: Incident) -> dict[str, Any]:
    fresh = selectors.get_incident(incident.pk)
    return render(fresh) | {
        "runs": [render_run(run) for run in selectors.runs_of(fresh)],
        "history": fresh.history,
    }


def render_affected(link: IncidentCase) -> dict[str, Any]:
    case = link.case
    return {
        "id": link.pk,
        "case": case.pk,
        "external_ref": case.external_ref,
        "customer": case.customer_id,
        "customer_name": case.customer.name,
        "service": case.service.code,
        "method": link.method,
        "attached_at": link.attached_at,
        "notified_at": link.notified_at,
        "compensated_at": link.compensated_at,
        "outcome": link.outcome,
        "outcome_note": in_english(lambda: link.note_text),
        "outcome_code": link.outcome_note,
        "compensation": link.compensation_id,
        "compensation_status": link.compensation.status if link.compensation else None,
        "breach": link.breach_id,
    }


def render_attach(incident: Incident, result: AttachResult) -> dict[str, Any]:
    return {
        "attached": result.attached,
        "already": result.already,
        "unknown": [{"reference": ref.text, "line": ref.line} for ref in result.unknown],
        "counts": selectors.counts_of(incident),
    }


@router.post("/incidents", response={201: IncidentDetailOut})
def declare(request: HttpRequest, payload: IncidentIn) -> Status:
    """Declare an incident: a span, the services and places it touches, the reason customers are told."""
    incident = do_declare_incident(actor=actor_of(request), now=timezone.now(), **payload.model_dump())
    return Status(201, render_detail(incident))


@router.get("/incidents", response=IncidentList)
def list_incidents(
    request: HttpRequest, status: IncidentStatus | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """Newest first, each with its counts."""
    query = selectors.incidents(status).prefetch_related("services")
    return page(query, limit, offset, render)


@router.get("/incidents/{incident_id}", response=IncidentDetailOut)
def read_incident(request: HttpRequest, incident_id: int) -> dict[str, Any]:
    return render_detail(selectors.get_incident(incident_id))


@router.post("/incidents/{incident_id}/attach/query", response=AttachOut)
def attach_by_query(request: HttpRequest, incident_id: int, payload: QueryIn) -> dict[str, Any]:
    """Attach the incident's services' cases whose appointment starts or which opened within its span."""
    incident = selectors.get_incident(incident_id)
    result = do_attach_by_query(
        incident,
        actor=actor_of(request),
        now=timezone.now(),
        stages=[s.value for s in payload.stages],
        open_only=payload.open_only,
        channels=[c.value for c in payload.channels],
        tiers=payload.tiers,
    )
    return render_attach(incident, result)


@router.post("/incidents/{incident_id}/attach/references", response=AttachOut)
def attach_by_references(request: HttpRequest, incident_id: int, payload: ReferencesIn) -> dict[str, Any]:
    """Attach cases by external_ref or id. All or nothing unless `skip_unknown`."""
    incident = selectors.get_incident(incident_id)
    result = do_attach_references(
        incident,
        actor=actor_of(request),
        now=timezone.now(),
        references=from_list(payload.references),
        method=AttachMethod.API,
        skip_unknown=payload.skip_unknown,
    )
    return render_attach(incident, result)


@router.post("/incidents/{incident_id}/attach/csv", response=AttachOut)
def attach_by_csv(
    request: HttpRequest, incident_id: int, file: UploadedFile = File(...), skip_unknown: Form[bool] = False
) -> dict[str, Any]:
    """Attach cases from a CSV: one reference per line, or a column named external_ref/reference/ref/case/id."""
    from promisedesk.errors import DomainError

    incident = selectors.get_incident(incident_id)
    if file.size and file.size > MAX_CSV_BYTES:
        raise DomainError("too_large", f"the file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB", "file")
    result = do_attach_references(
        incident,
        actor=actor_of(request),
        now=timezone.now(),
        references=parse_csv(file.read(MAX_CSV_BYTES + 1)),
        method=AttachMethod.CSV,
        skip_unknown=skip_unknown,
    )
    return render_attach(incident, result)


@router.get("/incidents/{incident_id}/cases", response=AffectedList)
def list_affected(
    request: HttpRequest,
    incident_id: int,
    state: Literal[
        "", "notified", "not_notified", "compensated", "awaiting_approval", "not_compensated", "excluded", "skipped"
    ] = "",
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """The affected cases in the order attached, with whether each was told and compensated."""
    incident = selectors.get_incident(incident_id)
    return page(selectors.affected_cases(incident, state), limit, offset, render_affected)


@router.post("/incidents/{incident_id}/notify", response={202: RunOut})
def notify(request: HttpRequest, incident_id: int, payload: NotifyIn) -> Status:
    """Launch telling every affected customer by email and SMS; each is told once per incident."""
    incident = selectors.get_incident(incident_id)
    run = do_launch_notify(incident, actor=actor_of(request), now=timezone.now(), message=payload.message)
    return Status(202, render_run(run))


@router.post("/incidents/{incident_id}/compensate", response={202: RunOut})
def compensate(request: HttpRequest, incident_id: int, payload: CompensateIn) -> Status:
    """Launch compensation by rule: one grant each (`grant`), or a breach of `promise_code` on each (`liability`)."""
    incident = selectors.get_incident(incident_id)
    run = do_launch_compensation(
        incident, actor=actor_of(request), now=timezone.now(), rule=payload.model_dump(exclude_none=True)
    )
    return Status(202, render_run(run))


@router.get("/incidents/{incident_id}/runs", response=list[RunOut])
def list_runs(request: HttpRequest, incident_id: int) -> list[dict[str, Any]]:
    return [render_run(run) for run in selectors.runs_of(selectors.get_incident(incident_id))]


@router.get("/incidents/{incident_id}/runs/{run_id}", response=RunOut)
def read_run(request: HttpRequest, incident_id: int, run_id: int) -> dict[str, Any]:
    """A run's progress: processed of total, what it changed and why it skipped the rest."""
    return render_run(selectors.get_run(selectors.get_incident(incident_id), run_id))


@router.post("/incidents/{incident_id}/runs/{run_id}/cancel", response=RunOut)
def cancel_run(request: HttpRequest, incident_id: int, run_id: int) -> dict[str, Any]:
    run = selectors.get_run(selectors.get_incident(incident_id), run_id)
    return render_run(do_cancel_run(run, actor=actor_of(request), now=timezone.now()))


@router.post("/incidents/{incident_id}/force-majeure", response=IncidentDetailOut)
def force_majeure(request: HttpRequest, incident_id: int, payload: ForceMajeureIn) -> dict[str, Any]:
    """Mark or unmark force majeure (managers), with the reason; liability is not paid while marked."""
    incident = selectors.get_incident(incident_id)
    do_set_force_majeure(
        incident, actor=actor_of(request), now=timezone.now(), on=payload.force_majeure, reason=payload.reason
    )
    return render_detail(incident)


@router.post("/incidents/{incident_id}/close", response=IncidentDetailOut)
def close(request: HttpRequest, incident_id: int, payload: CloseIn) -> dict[str, Any]:
    incident = selectors.get_incident(incident_id)
    do_close_incident(incident, actor=actor_of(request), now=timezone.now(), note=payload.note)
    return render_detail(incident)
