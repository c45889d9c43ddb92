"""The demo's incidents: a delay told and compensated, a typhoon excluded as force majeure; loaded once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from promisedesk.breaches.models import ApprovalLimit, Breach, Compensation
from promisedesk.cases.models import Case, CaseEvent
from promisedesk.conftest import make_promise
from promisedesk.notifications.models import OutboxMessage
from promisedesk.recovery import demo
from promisedesk.recovery.models import BulkRun, Incident, IncidentCase, Outcome
from promisedesk.recovery.selectors import counts_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_staff(airline: Any) -> None:
    """The demo's airline duty manager (team lead, CNY 500) and quality manager, and the delay-notice promise."""
    for username, role, limit in (("emma.hughes", "team_lead", "500"), ("zhou.min", "manager", "5000")):
        user = get_user_model().objects.create_user(username, is_staff=True)
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        ApprovalLimit.objects.create(role=role, currency="CNY", max_amount=Decimal(limit))
    make_promise(
        airline.api,
        code="flight-delay-notice",
        applies_to={"services": ["flight"], "channels": [], "customer_tiers": [], "priorities": []},
        standard={"start_on": "delay_known", "stop_on": ["delay_notified"], "target": "PT30M"},
        liability={
            "kind": "voucher",
            "amount": "200",
            "currency": "CNY",
            "verification_required": False,
            "automatic": True,
        },
    )


def test_load_makes_both_incidents_once(demo_staff: None, clock: Any) -> None:
    first = demo.load(clock.now)
    assert first.incidents == ["ES5199-DELAY", "PVG-TYPHOON"] and first.attached == 16 + 8

    delay = Incident.objects.get(code="ES5199-DELAY")
    assert counts_of(delay) == {
        "affected": 16,
        "notified": 16,
        "compensated": 16,
        "awaiting_approval": 0,
        "excluded": 0,
        "skipped": 0,
    }
    vouchers = Compensation.objects.filter(grant_key__startswith=f"incident:{delay.pk}:")
    assert vouchers.count() == 16 and set(vouchers.values_list("status", flat=True)) == {"approved"}
    assert (
        OutboxMessage.objects.filter(
            event_key__startswith=f"incident:{delay.pk}:case:", event="incident_notice"
        ).count()
        == 32
    )

    typhoon = Incident.objects.get(code="PVG-TYPHOON")
    assert typhoon.force_majeure and typhoon.force_majeure_by is not None
    assert typhoon.force_majeure_by.username == "zhou.min"
    assert counts_of(typhoon)["excluded"] == 8
    breaches = Breach.objects.filter(case__external_ref__startswith="DEMO-INC-TY-")
    assert breaches.count() == 8 and set(breaches.values_list("exclusion", flat=True)) == {"force_majeure"}
    assert not Compensation.objects.filter(breach__in=breaches).exists()

    snapshot = (
        Case.objects.count(),
        IncidentCase.objects.count(),
        BulkRun.objects.count(),
        CaseEvent.objects.count(),
        OutboxMessage.objects.count(),
        Compensation.objects.count(),
        Breach.objects.count(),
    )
    second = demo.load(clock.now)
    assert second.attached == 0
    assert snapshot == (
        Case.objects.count(),
        IncidentCase.objects.count(),
        BulkRun.objects.count(),
        CaseEvent.objects.count(),
        OutboxMessage.objects.count(),
        Compensation.objects.count(),
        Breach.objects.count(),
    )
    assert not IncidentCase.objects.filter(outcome=Outcome.SKIPPED).exists()


def test_load_without_the_demo_staff_does_nothing(db: Any, clock: Any) -> None:
    assert demo.load(clock.now).incidents == []
    assert not Incident.objects.exists()
