"""The portal's part of the demo loads once, however often it is run."""

from __future__ import annotations

from typing import Any

import pytest

from promisedesk.cases.models import Attachment, CaseEvent
from promisedesk.commitments.models import Commitment
from promisedesk.conftest import make_promise
from promisedesk.portal import demo

from .conftest import Portal

pytestmark = pytest.mark.django_db


def test_demo_sends_the_guests_photo_once_and_resumes_the_clock(portal: Portal, clock: Any) -> None:
    make_promise(
        portal.api,
        code="resolve-48h",
        statement={"en": "Resolved within 48 hours."},
        standard={
            "start_on": "case_opened",
            "stop_on": ["resolved"],
            "pause_on": ["customer_waiting"],
            "resume_on": ["customer_replied"],
            "target": "PT48H",
        },
    )
    case = portal.case(external_ref=demo.CASE_REF)
    portal.api.post(f"/cases/{case.pk}/events", {"type": "customer_waiting"})
    clock.advance(hours=1)
    demo.load(clock.now)
    demo.load(clock.now)
    entry = CaseEvent.objects.get(case=case, type="customer_replied")
    assert entry.data["kind"] == "information"
    assert Attachment.objects.get(case=case).filename == "bill.png"
    assert Commitment.objects.get(case=case, promise_code="resolve-48h").state == "running"


def test_demo_without_its_case_does_nothing(db: Any, clock: Any) -> None:
    demo.load(clock.now)
    assert not CaseEvent.objects.exists()
