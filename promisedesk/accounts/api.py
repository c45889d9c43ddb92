"""Departments over HTTP: the teams cases are assigned to, with their lead, manager and members."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from promisedesk.actors import actor_of
from promisedesk.errors import NotFound
from promisedesk.schemas import Input, page

from .actions import do_create_department, do_update_department
from .models import Department
from .roles import require_manager

router = Router(tags=["departments"])

DepartmentCode = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
Username = Field(default=None, min_length=1, max_length=150)


class DepartmentIn(Input):
    code: str = DepartmentCode
    name: str = Field(min_length=1, max_length=200)
    lead: str | None = Username
    manager: str | None = Username
    members: list[str] = Field(default_factory=list, max_length=500)


class DepartmentPatch(Input):
    """Only the fields sent change; `lead` or `manager` null removes them; `members` is the whole new list."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    lead: str | None = Username
    manager: str | None = Username
    members: list[str] | None = Field(default=None, max_length=500)


class DepartmentOut(Schema):
    code: str
    name: str
    lead: str | None
    manager: str | None
    members: list[str]


class DepartmentList(Schema):
    items: list[DepartmentOut]
    count: int


def departments() -> QuerySet[Department]:
    return Department.objects.select_related("lead", "manager").prefetch_related("members").order_by("code")


def render_department(d: Department) -> dict[str, Any]:
    return {
        "code": d.code,
        "name": d.name,
        "lead": d.lead.get_username() if d.lead else None,
        "manager": d.manager.get_username() if d.manager else None,
        "members": sorted(m.get_username() for m in d.members.all()),
    }


def get_department(code: str) -> Department:
    found = departments().filter(code=code).first()
    if found is None:
        raise NotFound(f"department {code!r}")
    return found


@router.get("departments", response=DepartmentList)
def list_departments(request: HttpRequest, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Every department, by code, with its people."""
    return page(departments(), limit, offset, render_department)


def _require_manager(request: HttpRequest) -> None:
    # Departments decide who is told when a promise is at risk: not for anyone to rearrange.
    require_manager(request.user, "only managers may change departments")


@router.post("departments", response={201: DepartmentOut})
def create_department(request: HttpRequest, payload: DepartmentIn) -> Status:
    _require_manager(request)
    department = do_create_department(actor=actor_of(request), now=timezone.now(), **payload.model_dump())
    return Status(201, render_department(get_department(department.code)))


@router.get("departments/{code}", response=DepartmentOut)
def read_department(request: HttpRequest, code: str) -> dict[str, Any]:
    return render_department(get_department(code))


@router.patch("departments/{code}", response=DepartmentOut)
def update_department(request: HttpRequest, code: str, payload: DepartmentPatch) -> dict[str, Any]:
    _require_manager(request)
    changes = payload.model_dump(include=payload.model_fields_set)
    if changes.get("name", "") is None:
        changes.pop("name")  # a department always has a name
    do_update_department(get_department(code), actor=actor_of(request), now=timezone.now(), changes=changes)
    return render_department(get_department(code))
