"""The demo's actions: made once, each where its story leaves it, and the installer's late arrivals named."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from promisedesk.accounts.models import Department
from promisedesk.breaches.models import Breach, RootCause
from promisedesk.capa import demo
from promisedesk.capa.models import CapaAlert, CorrectiveAction
from promisedesk.conftest import make_customer, make_promise, make_service, open_case

from .conftest import person


@pytest.fixture
def organisation(api: Any) -> None:
    """Just what the demo's actions build on: the staff, departments, promises and root causes they name."""
    staff = {name: person(name, manager=name == "zhou.min") for name in demo.MANAGER_AND_OWNERS}
    for plan in demo.PLANS:
        Department.objects.get_or_create(
            code=plan.department, defaults={"name": plan.department, "lead": staff[plan.owner]}
        )
    for code in {plan.promise for plan in demo.PLANS}:
        make_promise(api, code=code)
    for code in ("dispatch", "training", "supplier"):
        RootCause.objects.get_or_create(code=code, defaults={"name_en": code, "name_zh": code})


def test_load_makes_each_action_once_where_its_story_leaves_it(organisation: None, clock: Any) -> None:
    assert demo.load(clock.now) == 4
    assert demo.load(clock.now) == 0
    by_status = sorted(CorrectiveAction.objects.values_list("status", flat=True))
    assert by_status == ["done", "done", "in_progress", "open"]
    overdue = CorrectiveAction.objects.get(status="open")
    assert overdue.is_overdue(clock.now)
    assert CapaAlert.objects.filter(action=overdue, kind="overdue").count() == 1  # chased, once
    assert all(a.promise is not None for a in CorrectiveAction.objects.all())


def test_load_names_only_late_arrivals_from_before_the_action(organisation: None, api: Any, clock: Any) -> None:
    make_service(api)
    case = open_case(api, make_customer(api)["id"])
    old = Breach.objects.create(
        case_id=case["id"],
        promise_code=demo.LATE_ARRIVALS,
        source="clock",
        status="verified",
        detected_at=clock.now - timedelta(days=25),
        recorded_at=clock.now - timedelta(days=25),
    )
    recent = Breach.objects.create(
        case_id=case["id"],
        promise_code=demo.LATE_ARRIVALS,
        source="clock",
        status="verified",
        detected_at=clock.now - timedelta(days=2),
        recorded_at=clock.now - timedelta(days=2),
    )
    demo.load(clock.now)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.root_cause, recent.root_cause) == ("dispatch", "")


def test_without_the_demo_organisation_nothing_is_made(db: Any, clock: Any) -> None:
    assert demo.load(clock.now) == 0
    assert not CorrectiveAction.objects.exists()
