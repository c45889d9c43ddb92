"""The promise catalogue over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field, StrictInt

from promisedesk.actors import actor_of
from promisedesk.cases.api import list_of
from promisedesk.schemas import Input, page

from .actions import do_create_promise, do_edit_promise, do_publish_promise, do_retire_promise, latest_version
from .models import Coverage, Form, Kind, Promise, PromiseVersion

router = Router(tags=["promises"])

Statement = str | dict[str, str]


class AppliesTo(Input):
    services: list[str] = Field(default_factory=list, max_length=200)
    channels: list[str] = Field(default_factory=list, max_length=20)
    customer_tiers: list[str] = Field(default_factory=list, max_length=50)
    priorities: list[str] = Field(default_factory=list, max_length=10)
    case_kinds: list[str] = Field(
        default_factory=list, max_length=2, description="service, complaint; empty means service cases only"
    )


class Standard(Input):
    start_on: str | list[str] | None = None
    stop_on: str | list[str] | None = None
    pause_on: str | list[str] | None = None
    resume_on: str | list[str] | None = None
    target: str | None = Field(default=None, max_length=32)
    calendar: StrictInt | str | None = None
    warn_at: str | None = Field(default=None, max_length=32)
    breach_by: str | None = Field(default=None, max_length=32)
    max_pause: str | None = Field(default=None, max_length=32)


class Liability(Input):
    kind: str = Field(max_length=16)
    amount: str | float | int | None = None
    percent_of_price: str | float | int | None = None
    multiple_of_price: str | float | int | None = None
    cap: str | float | int | None = None
    currency: str | None = Field(default=None, max_length=3)
    verification_required: bool = False
    automatic: bool = False


class PromiseIn(Input):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    title: str = Field(min_length=1, max_length=200)
    statement: Statement
    kind: Kind
    coverage: Coverage = Coverage.FULL
    form: Form = Form.WRITTEN
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    standard: Standard = Field(default_factory=Standard)
    liability: Liability | None = None


class PromisePatch(Input):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    statement: Statement | None = None
    kind: Kind | None = None
    coverage: Coverage | None = None
    form: Form | None = None
    applies_to: AppliesTo | None = None
    standard: Standard | None = None
    liability: Liability | None = None


class VersionOut(Schema):
    code: str
    version: int
    status: str
    title: str
    statement: dict[str, str]
    kind: str
    coverage: str
    form: str
    applies_to: dict[str, list[str]]
    standard: dict[str, Any]
    liability: dict[str, Any] | None
    created_at: datetime
    published_at: datetime | None
    published_by: str | None
    superseded_at: datetime | None
    retired_at: datetime | None
    retired_by: str | None


def render(v: PromiseVersion) -> dict[str, Any]:
    return {
        "code": v.promise.code,
        "version": v.number,
        "status": v.status,
        "title": v.title,
        "statement": v.statement,
        "kind": v.kind,
        "coverage": v.coverage,
        "form": v.form,
        "applies_to": v.applies_to,
        "standard": v.standard,
        "liability": v.liability,
        "created_at": v.created_at,
        "published_at": v.published_at,
        "published_by": v.published_by.get_username() if v.published_by else None,
        "superseded_at": v.superseded_at,
        "retired_at": v.retired_at,
        "retired_by": v.retired_by.get_username() if v.retired_by else None,
    }


def _fields(payload: Input, *, exclude_unset: bool) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=exclude_unset)
    data.pop("code", None)
    for key in ("standard", "applies_to"):
        if data.get(key) is not None:
            data[key] = {k: v for k, v in data[key].items() if v is not None}
    if data.get("liability") is not None:
        data["liability"] = {k: v for k, v in data["liability"].items() if v is not None}
    return data


@router.post("", response={201: VersionOut})
def create_promise(request: HttpRequest, payload: PromiseIn) -> Status:
    fields = _fields(payload, exclude_unset=False)
    return Status(
        201, render(do_create_promise(actor=actor_of(request), now=timezone.now(), code=payload.code, **fields))
    )


@router.get("", response=list_of(VersionOut))
def list_promises(request: HttpRequest, status: str | None = None, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """The latest version of every promise (or of those with the given status)."""
    latest = PromiseVersion.objects.select_related("promise", "published_by", "retired_by").order_by(
        "promise__code", "-number"
    )
    if status:
        latest = latest.filter(status=status)
    seen: dict[int, PromiseVersion] = {}
    for version in latest:
        seen.setdefault(version.promise_id, version)
    ids = [v.pk for v in seen.values()]
    query = (
        PromiseVersion.objects.filter(pk__in=ids)
        .select_related("promise", "published_by", "retired_by")
        .order_by("promise__code")
    )
    return page(query, limit, offset, render)


@router.get("/{code}", response=VersionOut)
def read_promise(request: HttpRequest, code: str) -> dict[str, Any]:
    return render(latest_version(code))


@router.patch("/{code}", response=VersionOut)
def edit_promise(request: HttpRequest, code: str, payload: PromisePatch) -> dict[str, Any]:
    fields = {k: v for k, v in _fields(payload, exclude_unset=True).items() if v is not None}
    return render(do_edit_promise(actor=actor_of(request), now=timezone.now(), code=code, **fields))


@router.post("/{code}/publish", response=VersionOut)
def publish_promise(request: HttpRequest, code: str) -> dict[str, Any]:
    return render(do_publish_promise(actor=actor_of(request), now=timezone.now(), code=code))


@router.post("/{code}/retire", response=VersionOut)
def retire_promise(request: HttpRequest, code: str) -> dict[str, Any]:
    return render(do_retire_promise(actor=actor_of(request), now=timezone.now(), code=code))


@router.get("/{code}/versions", response=list_of(VersionOut))
def list_versions(request: HttpRequest, code: str, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    latest_version(code)
    query = PromiseVersion.objects.filter(promise__code=code).select_related("promise", "published_by", "retired_by")
    return page(query.order_by("number"), limit, offset, render)


__all__ = ["Promise", "router"]
