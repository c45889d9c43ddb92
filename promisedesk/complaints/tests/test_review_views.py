"""Fixes from review on the desk pages: event labels, complaint error texts, the compensation forms."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from promisedesk.breaches.models import Compensation
from promisedesk.complaints.models import Complaint
from promisedesk.complaints.views import ERROR_TEXTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(staff: Any) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def open_one(desk: Client, about: int) -> Complaint:
    body = {
        "key": "k" * 32,
        "about": about,
        "channel": "phone",
        "account": "Nobody came to fix the shower.",
        "remedy_wanted": "redo",
        "severity": "high",
    }
    assert desk.post(reverse("complaints:new"), body).status_code == 302
    return Complaint.objects.get()


def test_the_timeline_shows_event_labels_not_codes(desk, hotel):
    complaint = open_one(desk, hotel["stay"]["id"])
    desk.post(reverse("complaints:step", args=[complaint.pk, "listen"]), {"action": "done"})
    page = desk.get(reverse("complaints:complaint", args=[complaint.pk])).content.decode()
    assert '<span class="event-type">complaint acknowledged</span>' in page
    assert '<span class="event-type">complaint_acknowledged</span>' not in page


def test_a_complaint_refusal_is_said_in_words(desk, hotel, centre):
    complaint = open_one(desk, hotel["stay"]["id"])
    url = reverse("complaints:handover", args=[complaint.pk])
    body = {"department": "front_desk", "assignee": "", "reason": "Theirs."}
    assert desk.post(url, body).status_code == 302
    again = desk.post(url, body)
    assert again.status_code == 422
    assert str(ERROR_TEXTS["nothing_changes"]) in again.content.decode()


def test_the_issue_button_checks_the_reference_as_the_desk_does(desk, hotel, staff):
    staff.is_superuser = True
    staff.save()
    complaint = open_one(desk, hotel["stay"]["id"])
    for name in ("listen", "apologise", "collect_facts"):
        desk.post(reverse("complaints:step", args=[complaint.pk, name]), {"action": "skip", "reason": "test"})
    desk.post(
        reverse("complaints:step", args=[complaint.pk, "offer"]),
        {"action": "done", "solution": "A voucher", "compensation_kind": "voucher", "compensation_amount": "80"},
    )
    desk.post(reverse("complaints:compensation", args=[complaint.pk, "approve"]))
    too_long = desk.post(reverse("complaints:compensation", args=[complaint.pk, "issue"]), {"reference": "V" * 101})
    grant = Compensation.objects.get(grant_key=f"complaint:{complaint.pk}")
    assert grant.status == "approved"  # refused, not issued under a cut reference
    assert any("Reference" in str(m) for m in get_messages(too_long.wsgi_request))
