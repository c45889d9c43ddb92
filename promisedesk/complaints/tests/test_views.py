"""The desk's complaint pages: the queue, the new-complaint form and the guided page."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from promisedesk.breaches.models import Compensation
from promisedesk.complaints.models import Complaint, RecoveryStep

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(staff: Any) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def open_one(desk: Client, about: int, **extra: Any) -> Any:
    body = {
        "key": "k" * 32,
        "about": about,
        "channel": "phone",
        "account": "Nobody came to fix the shower.",
        "remedy_wanted": "redo",
        "severity": "high",
        **extra,
    }
    return desk.post(reverse("complaints:new"), body)


def test_the_desk_is_for_staff_only(hotel, client):
    assert client.get(reverse("complaints:queue")).status_code == 302
    customer = get_user_model().objects.create_user("guest", password="pw-guest-123")
    client.force_login(customer)
    assert client.get(reverse("complaints:queue")).status_code == 403


def test_staff_log_a_phone_complaint_about_a_case_once(desk, hotel):
    page = desk.get(reverse("complaints:new") + f"?about={hotel['stay']['id']}")
    assert page.status_code == 200 and f'value="{hotel["stay"]["id"]}"' in page.content.decode()
    first = open_one(desk, hotel["stay"]["id"])
    again = open_one(desk, hotel["stay"]["id"])  # the same form sent twice
    complaint = Complaint.objects.get()
    assert first.status_code == 302 and first["Location"] == reverse("complaints:complaint", args=[complaint.pk])
    assert again["Location"] == first["Location"]
    assert complaint.case.about_id == hotel["stay"]["id"] and complaint.remedy_wanted == "redo"


def test_the_form_shows_what_is_wrong(desk, hotel):
    refused = open_one(desk, hotel["other_stay"]["id"], customer=str(hotel["guest"]["id"]))
    assert refused.status_code == 422 and not Complaint.objects.exists()
    unknown = open_one(desk, "", customer="nobody@example.com")
    assert unknown.status_code == 422 and "No customer has that number" in unknown.content.decode()


def test_the_queue_lists_by_due_time_and_filters(desk, hotel, clock, centre):
    open_one(desk, hotel["stay"]["id"], severity="low")
    clock.advance(minutes=5)
    open_one(desk, hotel["stay"]["id"], key="m" * 32, severity="critical", department="customer_centre")
    page = desk.get(reverse("complaints:queue")).content.decode()
    first, second = Complaint.objects.order_by("pk")
    assert page.index(f'data-complaint="{first.pk}"') < page.index(f'data-complaint="{second.pk}"')
    critical = desk.get(reverse("complaints:queue"), {"severity": "critical"}).content.decode()
    assert f'data-complaint="{second.pk}"' in critical and f'data-complaint="{first.pk}"' not in critical
    mine = desk.get(reverse("complaints:queue"), {"mine": "on"}).content.decode()
    assert f'data-complaint="{first.pk}"' not in mine


def test_the_guided_page_takes_the_current_step_and_refuses_a_silent_skip(desk, hotel):
    open_one(desk, hotel["stay"]["id"])
    complaint = Complaint.objects.get()
    url = reverse("complaints:complaint", args=[complaint.pk])
    page = desk.get(url).content.decode()
    assert 'data-step="listen" data-state="current"' in page and "Nobody came to fix the shower." in page
    skip = desk.post(reverse("complaints:step", args=[complaint.pk, "listen"]), {"action": "skip", "reason": ""})
    assert skip.status_code == 422 and not RecoveryStep.objects.exists()
    done = desk.post(
        reverse("complaints:step", args=[complaint.pk, "listen"]),
        {"action": "done", "account": "Cold water for two days."},
    )
    assert done.status_code == 302
    page = desk.get(url).content.decode()
    assert 'data-step="listen" data-state="done"' in page and 'data-step="apologise" data-state="current"' in page
    assert "Cold water for two days." in page
    out_of_order = desk.post(
        reverse("complaints:step", args=[complaint.pk, "offer"]), {"action": "done", "solution": "x"}
    )
    assert out_of_order.status_code == 422


def test_compensation_is_approved_within_the_limit_and_issued(desk, hotel, staff):
    open_one(desk, hotel["stay"]["id"])
    complaint = Complaint.objects.get()
    for name in ("listen", "apologise", "collect_facts"):
        desk.post(reverse("complaints:step", args=[complaint.pk, name]), {"action": "skip", "reason": "test"})
    desk.post(
        reverse("complaints:step", args=[complaint.pk, "offer"]),
        {"action": "done", "solution": "A voucher", "compensation_kind": "voucher", "compensation_amount": "80"},
    )
    grant = Compensation.objects.get(grant_key=f"complaint:{complaint.pk}")
    page = desk.get(reverse("complaints:complaint", args=[complaint.pk])).content.decode()
    assert 'id="approve-form"' not in page and "Above your approval limit" in page
    refused = desk.post(reverse("complaints:compensation", args=[complaint.pk, "approve"]))
    grant.refresh_from_db()
    assert refused.status_code == 302 and grant.status == "proposed"
    staff.is_superuser = True
    staff.save()
    assert 'id="approve-form"' in desk.get(reverse("complaints:complaint", args=[complaint.pk])).content.decode()
    desk.post(reverse("complaints:compensation", args=[complaint.pk, "approve"]))
    desk.post(reverse("complaints:compensation", args=[complaint.pk, "issue"]), {"reference": "V-1"})
    grant.refresh_from_db()
    assert grant.status == "issued" and grant.reference == "V-1"


def test_the_queue_reads_as_many_complaints_in_as_few_queries(desk, hotel, stay_case):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(3):
        assert open_one(desk, stay_case.pk, key=f"{n}" * 32).status_code == 302
    with CaptureQueriesContext(connection) as few:
        assert desk.get(reverse("complaints:queue")).status_code == 200
    for n in range(3, 9):
        assert open_one(desk, stay_case.pk, key=f"{n}" * 32).status_code == 302
    with CaptureQueriesContext(connection) as many:
        assert desk.get(reverse("complaints:queue")).status_code == 200
    assert Complaint.objects.count() == 9
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
