"""Escalation fixtures: an office with a department (lead, manager), a warned promise, cases assigned to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from promisedesk.accounts.models import Department
from promisedesk.cases.models import Case
from promisedesk.commitments.models import Commitment
from promisedesk.commitments.sweeper import sweep
from promisedesk.conftest import SHANGHAI, Api, FrozenClock, make_calendar, make_customer, make_promise, make_service
from promisedesk.escalations.engine import EscalationResult, escalate_due


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """An instant of 2026 in Shanghai (2 March 2026 is a Monday)."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def user(username: str, email: str | None = None, **extra: Any) -> Any:
    email = f"{username}@desk.example" if email is None else email
    return get_user_model().objects.create_user(username, email=email, is_staff=True, **extra)


@dataclass
class Office:
    """A Shanghai office (09–12, 13–18 on weekdays) and the `support` department working its cases."""

    api: Api
    clock: FrozenClock
    calendar: dict[str, Any]
    customer: dict[str, Any]
    owner: Any
    lead: Any
    boss: Any
    department: Department

    def promise(self, code: str = "reply-4h", target: str = "PT4H", warn_at: str | None = "75%", **extra: Any) -> None:
        standard = {
            "start_on": "case_opened",
            "stop_on": ["first_response"],
            "pause_on": ["customer_waiting"],
            "resume_on": ["customer_replied"],
            "target": target,
            "calendar": extra.pop("calendar", self.calendar["id"]),
            "warn_at": warn_at,
        }
        make_promise(self.api, code=code, standard=standard, **extra)

    def case(self, opened: datetime, *, assignee: Any = "owner", department: bool = True) -> Case:
        """A case opened at `opened` (the clock moved there), assigned to the owner in `support`."""
        self.clock.to(opened)
        response = self.api.post("/cases", {"customer": self.customer["id"], "service": "install"})
        assert response.status_code == 201, response.content
        person = self.owner if assignee == "owner" else assignee
        Case.objects.filter(pk=response.json()["id"]).update(
            assignee=person, department=self.department if department else None
        )
        return Case.objects.get(pk=response.json()["id"])

    def event(self, case: Case, type: str, when: datetime) -> None:
        self.clock.to(when)
        response = self.api.post(f"/cases/{case.pk}/events", {"type": type, "at": when.isoformat()})
        assert response.status_code == 201, response.content

    def run(self, now: datetime) -> EscalationResult:
        """What the worker does at now: sweep the clocks, then escalate."""
        self.clock.to(now)
        sweep(now)
        return escalate_due(now)

    @staticmethod
    def commitment(case: Case) -> Commitment:
        return Commitment.objects.get(case=case)


@pytest.fixture
def office(api: Api, clock: FrozenClock, staff: Any) -> Office:
    staff.email = "agent@desk.example"
    staff.save(update_fields=["email"])
    calendar = make_calendar(api)
    make_service(api)
    customer = make_customer(api)
    lead, boss = user("lead"), user("boss")
    department = Department.objects.create(code="support", name="Support", lead=lead, manager=boss)
    department.members.add(staff, lead)
    return Office(api, clock, calendar, customer, staff, lead, boss, department)


@pytest.fixture
def manager_user(db: Any) -> Any:
    person = user("manager_mia")
    person.groups.add(Group.objects.get_or_create(name="manager")[0])
    return person
