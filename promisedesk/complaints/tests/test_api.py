"""The complaints API: opening, the steps in order, handover, closing, errors and query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from promisedesk.breaches.models import Compensation
from promisedesk.cases.models import Case, CaseEvent
from promisedesk.commitments.models import Commitment
from promisedesk.complaints.models import Complaint
from promisedesk.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def complain(api: Any, about: int | None, **extra: Any) -> Any:
    body = {"account": "The gold-card discount was missing from my bill.", "remedy_wanted": "refund", **extra}
    if about is not None:
        body["about"] = about
    return api.post("/complaints", body)


def step(api: Any, complaint: int, name: str, **body: Any) -> Any:
    return api.post(f"/complaints/{complaint}/steps/{name}", {"action": "done", **body})


def test_a_complaint_about_a_stay_is_a_complaint_case_with_the_recovery_promises(api, hotel):
    # when
    response = complain(
        api, hotel["stay"]["id"], severity="high", category="billing", channel="walk_in", amount_in_dispute="138"
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["case"])
    assert case.kind == "complaint" and case.about_id == hotel["stay"]["id"]
    assert case.customer_id == hotel["guest"]["id"] and case.priority == "high" and case.channel == "walk_in"
    assert case.price == 138  # the amount in dispute: what a promise refunding "the amount" pays
    assert sorted(c["promise_code"] for c in body["commitments"]) == ["complaint-acknowledge", "complaint-resolve"]
    assert all(c["state"] == "running" and c["due_at"] for c in body["commitments"])
    assert body["status"] == "open" and body["current_step"] == "listen" and body["category"] == "billing"
    assert body["next_due_at"] == min(c["due_at"] for c in body["commitments"])
    assert body["account"] == "The gold-card discount was missing from my bill."


def test_a_complaint_about_another_customers_case_is_refused(api, hotel):
    response = complain(api, hotel["other_stay"]["id"], customer=hotel["guest"]["id"])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_your_case"
    assert response.json()["error"]["field"] == "about"
    assert not Complaint.objects.exists() and not Case.objects.filter(kind="complaint").exists()


def test_opening_is_idempotent_by_external_ref(api, hotel):
    first = complain(api, hotel["stay"]["id"], external_ref="CALL-1")
    again = complain(api, hotel["stay"]["id"], external_ref="CALL-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Complaint.objects.count() == 1
    # a reference already used by an ordinary case is a conflict, not that case
    taken = Case.objects.get(pk=hotel["stay"]["id"])
    Case.objects.filter(pk=taken.pk).update(external_ref="STAY-7")
    clash = complain(api, None, customer=hotel["guest"]["id"], service="hotel-stay", external_ref="STAY-7")
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "external_ref_taken"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"account": "   "}, 400, "missing_field", "account"),
        ({"severity": "apocalyptic"}, 422, "invalid", "severity"),
        ({"category": "nope"}, 400, "unknown_category", "category"),
        ({"department": "nowhere"}, 400, "unknown_department", "department"),
        ({"about": 999999}, 404, "not_found", "about"),
        ({"colour": "red"}, 422, "unknown_field", "colour"),
    ],
)
def test_bad_complaints_get_the_error_shape(api, hotel, body, status, code, field):
    response = api.post("/complaints", {"account": "It went wrong.", "about": hotel["stay"]["id"], **body})
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code and response.json()["error"]["field"] == field


def test_a_general_complaint_needs_a_customer_and_a_service(api, hotel):
    assert complain(api, None).json()["error"]["field"] == "customer"
    missing = complain(api, None, customer=hotel["guest"]["id"])
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "service"
    general = complain(api, None, customer=hotel["guest"]["id"], service="hotel-stay")
    assert general.status_code == 201 and general.json()["about"] is None


def test_steps_go_in_order_and_a_skip_needs_a_reason(api, hotel):
    complaint = complain(api, hotel["stay"]["id"]).json()["id"]
    early = step(api, complaint, "offer", solution="Refund the difference")
    assert early.status_code == 409 and early.json()["error"]["code"] == "step_out_of_order"
    silent = api.post(f"/complaints/{complaint}/steps/listen", {"action": "skip"})
    assert silent.status_code == 400 and silent.json()["error"]["code"] == "missing_field"
    assert silent.json()["error"]["field"] == "reason"
    assert step(api, complaint, "listen", account="I was charged the full rate.").status_code == 201
    again = step(api, complaint, "listen")
    assert again.status_code == 409 and again.json()["error"]["code"] == "step_recorded"
    stray = step(api, complaint, "apologise", how="phone", solution="not here")
    assert stray.status_code == 400 and stray.json()["error"] == {
        "code": "unknown_field",
        "message": "solution is not part of the apologise step",
        "field": "solution",
    }
    bad_step = step(api, complaint, "dance")
    assert bad_step.status_code == 422


def test_listening_acknowledges_and_stops_the_acknowledge_clock(api, hotel, clock):
    complaint = complain(api, hotel["stay"]["id"]).json()["id"]
    clock.advance(minutes=20)
    body = step(api, complaint, "listen", account="I was charged 688 instead of 550.").json()
    states = {c["promise_code"]: c["state"] for c in body["commitments"]}
    assert states == {"complaint-acknowledge": "met", "complaint-resolve": "running"}
    assert body["steps"][0]["data"] == {"account": "I was charged 688 instead of 550."}


def test_the_apology_is_sent_in_the_customers_language(api, hotel):
    complaint = complain(api, hotel["stay"]["id"]).json()["id"]
    step(api, complaint, "listen")
    response = step(api, complaint, "apologise", how="message", note="我们马上核实账单。")
    assert response.status_code == 201, response.content
    messages = OutboxMessage.objects.filter(event="complaint_apology")
    assert {m.channel for m in messages} == {"email", "sms"}
    body = messages.get(channel="email").body
    assert "Li Lei" in body and "金卡" not in body and "我们马上核实账单。" in body
    assert "The gold-card discount was missing from my bill." in body
    assert messages.first().language == "zh-Hans"


def test_a_full_recovery_through_the_api(api, hotel, clock, staff):
    # given
    staff.is_superuser = True
    staff.save()
    complaint = complain(api, hotel["stay"]["id"], severity="high").json()["id"]
    # when
    step(api, complaint, "listen")
    step(api, complaint, "apologise", how="phone")
    skipped = api.post(
        f"/complaints/{complaint}/steps/collect_facts", {"action": "skip", "reason": "The folio shows it plainly."}
    )
    offered = step(
        api, complaint, "offer", solution="Refund the difference", compensation_kind="refund", compensation_amount="138"
    )
    grant = Compensation.objects.get(grant_key=f"complaint:{complaint}")
    assert api.post(f"/compensations/{grant.pk}/approve").status_code == 200
    assert api.post(f"/compensations/{grant.pk}/issue").status_code == 200
    clock.advance(hours=2)
    told = step(api, complaint, "tell_result", outcome="We refunded CNY 138 to your card.")
    # then
    assert skipped.status_code == 201 and skipped.json()["steps"][2]["status"] == "skipped"
    assert offered.json()["compensation"]["status"] == "proposed"
    body = told.json()
    assert body["status"] == "resolved" and body["compensation"]["status"] == "issued"
    follow_up = Commitment.objects.get(case_id=body["case"], promise_version__isnull=True)
    assert follow_up.owner == staff and follow_up.state == "running"
    assert follow_up.due_at == clock.now + timedelta(days=3)
    assert body["follow_up_due_at"] == body["commitments"][-1]["due_at"]
    assert {c["promise_code"]: c["state"] for c in body["commitments"] if c["promise_code"]}[
        "complaint-resolve"
    ] == "met"
    # the follow-up closes it, with a root cause
    clock.advance(days=2)
    done = step(api, complaint, "follow_up", note="Happy with the refund.", root_cause="training")
    assert done.status_code == 201, done.content
    final = done.json()
    assert final["status"] == "closed" and final["root_cause"] == "training" and final["stage"] == "closed"
    follow_up.refresh_from_db()
    assert follow_up.state == "met"
    assert [s["step"] for s in final["steps"]] == [
        "listen",
        "apologise",
        "collect_facts",
        "offer",
        "tell_result",
        "follow_up",
    ]
    assert CaseEvent.objects.filter(case_id=final["case"], type="resolved", visible_to_customer=True).exists()


def test_closing_needs_the_follow_up_and_a_known_root_cause(api, hotel):
    complaint = complain(api, hotel["stay"]["id"]).json()["id"]
    early = api.post(f"/complaints/{complaint}/close", {"root_cause": "training"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "steps_open"
    for name in ("listen", "apologise", "collect_facts", "offer"):
        api.post(f"/complaints/{complaint}/steps/{name}", {"action": "skip", "reason": "test"})
    step(api, complaint, "tell_result", outcome="Sorted.")
    step(api, complaint, "follow_up", note="Called: all good.")
    assert api.get(f"/complaints/{complaint}").json()["status"] == "resolved"  # no root cause yet
    unknown = api.post(f"/complaints/{complaint}/close", {"root_cause": "gremlins"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_root_cause"
    closed = api.post(f"/complaints/{complaint}/close", {"root_cause": "training"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    twice = api.post(f"/complaints/{complaint}/close", {"root_cause": "training"})
    assert twice.status_code == 409


def test_handover_is_recorded_from_and_to(api, hotel, centre):
    complaint = complain(api, hotel["stay"]["id"], department="customer_centre", assignee="agent").json()
    moved = api.post(
        f"/complaints/{complaint['id']}/handover",
        {"department": "front_desk", "assignee": "li.na", "reason": "The front desk applied the rate."},
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["department"] == "front_desk" and moved.json()["assignee"] == "li.na"
    event = CaseEvent.objects.filter(case_id=complaint["case"], type="assigned").last()
    assert event.data == {
        "department": "front_desk",
        "assignee": "li.na",
        "from_department": "customer_centre",
        "from_assignee": "agent",
    }
    assert event.note == "The front desk applied the rate."
    nobody = api.post(
        f"/complaints/{complaint['id']}/handover", {"department": "front_desk", "assignee": "agent", "reason": "x"}
    )
    assert nobody.status_code == 400 and nobody.json()["error"]["code"] == "not_a_member"
    no_reason = api.post(f"/complaints/{complaint['id']}/handover", {"department": "front_desk", "reason": ""})
    assert no_reason.status_code == 422


def test_the_list_filters_and_orders_by_next_due_time_in_a_fixed_number_of_queries(api, hotel, centre, clock):
    first = complain(api, hotel["stay"]["id"], severity="low").json()
    clock.advance(minutes=30)
    second = complain(api, hotel["stay"]["id"], severity="critical", department="customer_centre").json()
    step(api, first["id"], "listen")  # the first one's earliest open clock is now its resolve clock
    everything = api.get("/complaints")
    assert everything.status_code == 200
    assert [row["id"] for row in everything.json()["items"]] == [second["id"], first["id"]]
    assert api.get("/complaints", severity="low").json()["count"] == 1
    assert api.get("/complaints", department="customer_centre").json()["items"][0]["id"] == second["id"]
    assert api.get("/complaints", about=hotel["stay"]["id"]).json()["count"] == 2
    assert api.get("/complaints", status="closed").json()["count"] == 0
    assert api.get("/complaints", status="bogus").status_code == 400
    for _ in range(5):
        complain(api, hotel["stay"]["id"])
    with CaptureQueriesContext(connection) as few:
        api.get("/complaints")
    for _ in range(5):
        complain(api, hotel["stay"]["id"])
    with CaptureQueriesContext(connection) as more:
        rows = api.get("/complaints").json()
    assert rows["count"] == 12 and len(more.captured_queries) == len(few.captured_queries)


def test_an_unknown_complaint_is_a_404(api, hotel):
    assert api.get("/complaints/424242").status_code == 404
    assert api.post("/complaints/424242/close", {"root_cause": "training"}).json()["error"]["code"] == "not_found"
