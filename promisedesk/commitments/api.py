"""Commitments over HTTP: the open queue, one commitment, keep or cancel it."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router
from pydantic import Field

from promisedesk.actors import actor_of
from promisedesk.cases.api import CommitmentOut, list_of, render_commitment
from promisedesk.errors import NotFound
from promisedesk.schemas import Input, page

from .actions import do_cancel_commitment, do_fulfil_commitment
from .models import Commitment, State

router = Router(tags=["commitments"])


class CancelIn(Input):
    reason: str = Field(min_length=1, max_length=500)


def get_commitment(commitment_id: int) -> Commitment:
    found = Commitment.objects.select_related("promise_version", "owner").filter(pk=commitment_id).first()
    if found is None:
        raise NotFound(f"commitment {commitment_id}")
    return found


@router.get("", response=list_of(CommitmentOut))
def list_commitments(
    request: HttpRequest,
    state: State | None = None,
    case: int | None = None,
    owner: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Soonest due first: the queue of promises to keep."""
    query = Commitment.objects.select_related("promise_version", "owner").order_by(
        F("due_at").asc(nulls_last=True), "id"
    )
    if state:
        query = query.filter(state=state)
    if case is not None:
        query = query.filter(case_id=case)
    if owner:
        query = query.filter(owner__username=owner)
    return page(query, limit, offset, render_commitment)


@router.get("/{commitment_id}", response=CommitmentOut)
def read_commitment(request: HttpRequest, commitment_id: int) -> dict[str, Any]:
    return render_commitment(get_commitment(commitment_id))


@router.post("/{commitment_id}/fulfil", response=CommitmentOut)
def fulfil(request: HttpRequest, commitment_id: int) -> dict[str, Any]:
    done = do_fulfil_commitment(get_commitment(commitment_id), actor=actor_of(request), now=timezone.now())
    return render_commitment(get_commitment(done.pk))


@router.post("/{commitment_id}/cancel", response=CommitmentOut)
def cancel(request: HttpRequest, commitment_id: int, payload: CancelIn) -> dict[str, Any]:
    done = do_cancel_commitment(
        get_commitment(commitment_id), actor=actor_of(request), now=timezone.now(), reason=payload.reason
    )
    return render_commitment(get_commitment(done.pk))
