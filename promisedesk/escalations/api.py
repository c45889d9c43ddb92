"""Escalation chains and escalations over HTTP.

`/escalation-policies/default` is the organisation's chain; `/escalation-policies/<code>`
a promise's own. Reading is for staff; changing is for managers (the `manager` group)
and superusers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Router, Schema, Status
from pydantic import Field

from promisedesk.actors import actor_of
from promisedesk.errors import NotFound
from promisedesk.schemas import Input, page

from .actions import do_delete_chain, do_set_chain
from .models import DEFAULT_KEY, Escalation, EscalationPolicy, Role, Trigger
from .models import Status as EscalationStatus
from .policy import BUILTIN_CHAIN, Level

router = Router(tags=["escalations"])

DEFAULT_NAME = "default"
PolicyKey = Path(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")


class LevelIn(Input):
    role: Role
    # A percentage of the promise's target business time; null: with the promise's own at-risk warning.
    threshold: Decimal | None = Field(default=None, gt=0, le=100, max_digits=5, decimal_places=2, allow_inf_nan=False)


class PolicyIn(Input):
    levels: list[LevelIn] = Field(max_length=len(Role.values))


class LevelOut(Schema):
    role: str
    threshold: float | None


class PolicyOut(Schema):
    promise_code: str | None = Field(description="null for the organisation's default chain")
    builtin: bool = Field(description="true while the organisation has not set its default chain")
    levels: list[LevelOut]
    updated_at: datetime | None
    updated_by: str | None


class PolicyList(Schema):
    items: list[PolicyOut]
    count: int


class EscalationOut(Schema):
    id: int
    case: int
    commitment: int
    promise_code: str | None
    role: str
    threshold: float | None
    trigger: Trigger
    status: EscalationStatus
    cycle_at: datetime
    fire_at: datetime | None
    fired_at: datetime | None
    notify_at: datetime | None
    to: list[str]
    reason: str | None
    created_at: datetime


class EscalationList(Schema):
    items: list[EscalationOut]
    count: int


def _key(name: str) -> str:
    return DEFAULT_KEY if name == DEFAULT_NAME else name


def _levels(levels: list[Level] | Any) -> list[dict[str, Any]]:
    return [
        {"role": level.role, "threshold": float(level.threshold) if level.threshold is not None else None}
        for level in levels
    ]


def render_policy(policy: EscalationPolicy) -> dict[str, Any]:
    levels = sorted(policy.levels.all(), key=lambda level: list(Role.values).index(level.role))
    return {
        "promise_code": policy.promise_code or None,
        "builtin": False,
        "levels": _levels(levels),
        "updated_at": policy.updated_at,
        "updated_by": policy.updated_by.get_username() if policy.updated_by else None,
    }


BUILTIN = {
    "promise_code": None,
    "builtin": True,
    "levels": _levels(BUILTIN_CHAIN),
    "updated_at": None,
    "updated_by": None,
}


def policies() -> QuerySet[EscalationPolicy]:
    return EscalationPolicy.objects.select_related("updated_by").prefetch_related("levels").order_by("promise_code")


def read(key: str) -> dict[str, Any]:
    found = policies().filter(promise_code=key).first()
    if found is not None:
        return render_policy(found)
    if key == DEFAULT_KEY:
        return BUILTIN
    raise NotFound(f"the escalation chain of {key!r}", "promise_code")


@router.get("/escalation-policies", response=PolicyList)
def list_policies(request: HttpRequest, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """The default chain first (the built-in one while none is set), then every promise's own, by code.

    There are at most as many chains as promises, so they are read whole and paged in memory.
    """
    page(EscalationPolicy.objects.none(), limit, offset, render_policy)  # the same checks of limit and offset
    chains = [render_policy(p) for p in policies()]
    if not chains or chains[0]["promise_code"] is not None:
        chains.insert(0, BUILTIN)
    return {"items": chains[offset : offset + limit], "count": len(chains)}


@router.get("/escalation-policies/{key}", response=PolicyOut)
def read_policy(request: HttpRequest, key: str = PolicyKey) -> dict[str, Any]:
    """`default` is the organisation's chain; any other key is a promise code."""
    return read(_key(key))


@router.put("/escalation-policies/{key}", response=PolicyOut)
def put_policy(request: HttpRequest, payload: PolicyIn, key: str = PolicyKey) -> dict[str, Any]:
    """Replace a chain (managers only). Levels rise owner → team_lead → manager with rising thresholds."""
    levels = [(level.role.value, level.threshold) for level in payload.levels]
    do_set_chain(actor=actor_of(request), now=timezone.now(), promise_code=_key(key), levels=levels)
    return read(_key(key))


@router.delete("/escalation-policies/{key}", response={204: None})
def delete_policy(request: HttpRequest, key: str = PolicyKey) -> Status:
    """Remove a promise's own chain (it follows the default again) or the default (the built-in one applies)."""
    do_delete_chain(actor=actor_of(request), now=timezone.now(), promise_code=_key(key))
    return Status(204, None)


def render_escalation(e: Escalation) -> dict[str, Any]:
    return {
        "id": e.pk,
        "case": e.case_id,
        "commitment": e.commitment_id,
        "promise_code": e.promise_code,
        "role": e.role,
        "threshold": float(e.threshold) if e.threshold is not None else None,
        "trigger": e.trigger,
        "status": e.status,
        "cycle_at": e.cycle_at,
        "fire_at": e.fire_at,
        "fired_at": e.fired_at,
        "notify_at": e.notify_at,
        "to": e.usernames,
        "reason": e.reason or None,
        "created_at": e.created_at,
    }


@router.get("/escalations", response=EscalationList)
def list_escalations(
    request: HttpRequest,
    case: int | None = None,
    status: EscalationStatus | None = None,
    commitment: int | None = None,
    role: Role | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Newest first; `status` pending, fired (someone was told), skipped (nobody to tell) or void."""
    query = Escalation.objects.order_by("-id")
    if case is not None:
        query = query.filter(case_id=case)
    if status is not None:
        query = query.filter(status=status)
    if commitment is not None:
        query = query.filter(commitment_id=commitment)
    if role is not None:
        query = query.filter(role=role)
    return page(query, limit, offset, render_escalation)
