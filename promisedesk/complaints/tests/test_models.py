"""What the database itself guarantees about complaints and their steps."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from promisedesk.breaches.actions import do_report_breach
from promisedesk.cases.models import Case
from promisedesk.complaints.actions import do_open_complaint, do_record_step
from promisedesk.complaints.models import Complaint, RecoveryStep
from promisedesk.complaints.steps import StepFields, follow_up_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaint(hotel: dict[str, Any], staff: Any, clock: Any) -> Complaint:
    made, _ = do_open_complaint(
        actor=staff, now=clock.now, account="Loud music all night.", about_case_id=hotel["stay"]["id"]
    )
    return made


def test_a_skip_without_a_reason_is_refused_by_the_database(complaint, clock):
    with pytest.raises(IntegrityError), transaction.atomic():
        RecoveryStep.objects.create(complaint=complaint, step="listen", status="skipped", reason="", at=clock.now)


def test_a_step_is_recorded_once_by_the_database(complaint, clock):
    RecoveryStep.objects.create(complaint=complaint, step="listen", status="done", at=clock.now)
    with pytest.raises(IntegrityError), transaction.atomic():
        RecoveryStep.objects.create(complaint=complaint, step="listen", status="skipped", reason="x", at=clock.now)


def test_a_closed_complaint_without_a_root_cause_is_refused_by_the_database(complaint, clock):
    with pytest.raises(IntegrityError), transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(status="closed", resolved_at=clock.now, closed_at=clock.now)
    Complaint.objects.filter(pk=complaint.pk).update(
        status="closed", resolved_at=clock.now, closed_at=clock.now, root_cause="training"
    )


def test_a_breach_raises_at_most_one_complaint_in_the_database(complaint, hotel, clock):
    breach, _ = do_report_breach(
        actor=None,
        now=clock.now,
        case=Case.objects.get(pk=hotel["stay"]["id"]),
        source="claim",
        description="late",
        promise_code="stay-reply",
    )
    Complaint.objects.filter(pk=complaint.pk).update(source_breach=breach)
    other, _ = do_open_complaint(actor=None, now=clock.now, account="Again.", about_case_id=hotel["stay"]["id"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Complaint.objects.filter(pk=other.pk).update(source_breach=breach)


def test_the_follow_up_sits_on_the_owners_queue_and_is_met_by_the_follow_up(complaint, staff, clock, centre):
    for step in ("listen", "apologise", "collect_facts", "offer"):
        do_record_step(complaint, actor=staff, now=clock.now, step=step, action="skip", reason="test")
    do_record_step(
        complaint, actor=staff, now=clock.now, step="tell_result", action="done", fields=StepFields(outcome="Done.")
    )
    complaint.refresh_from_db()
    follow_up = complaint.follow_up_commitment
    assert follow_up is not None and follow_up.owner == staff and follow_up.state == "running"
    desk = Client()
    desk.force_login(staff)
    mine = desk.get("/desk/", {"mine": "on"}).content.decode()
    assert follow_up_statement("zh-Hans") in mine
    # handed over to a colleague, the follow-up goes with it
    from promisedesk.complaints.actions import do_handover

    do_handover(complaint, actor=staff, now=clock.now, department="front_desk", assignee="li.na", reason="Their guest.")
    follow_up.refresh_from_db()
    assert follow_up.owner is not None and follow_up.owner.get_username() == "li.na"
    assert follow_up_statement("zh-Hans") not in desk.get("/desk/", {"mine": "on"}).content.decode()
    do_record_step(
        complaint,
        actor=staff,
        now=clock.advance(days=1),
        step="follow_up",
        action="done",
        fields=StepFields(note="Fine now."),
    )
    follow_up.refresh_from_db()
    assert follow_up.state == "met"
