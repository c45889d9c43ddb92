"""The demo's escalation chain: set once by a manager, and what its history owes escalated."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from promisedesk.commitments.sweeper import sweep
from promisedesk.escalations import demo
from promisedesk.escalations.models import Escalation, EscalationPolicy

from .conftest import Office, at

pytestmark = pytest.mark.django_db


def test_load_sets_the_default_chain_once_and_escalates_the_history(office: Office) -> None:
    get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    office.promise()
    office.case(at(2, 9))
    office.clock.to(at(2, 12))
    sweep(at(2, 12))

    first = demo.load(at(2, 12))
    second = demo.load(at(2, 12))

    policy = EscalationPolicy.objects.get()
    assert (policy.promise_code, policy.updated_by.username if policy.updated_by else None) == ("", "admin")
    assert [(level.role, level.threshold) for level in policy.levels.order_by("id")] == [
        ("owner", None),
        ("team_lead", 90),
        ("manager", 100),
    ]
    assert (first.scheduled, first.fired) == (3, 1)
    assert not second
    assert Escalation.objects.count() == 3


def test_load_without_anyone_to_set_the_chain_leaves_the_builtin_one(db: Any) -> None:
    result = demo.load(at(2, 12))
    assert not EscalationPolicy.objects.exists()
    assert not result
