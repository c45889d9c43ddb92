"""Breaches over HTTP (listing; reporting and verification come with make-good)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from promisedesk.schemas import page

from .models import Breach

router = Router(tags=["breaches"])


class BreachOut(Schema):
    id: int
    case: int
    commitment: int | None
    promise_code: str | None
    source: str
    status: str
    detected_at: datetime
    root_cause: str


class BreachList(Schema):
    items: list[BreachOut]
    count: int


def render(breach: Breach) -> dict[str, Any]:
    return {
        "id": breach.pk,
        "case": breach.case_id,
        "commitment": breach.commitment_id,
        "promise_code": breach.promise_code,
        "source": breach.source,
        "status": breach.status,
        "detected_at": breach.detected_at,
        "root_cause": breach.root_cause,
    }


@router.get("", response=BreachList)
def list_breaches(
    request: HttpRequest,
    case: int | None = None,
    promise: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    query = Breach.objects.order_by("-detected_at", "-id")
    if case is not None:
        query = query.filter(case_id=case)
    if promise:
        query = query.filter(promise_code=promise)
    if status:
        query = query.filter(status=status)
    return page(query, limit, offset, render)
