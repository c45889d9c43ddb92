"""Breach → verdict → compensation → customer told, through the HTTP API."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth.models import Group

from promisedesk.breaches.models import Breach, Compensation
from promisedesk.breaches.settlement import settle_pending
from promisedesk.conftest import SHANGHAI, make_customer, make_promise, make_service, open_case
from promisedesk.notifications.models import OutboxMessage

from .conftest import allow


def _claim(api, case_id, code="courtesy", **extra):
    return api.post(
        "/breaches",
        {"case": case_id, "promise_code": code, "source": "claim", "description": "the driver shouted at me", **extra},
    )


def test_claim_needing_verification_is_suspected_and_pays_nothing_yet(api, coach_line):
    response = _claim(api, coach_line["id"])
    assert response.status_code == 201, response.content
    breach = response.json()
    assert breach["status"] == "suspected" and breach["compensation"] is None
    assert (
        not Compensation.objects.exists() and not OutboxMessage.objects.filter(event_key__startswith="breach:").exists()
    )


def test_verified_claim_pays_twice_the_fare_and_apologises_in_the_customers_language(api, coach_line, staff):
    breach = _claim(api, coach_line["id"]).json()
    verified = api.post(
        f"/breaches/{breach['id']}/verify",
        {"verdict": "verified", "root_cause": "staffing", "note": "confirmed by the dashcam"},
    )
    assert verified.status_code == 200, verified.content
    body = verified.json()
    assert body["status"] == "verified" and body["verified_by"] == staff.username and body["root_cause"] == "staffing"
    compensation = api.get(f"/compensations/{body['compensation']}").json()
    assert (compensation["kind"], compensation["amount"], compensation["currency"]) == ("cash", "136.00", "CNY")
    assert compensation["status"] == "approved"  # the promise says automatic and no limit is set
    messages = OutboxMessage.objects.filter(event_key__startswith="breach:").order_by("channel")
    assert [m.channel for m in messages] == ["email", "sms"]
    assert all("136.00" in m.body for m in messages)
    assert "抱歉" in messages[0].body or "对不起" in messages[0].body
    commitment = next(
        c for c in api.get(f"/cases/{coach_line['id']}").json()["commitments"] if c["promise_code"] == "courtesy"
    )
    assert commitment["state"] == "breached"


def test_one_compensation_per_breach_even_when_settled_again(api, coach_line, clock):
    breach = _claim(api, coach_line["id"]).json()
    api.post(f"/breaches/{breach['id']}/verify", {"verdict": "verified", "root_cause": "staffing"})
    assert settle_pending(clock.now) == 0
    Breach.objects.filter(pk=breach["id"]).update(settled_at=None)  # as if the worker died before marking it
    assert settle_pending(clock.now) == 1
    assert Compensation.objects.count() == 1
    assert OutboxMessage.objects.filter(event_key__startswith="breach:").count() == 2


def test_rejection_needs_a_reason_and_tells_the_claimant(api, coach_line):
    breach = _claim(api, coach_line["id"]).json()
    no_reason = api.post(f"/breaches/{breach['id']}/verify", {"verdict": "rejected"})
    assert no_reason.status_code == 400 and no_reason.json()["error"]["field"] == "note"
    rejected = api.post(
        f"/breaches/{breach['id']}/verify", {"verdict": "rejected", "note": "the recording shows a polite driver"}
    )
    assert rejected.json()["status"] == "rejected"
    assert OutboxMessage.objects.filter(event_key=f"breach:{breach['id']}:rejected").count() == 2
    again = api.post(f"/breaches/{breach['id']}/verify", {"verdict": "verified", "root_cause": "staffing"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_decided"
    assert not Compensation.objects.exists()


def test_after_a_rejected_claim_a_new_claim_can_be_made(api, coach_line):
    first = _claim(api, coach_line["id"]).json()
    api.post(f"/breaches/{first['id']}/verify", {"verdict": "rejected", "note": "no evidence"})
    second = _claim(api, coach_line["id"])
    assert second.status_code == 201
    duplicate = _claim(api, coach_line["id"])
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "already_breached"


def test_same_idempotency_key_gives_one_breach(api, coach_line):
    first = _claim(api, coach_line["id"], idempotency_key="sms-4711")
    replay = _claim(api, coach_line["id"], idempotency_key="sms-4711")
    assert first.status_code == 201 and replay.status_code == 200
    assert first.json()["id"] == replay.json()["id"]
    assert Breach.objects.count() == 1


def test_claim_against_a_promise_that_does_not_apply_is_refused(api, coach_line):
    response = _claim(api, coach_line["id"], code="reply-4h")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "promise_not_applicable",
        "field": "promise_code",
        "message": response.json()["error"]["message"],
    }
    assert not Breach.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"source": "clock"}, 400, "source"),
        ({"source": "gossip"}, 422, "source"),
        ({"promise_code": None}, 400, "promise_code"),
        ({"commitment": 999999}, 400, "promise_code"),
        ({"case": 999999}, 404, None),
    ],
)
def test_bad_breach_reports(api, coach_line, body, status, field):
    payload = {"case": coach_line["id"], "promise_code": "courtesy", "source": "claim", **body}
    response = api.post("/breaches", payload)
    assert response.status_code == status, response.content
    assert response.json()["error"]["field"] == field
    assert not Breach.objects.exists()


def test_verify_needs_a_known_root_cause(api, coach_line):
    breach = _claim(api, coach_line["id"]).json()
    missing = api.post(f"/breaches/{breach['id']}/verify", {"verdict": "verified"})
    unknown = api.post(f"/breaches/{breach['id']}/verify", {"verdict": "verified", "root_cause": "bad-luck"})
    assert missing.status_code == 400 and unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "unknown_root_cause"
    assert Breach.objects.get().status == "suspected"


def test_clock_breach_without_verification_is_compensated_by_the_sweep(api, clock, root_causes):
    from promisedesk.commitments.sweeper import sweep

    make_service(api, "clinic", price="30.00")
    make_promise(
        api,
        code="reply-24h",
        standard={"stop_on": "first_response", "target": "PT24H"},
        liability={"kind": "voucher", "amount": "20", "currency": "CNY", "automatic": False},
    )
    case = open_case(api, make_customer(api, locale="en")["id"], "clinic")
    clock.advance(hours=25)
    sweep(clock.now)
    settle_pending(clock.now)
    [breach] = api.get("/breaches", case=case["id"]).json()["items"]
    assert breach["status"] == "verified" and breach["source"] == "clock"
    [compensation] = api.get("/compensations", case=case["id"]).json()["items"]
    assert (compensation["amount"], compensation["status"]) == ("20.00", "proposed")
    message = OutboxMessage.objects.get(channel="email", event_key__startswith="breach:")
    assert message.language == "en" and "We are sorry" in message.body


def test_approval_limits_per_role(api, coach_line, staff, clock):
    make_promise(
        api,
        code="big-refund",
        kind="effect",
        standard={},
        liability={"kind": "refund", "amount": "500", "currency": "CNY"},
    )
    case = open_case(api, make_customer(api, name="Zhao")["id"], "coach")
    breach = api.post("/breaches", {"case": case["id"], "promise_code": "big-refund", "source": "report"}).json()
    compensation_id = breach["compensation"]
    assert api.get(f"/compensations/{compensation_id}").json()["status"] == "proposed"
    allow("agent", "100")
    staff.groups.add(Group.objects.create(name="agent"))
    above = api.post(f"/compensations/{compensation_id}/approve")
    assert above.status_code == 403 and above.json()["error"]["code"] == "above_limit"
    allow("manager", "1000")
    staff.groups.add(Group.objects.create(name="manager"))
    assert api.post(f"/compensations/{compensation_id}/approve").json()["status"] == "approved"


def test_issue_gives_a_reference_and_tells_the_customer(api, coach_line):
    breach = _claim(api, coach_line["id"]).json()
    compensation_id = api.post(
        f"/breaches/{breach['id']}/verify", {"verdict": "verified", "root_cause": "staffing"}
    ).json()["compensation"]
    issued = api.post(f"/compensations/{compensation_id}/issue", {"reference": "ALIPAY-889"})
    assert issued.status_code == 200 and issued.json()["status"] == "issued"
    assert issued.json()["reference"] == "ALIPAY-889"
    assert OutboxMessage.objects.filter(event_key=f"compensation:{compensation_id}:issued").count() == 2
    again = api.post(f"/compensations/{compensation_id}/approve")
    assert again.status_code == 409
    declined = api.post(f"/compensations/{compensation_id}/decline", {"reason": "changed my mind"})
    assert declined.status_code == 409


def test_decline_with_reason(api, coach_line):
    breach = _claim(api, coach_line["id"]).json()
    compensation_id = api.post(
        f"/breaches/{breach['id']}/verify", {"verdict": "verified", "root_cause": "staffing"}
    ).json()["compensation"]
    assert api.post(f"/compensations/{compensation_id}/decline", {"reason": ""}).status_code == 422
    declined = api.post(f"/compensations/{compensation_id}/decline", {"reason": "paid at the counter already"})
    assert declined.json()["status"] == "declined"
    assert api.post(f"/compensations/{compensation_id}/issue").status_code == 409


def test_approver_cannot_pay_in_another_currency(api, clock, root_causes, staff):
    allow("manager", "5000")
    staff.groups.add(Group.objects.create(name="manager"))
    make_service(api, "stay", price=None)
    make_promise(
        api, code="full-refund", kind="effect", standard={}, liability={"kind": "refund", "percent_of_price": "100"}
    )
    case = open_case(api, make_customer(api)["id"], "stay")
    breach = api.post("/breaches", {"case": case["id"], "promise_code": "full-refund", "source": "report"}).json()
    compensation = api.get(f"/compensations/{breach['compensation']}").json()
    assert compensation["amount"] is None  # no price to compute from: the approver sets it
    wrong = api.post(f"/compensations/{compensation['id']}/approve", {"amount": "880", "currency": "USD"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "currency_mismatch"
    negative = api.post(f"/compensations/{compensation['id']}/approve", {"amount": "-1"})
    assert negative.status_code == 422
    assert api.get(f"/compensations/{compensation['id']}").json()["status"] == "proposed"
    approved = api.post(f"/compensations/{compensation['id']}/approve", {"amount": "880.005"})
    assert approved.status_code == 200, approved.content
    assert approved.json()["amount"] == "880.01"  # rounded half up to the fen


def test_force_majeure_incident_lifts_the_liability(api, coach_line, clock):
    from promisedesk.recovery.models import Incident, IncidentCase

    incident = Incident.objects.create(
        title="Typhoon",
        reason="expressway closed",
        force_majeure=True,
        starts_at=datetime(2026, 3, 2, 0, 0, tzinfo=SHANGHAI),
        created_at=clock.now,
    )
    IncidentCase.objects.create(incident=incident, case_id=coach_line["id"], attached_at=clock.now)
    breach = _claim(api, coach_line["id"], code="depart-on-time").json()
    body = api.post(f"/breaches/{breach['id']}/verify", {"verdict": "verified", "root_cause": "dispatch"}).json()
    assert body["exclusion"] == "force_majeure" and body["compensation"] is None
    assert OutboxMessage.objects.filter(event_key=f"breach:{breach['id']}:verified").exists()


def test_customer_pause_beyond_the_allowed_time_lifts_the_liability(api, clock, root_causes):
    make_service(api, "repair", price="200.00")
    make_promise(
        api,
        code="fix-8h",
        standard={
            "stop_on": "resolved",
            "target": "PT8H",
            "pause_on": "customer_waiting",
            "resume_on": "customer_replied",
            "max_pause": "PT2H",
        },
        liability={"kind": "refund", "percent_of_price": "10", "automatic": True},
    )
    case = open_case(api, make_customer(api)["id"], "repair")
    clock.advance(hours=1)
    api.post(f"/cases/{case['id']}/events", {"type": "customer_waiting"})
    clock.advance(hours=5)
    api.post(f"/cases/{case['id']}/events", {"type": "customer_replied"})
    clock.advance(hours=8)
    api.post(f"/cases/{case['id']}/events", {"type": "resolved"})
    [breach] = api.get("/breaches", case=case["id"]).json()["items"]
    settle_pending(clock.now)
    assert api.get(f"/breaches/{breach['id']}").json()["exclusion"] == "customer_pause"
    assert not Compensation.objects.exists()


def test_ledger_filters_totals_and_csv(api, coach_line, clock):
    for n, code in enumerate(("courtesy", "no-overcharging")):
        clock.advance(minutes=1)
        breach = _claim(api, coach_line["id"], code=code, idempotency_key=f"k{n}").json()
        api.post(f"/breaches/{breach['id']}/verify", {"verdict": "verified", "root_cause": "staffing"})
    ledger = api.get("/compensations").json()
    assert ledger["count"] == 2 and ledger["totals"] == [{"currency": "CNY", "amount": "272.00"}]
    assert api.get("/compensations", promise="courtesy").json()["count"] == 1
    assert api.get("/compensations", status="issued").json()["count"] == 0
    assert api.get("/compensations", since="2026-03-03T00:00:00+08:00").json()["count"] == 0
    csv_response = api.get("/compensations/export.csv")
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    lines = csv_response.content.decode().strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("id,created_at,case")


def test_root_cause_list_is_maintained(api, root_causes):
    assert [c["code"] for c in api.get("/root-causes").json()["items"]] == ["dispatch", "staffing"]
    assert api.post("/root-causes", {"code": "weather", "name_en": "Weather", "name_zh": "天气"}).status_code == 201
    assert api.post("/root-causes", {"code": "weather", "name_en": "W", "name_zh": "天"}).status_code == 409


def test_rejecting_a_clock_breach_restores_the_commitment(api, coach_line, clock):
    case_id = coach_line["id"]
    clock.advance(minutes=10)
    api.post(f"/cases/{case_id}/events", {"type": "boarding_closed"})
    clock.advance(minutes=20)
    api.post(f"/cases/{case_id}/events", {"type": "departed"})  # 20 minutes for a 5-minute promise
    [breach] = api.get("/breaches", case=case_id).json()["items"]
    assert (breach["source"], breach["status"]) == ("clock", "suspected")  # pays only once verified
    api.post(
        f"/breaches/{breach['id']}/verify", {"verdict": "rejected", "note": "held for a late passenger's wheelchair"}
    )
    commitment = next(
        c for c in api.get(f"/cases/{case_id}").json()["commitments"] if c["promise_code"] == "depart-on-time"
    )
    assert commitment["state"] == "met"


def test_a_claim_before_the_clock_runs_out_does_not_stall_the_sweeper(api, clock, root_causes):
    from promisedesk.commitments.sweeper import sweep

    make_service(api, "repair", price="100.00")
    make_promise(
        api,
        code="fix-4h",
        standard={"stop_on": "resolved", "target": "PT4H"},
        liability={"kind": "refund", "percent_of_price": "10", "verification_required": True},
    )
    case = open_case(api, make_customer(api)["id"], "repair")
    claim = api.post("/breaches", {"case": case["id"], "promise_code": "fix-4h", "source": "claim"}).json()
    clock.advance(hours=5)
    # the clock runs out while the claim is still suspected: one breach, no error, events still accepted
    assert sweep(clock.now).breached == 1
    assert Breach.objects.count() == 1
    assert api.post(f"/cases/{case['id']}/events", {"type": "progress_update"}).status_code == 201
    # rejecting the claim leaves the clock's own breach standing
    api.post(f"/breaches/{claim['id']}/verify", {"verdict": "rejected", "note": "not what the customer said"})
    live = Breach.objects.exclude(status="rejected").get()
    assert live.source == "clock" and live.detected_at == datetime(2026, 3, 2, 13, 0, tzinfo=SHANGHAI)


def test_an_amount_beyond_what_a_rule_pays_waits_for_a_manager(api, clock, root_causes):
    make_service(api, "jet", price="999999999999.99")
    make_promise(api, code="on-time", kind="quality", standard={}, liability={"kind": "cash", "multiple_of_price": "2"})
    case = open_case(api, make_customer(api)["id"], "jet")
    breach = api.post("/breaches", {"case": case["id"], "promise_code": "on-time", "source": "report"})
    assert breach.status_code == 201, breach.content
    compensation = api.get(f"/compensations/{breach.json()['compensation']}").json()
    assert compensation["amount"] is None and "manager" in compensation["basis"]["note"]
    assert api.get("/compensations").status_code == 200
