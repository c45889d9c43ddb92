"""Corrective and preventive actions over HTTP, and the breaches still waiting for a root cause."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import AwareDatetime, Field

from promisedesk.actors import actor_of
from promisedesk.breaches.api import BreachList, RootCauseOut, render_breach
from promisedesk.schemas import Input, page

from . import selectors
from .actions import (
    Links,
    do_cancel_action,
    do_check_action,
    do_complete_action,
    do_create_action,
    do_set_root_cause_active,
    do_start_action,
    do_update_action,
)
from .effectiveness import measure_action
from .models import MAX_WINDOW_DAYS, ActionStatus, CorrectiveAction, Kind, Verdict

router = Router(tags=["capa"])


class ActionIn(Input):
    kind: Kind = Kind.CORRECTIVE
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    root_cause: str | None = Field(default=None, max_length=64)
    owner: str = Field(min_length=1, max_length=150)
    department: str | None = Field(default=None, max_length=64)
    due_at: AwareDatetime
    promise: str | None = Field(default=None, max_length=64)
    breach: int | None = Field(default=None, ge=1)
    incident: int | None = Field(default=None, ge=1)
    complaint_case: int | None = Field(default=None, ge=1)
    window_days: int = Field(default=30, ge=1, le=MAX_WINDOW_DAYS)


class ActionPatch(Input):
    owner: str | None = Field(default=None, min_length=1, max_length=150)
    due_at: AwareDatetime | None = None
    reason: str = Field(default="", max_length=2000)
    description: str | None = Field(default=None, max_length=10_000)
    window_days: int | None = Field(default=None, ge=1, le=MAX_WINDOW_DAYS)


class NoteIn(Input):
    note: str = Field(default="", max_length=5000)


class CompleteIn(Input):
    note: str = Field(min_length=1, max_length=5000)


class CheckIn(Input):
    verdict: Verdict
    note: str = Field(default="", max_length=5000)


class CancelIn(Input):
    reason: str = Field(min_length=1, max_length=2000)


class ActionOut(Schema):
    id: int
    kind: str
    title: str
    description: str
    status: str
    root_cause: str | None
    promise: str | None
    breach: int | None
    incident: int | None
    complaint_case: int | None
    owner: str
    department: str | None
    due_at: datetime
    overdue: bool
    window_days: int
    created_at: datetime
    created_by: str | None
    started_at: datetime | None
    done_at: datetime | None
    done_note: str
    checked_at: datetime | None
    checked_by: str | None
    verdict: str
    check_note: str
    cancelled_at: datetime | None
    cancel_reason: str


class ActionList(Schema):
    items: list[ActionOut]
    count: int


class SideOut(Schema):
    start: datetime
    end: datetime
    met: int
    breached: int
    total: int
    rate: float | None


class EffectOut(Schema):
    promise: str
    window_days: int
    min_sample: int
    before: SideOut
    after: SideOut | None
    verdict: str


class EventOut(Schema):
    at: datetime
    type: str
    actor: str | None
    note: str
    data: dict[str, Any]


class ActionDetail(ActionOut):
    effectiveness: EffectOut | None
    history: list[EventOut]


def render_action(action: CorrectiveAction, now: datetime) -> dict[str, Any]:
    return {
        "id": action.pk,
        "kind": action.kind,
        "title": action.title,
        "description": action.description,
        "status": action.status,
        "root_cause": action.root_cause_id,
        "promise": action.promise.code if action.promise else None,
        "breach": action.breach_id,
        "incident": action.incident_id,
        "complaint_case": action.complaint_case_id,
        "owner": action.owner.get_username(),
        "department": action.department.code if action.department else None,
        "due_at": action.due_at,
        "overdue": action.is_overdue(now),
        "window_days": action.window_days,
        "created_at": action.created_at,
        "created_by": action.created_by.get_username() if action.created_by else None,
        "started_at": action.started_at,
        "done_at": action.done_at,
        "done_note": action.done_note,
        "checked_at": action.checked_at,
        "checked_by": action.checked_by.get_username() if action.checked_by else None,
        "verdict": action.verdict,
        "check_note": action.check_note,
        "cancelled_at": action.cancelled_at,
        "cancel_reason": action.cancel_reason,
    }


def render_detail(action_id: int, now: datetime) -> dict[str, Any]:
    action = selectors.get_action(action_id)
    effect = measure_action(action, now)
    return {
        **render_action(action, now),
        "effectiveness": effect.as_dict() if effect else None,
        "history": [selectors.describe(e) for e in selectors.history(action)],
    }


@router.post("/capa-actions", response={201: ActionDetail})
def create_action(request: HttpRequest, payload: ActionIn) -> Status:
    """Open a corrective or preventive action; a breach link fills in its promise."""
    now = timezone.now()
    links = Links(
        promise=payload.promise,
        breach=payload.breach,
        incident=payload.incident,
        complaint_case=payload.complaint_case,
    )
    action = do_create_action(
        actor=actor_of(request),
        now=now,
        kind=payload.kind,
        title=payload.title,
        owner=payload.owner,
        due_at=payload.due_at,
        root_cause=payload.root_cause,
        description=payload.description,
        department=payload.department,
        links=links,
        window_days=payload.window_days,
    )
    return Status(201, render_detail(action.pk, now))


@router.get("/capa-actions", response=ActionList)
def list_actions(
    request: HttpRequest,
    status: ActionStatus | None = None,
    owner: str | None = None,
    promise: str | None = None,
    department: str | None = None,
    overdue: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """The soonest due first; `overdue=true` lists those still worked past their due date."""
    now = timezone.now()
    query = selectors.actions(
        now=now, status=status, owner=owner, promise=promise, department=department, overdue=overdue
    )
    return page(query, limit, offset, lambda a: render_action(a, now))


@router.get("/capa-actions/{action_id}", response=ActionDetail)
def read_action(request: HttpRequest, action_id: int) -> dict[str, Any]:
    """The action with its effectiveness (the promise's breach rate before and after) and history."""
    return render_detail(action_id, timezone.now())


@router.patch("/capa-actions/{action_id}", response=ActionDetail)
def update_action(request: HttpRequest, action_id: int, payload: ActionPatch) -> dict[str, Any]:
    """Hand over, move the due date (a reason is required), reword, or change the comparison window."""
    now = timezone.now()
    do_update_action(
        selectors.get_action(action_id),
        actor=actor_of(request),
        now=now,
        owner=payload.owner,
        due_at=payload.due_at,
        reason=payload.reason,
        description=payload.description,
        window_days=payload.window_days,
    )
    return render_detail(action_id, now)


@router.post("/capa-actions/{action_id}/start", response=ActionDetail)
def start_action(request: HttpRequest, action_id: int, payload: NoteIn | None = None) -> dict[str, Any]:
    now = timezone.now()
    note = payload.note if payload else ""
    do_start_action(selectors.get_action(action_id), actor=actor_of(request), now=now, note=note)
    return render_detail(action_id, now)


@router.post("/capa-actions/{action_id}/complete", response=ActionDetail)
def complete_action(request: HttpRequest, action_id: int, payload: CompleteIn) -> dict[str, Any]:
    now = timezone.now()
    do_complete_action(selectors.get_action(action_id), actor=actor_of(request), now=now, note=payload.note)
    return render_detail(action_id, now)


@router.post("/capa-actions/{action_id}/check", response=ActionDetail)
def check_action(request: HttpRequest, action_id: int, payload: CheckIn) -> dict[str, Any]:
    """A manager's verdict: effective or not_effective (the latter says why)."""
    now = timezone.now()
    action = selectors.get_action(action_id)
    do_check_action(action, actor=actor_of(request), now=now, verdict=payload.verdict, note=payload.note)
    return render_detail(action_id, now)


@router.post("/capa-actions/{action_id}/cancel", response=ActionDetail)
def cancel_action(request: HttpRequest, action_id: int, payload: CancelIn) -> dict[str, Any]:
    now = timezone.now()
    do_cancel_action(selectors.get_action(action_id), actor=actor_of(request), now=now, reason=payload.reason)
    return render_detail(action_id, now)


@router.get("/root-causes/pending", response=BreachList)
def pending_root_causes(
    request: HttpRequest,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    promise: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Verified breaches with no root cause yet, detected in [since, until), the oldest first."""
    query = selectors.pending_root_causes(since=since, until=until, promise=promise)
    return page(query.select_related("verified_by", "compensation"), limit, offset, render_breach)


@router.post("/root-causes/{code}/deactivate", response=RootCauseOut)
def deactivate_root_cause(request: HttpRequest, code: str) -> dict[str, Any]:
    """Managers: take a root cause out of the choices (verdicts that named it keep it)."""
    cause = do_set_root_cause_active(actor=actor_of(request), now=timezone.now(), code=code, active=False)
    return {"code": cause.code, "name_en": cause.name_en, "name_zh": cause.name_zh, "active": cause.active}


@router.post("/root-causes/{code}/activate", response=RootCauseOut)
def activate_root_cause(request: HttpRequest, code: str) -> dict[str, Any]:
    """Managers: offer a retired root cause again."""
    cause = do_set_root_cause_active(actor=actor_of(request), now=timezone.now(), code=code, active=True)
    return {"code": cause.code, "name_en": cause.name_en, "name_zh": cause.name_zh, "active": cause.active}
