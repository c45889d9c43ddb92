"""Complaints on the customer's page: making one from a case, and seeing where it stands."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client

from promisedesk.breaches.models import RootCause
from promisedesk.cases.models import Case
from promisedesk.complaints.actions import do_record_step
from promisedesk.complaints.models import Complaint
from promisedesk.complaints.steps import StepFields
from promisedesk.conftest import make_promise
from promisedesk.portal import rules

from .conftest import Portal, link
from .test_page import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def recovery(portal: Portal) -> None:
    make_promise(
        portal.api,
        "complaint-acknowledge",
        title="Acknowledge within 1 working hour",
        statement={"en": "We acknowledge your complaint within 1 working hour.", "zh-Hans": "1个工作小时内受理。"},
        applies_to={"case_kinds": ["complaint"]},
        standard={"stop_on": ["complaint_acknowledged"], "target": "PT1H", "calendar": portal.calendar["id"]},
    )


def complain(client: Client, case: Case, key: str | None = None, **data: Any) -> Any:
    body = {"key": key or uuid.uuid4().hex, "lang": "en", "text": "The engineer never came.", "remedy_wanted": "redo"}
    return client.post(f"/c/{case.access_token}/complain/", {**body, **data})


def test_a_customer_complains_about_their_case_once(portal: Portal, client: Client, recovery: None) -> None:
    case = portal.case()
    form_key = uuid.uuid4().hex
    first = complain(client, case, form_key, remedy_detail="Come tomorrow morning")
    again = complain(client, case, form_key)
    complaint = Complaint.objects.get()
    assert first.status_code == again.status_code == 303
    assert first["Location"] == f"/c/{complaint.case.access_token}/?lang=en&done=complaint#complaint"
    assert complaint.case.about == case and complaint.case.channel == "web" and complaint.case.customer == case.customer
    assert complaint.account == "The engineer never came." and complaint.remedy_detail == "Come tomorrow morning"
    page = text_of(client.get(first["Location"]))
    assert "We have received your complaint" in page
    assert "Received: we will contact you to hear what happened." in page
    assert "We acknowledge your complaint within 1 working hour." in page and "Due by 2026-03-02 10:00" in page
    about = text_of(client.get(link(case, lang="en")))
    assert f"Complaint #{complaint.case.pk} : Received" in about


def test_a_complaint_case_offers_no_complaint_form_and_refuses_one(
    portal: Portal, client: Client, recovery: None
) -> None:
    case = portal.case()
    complain(client, case)
    complaint_case = Complaint.objects.get().case
    assert 'id="complaint-form"' not in client.get(link(complaint_case, lang="en")).content.decode()
    refused = complain(client, complaint_case)
    assert refused.status_code == 400 and Complaint.objects.count() == 1


def test_an_empty_complaint_is_refused_and_complaints_are_paced(portal: Portal, client: Client, clock: Any) -> None:
    case = portal.case()
    assert complain(client, case, text="   ").status_code == 400
    for _ in range(rules.PACE_COUNT):
        assert complain(client, case).status_code == 303
    assert complain(client, case).status_code == 429
    assert Complaint.objects.count() == rules.PACE_COUNT


def test_the_customer_sees_the_step_in_their_words_and_nothing_internal(
    portal: Portal, client: Client, staff: Any, clock: Any, recovery: None
) -> None:
    case = portal.case()
    complain(client, case)
    complaint = Complaint.objects.get()
    RootCause.objects.create(code="dispatch", name_en="Dispatch", name_zh="调度")
    do_record_step(complaint, actor=staff, now=clock.now, step="listen", action="done")
    do_record_step(
        complaint, actor=staff, now=clock.now, step="apologise", action="done", fields=StepFields(how="phone")
    )
    do_record_step(
        complaint,
        actor=staff,
        now=clock.now,
        step="collect_facts",
        action="done",
        fields=StepFields(note="Dispatcher double-booked the engineer"),
    )
    page = text_of(client.get(link(complaint.case, lang="en")))
    assert "We are working out how to put it right." in page and "3 of 6 recovery steps taken." in page
    assert "We acknowledged your complaint" in page and "We apologised" in page
    assert "double-booked" not in page and "dispatch" not in page.lower()
