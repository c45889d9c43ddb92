"""Clocks driven by timeline events, through the HTTP API."""

from __future__ import annotations

from datetime import datetime

from promisedesk.breaches.models import Breach
from promisedesk.conftest import SHANGHAI, make_calendar, make_customer, make_promise, make_service, open_case


def _setup(api, **standard):
    calendar = make_calendar(api)
    make_service(api)
    make_promise(
        api,
        standard={
            "start_on": "case_opened",
            "stop_on": ["first_response"],
            "target": "PT4H",
            "calendar": calendar["id"],
            "warn_at": "75%",
            **standard,
        },
    )
    return make_customer(api)


def _commitment(api, case_id):
    return api.get(f"/cases/{case_id}").json()["commitments"][0]


def _event(api, case_id, type, at=None, **extra):
    body = {"type": type, **extra}
    if at:
        body["at"] = at
    response = api.post(f"/cases/{case_id}/events", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_due_time_skips_lunch_and_evening(api, clock):
    customer = _setup(api)
    clock.to(datetime(2026, 3, 2, 16, 30, tzinfo=SHANGHAI))
    case = open_case(api, customer["id"])
    # 16:30–18:00 is 1.5 h; 2.5 h more from Tuesday 09:00 → 11:30
    assert _commitment(api, case["id"])["due_at"].startswith("2026-03-03T03:30:00")


def test_pause_moves_the_due_time(api, clock):
    customer = _setup(api, pause_on=["customer_waiting"], resume_on=["customer_replied"])
    case = open_case(api, customer["id"])  # Monday 09:00, due 14:00 (lunch skipped)
    assert _commitment(api, case["id"])["due_at"].startswith("2026-03-02T06:00:00")
    clock.advance(hours=1)
    _event(api, case["id"], "customer_waiting")
    paused = _commitment(api, case["id"])
    assert paused["state"] == "paused" and paused["due_at"] is None
    clock.advance(hours=2)  # 12:00 — paused time does not count
    _event(api, case["id"], "customer_replied")
    resumed = _commitment(api, case["id"])
    # 1 h used; 3 h left from 12:00 → lunch → 13:00 + 3 h = 16:00
    assert resumed["state"] == "running"
    assert resumed["due_at"].startswith("2026-03-02T08:00:00")


def test_stop_before_due_is_met(api, clock):
    customer = _setup(api)
    case = open_case(api, customer["id"])
    clock.advance(hours=3)
    _event(api, case["id"], "first_response")
    met = _commitment(api, case["id"])
    assert met["state"] == "met" and met["met_at"].startswith("2026-03-02T04:00:00")


def test_a_late_stop_is_a_breach_at_the_due_time(api, clock):
    customer = _setup(api)
    case = open_case(api, customer["id"])  # due 14:00
    clock.advance(hours=7)  # 16:00, no sweep ran meanwhile
    _event(api, case["id"], "first_response")
    late = _commitment(api, case["id"])
    assert late["state"] == "breached"
    assert late["breached_at"].startswith("2026-03-02T06:00:00")
    breach = Breach.objects.get()
    assert breach.detected_at.isoformat().startswith("2026-03-02T06:00:00")
    assert breach.source == "clock" and breach.status == "verified"
    types = [e["type"] for e in api.get(f"/cases/{case['id']}/events").json()["items"]]
    assert "promise_breached" in types and types[-1] == "first_response"


def test_back_dated_import_keeps_the_original_clock(api, clock):
    customer = _setup(api)
    clock.to(datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))
    case = open_case(api, customer["id"], opened_at="2026-03-02T09:00:00+08:00", external_ref="IMP-1")
    commitment = _commitment(api, case["id"])
    assert commitment["started_at"].startswith("2026-03-02T01:00:00")
    assert commitment["due_at"].startswith("2026-03-02T06:00:00")
    _event(api, case["id"], "first_response", at="2026-03-02T11:00:00+08:00")
    assert _commitment(api, case["id"])["state"] == "met"


def test_event_before_previous_one_is_refused(api, clock):
    customer = _setup(api)
    case = open_case(api, customer["id"])
    clock.advance(hours=1)
    _event(api, case["id"], "progress_update")
    response = api.post(f"/cases/{case['id']}/events", {"type": "first_response", "at": "2026-03-02T09:30:00+08:00"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "before_previous_event"
    assert response.json()["error"]["field"] == "at"
    assert _commitment(api, case["id"])["state"] == "running"


def test_event_in_the_future_and_reserved_types_are_refused(api, clock):
    customer = _setup(api)
    case = open_case(api, customer["id"])
    future = api.post(f"/cases/{case['id']}/events", {"type": "first_response", "at": "2026-03-03T09:00:00+08:00"})
    assert future.status_code == 400 and future.json()["error"]["code"] == "in_future"
    reserved = api.post(f"/cases/{case['id']}/events", {"type": "promise_breached"})
    assert reserved.status_code == 400 and reserved.json()["error"]["code"] == "reserved_event_type"
    bad = api.post(f"/cases/{case['id']}/events", {"type": "First Response"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_event_type"


def test_custom_events_drive_custom_promises(api, clock):
    make_service(api, "coach")
    make_promise(
        api, code="depart-on-time", standard={"start_on": "boarding_closed", "stop_on": "departed", "target": "PT5M"}
    )
    case = open_case(api, make_customer(api)["id"], "coach")
    assert _commitment(api, case["id"])["state"] == "pending"
    clock.advance(minutes=30)
    _event(api, case["id"], "boarding_closed")
    assert _commitment(api, case["id"])["state"] == "running"
    clock.advance(minutes=3)
    _event(api, case["id"], "departed")
    assert _commitment(api, case["id"])["state"] == "met"


def test_arrival_window_clock_starts_at_the_appointment(api, clock):
    make_service(api)
    make_promise(
        api, code="arrive-in-window", standard={"start_on": "appointment_start", "stop_on": "arrived", "target": "PT2H"}
    )
    case = open_case(
        api,
        make_customer(api)["id"],
        appointment={"start": "2026-03-03T14:00:00+08:00", "end": "2026-03-03T16:00:00+08:00"},
    )
    pending = _commitment(api, case["id"])
    assert pending["state"] == "pending"
    clock.to(datetime(2026, 3, 3, 14, 30, tzinfo=SHANGHAI))
    _event(api, case["id"], "arrived")
    kept = _commitment(api, case["id"])
    assert kept["state"] == "met"
    assert kept["started_at"].startswith("2026-03-03T06:00:00")


def test_rescheduled_appointment_moves_the_window(api, clock):
    make_service(api)
    make_promise(
        api, code="arrive-in-window", standard={"start_on": "appointment_start", "stop_on": "arrived", "target": "PT2H"}
    )
    case = open_case(
        api,
        make_customer(api)["id"],
        appointment={"start": "2026-03-03T14:00:00+08:00", "end": "2026-03-03T16:00:00+08:00"},
    )
    clock.advance(hours=1)
    _event(
        api,
        case["id"],
        "appointment_scheduled",
        data={"start": "2026-03-04T09:00:00+08:00", "end": "2026-03-04T11:00:00+08:00"},
    )
    clock.to(datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI))
    _event(api, case["id"], "arrived")
    kept = _commitment(api, case["id"])
    assert kept["state"] == "met" and kept["started_at"].startswith("2026-03-04T01:00:00")


def test_closing_a_case_cancels_clocks_that_never_stopped(api, clock):
    customer = _setup(api)
    case = open_case(api, customer["id"])
    clock.advance(hours=1)
    _event(api, case["id"], "closed")
    assert _commitment(api, case["id"])["state"] == "cancelled"


def test_calendar_change_recomputes_open_clocks_and_records_why(api, clock):
    customer = _setup(api)
    case = open_case(api, customer["id"])  # due Monday 14:00
    calendar_id = _commitment(api, case["id"])["calendar"]
    clock.advance(hours=1)
    response = api.post(f"/calendars/{calendar_id}/days", {"holidays": ["2026-03-02"], "reason": "office closed"})
    assert response.status_code == 200, response.content
    assert response.json()["clocks_recomputed"] == 1
    moved = _commitment(api, case["id"])
    # Monday is now a holiday: all 4 hours on Tuesday → 09:00–12:00 + 13:00–14:00
    assert moved["due_at"].startswith("2026-03-03T06:00:00")
    entries = [e for e in api.get(f"/cases/{case['id']}/events").json()["items"] if e["type"] == "clock_recomputed"]
    assert len(entries) == 1 and entries[0]["data"]["reason"] == "office closed"
    [moved_clock] = entries[0]["data"]["clocks"]
    assert moved_clock["old_due_at"].startswith("2026-03-02T06:00:00")
    assert moved_clock["new_due_at"].startswith("2026-03-03T06:00:00")


def test_oral_promise_with_owner_and_target(api, clock, staff):
    make_service(api)
    case = open_case(api, make_customer(api)["id"])
    response = api.post(
        f"/cases/{case['id']}/commitments",
        {
            "statement": "I will arrange the pool to open early and call you back",
            "target": "PT30M",
            "owner": staff.username,
        },
    )
    assert response.status_code == 201, response.content
    oral = response.json()
    assert oral["promise_code"] is None and oral["owner"] == staff.username
    assert oral["due_at"].startswith("2026-03-02T01:30:00")
    kept = api.post(f"/commitments/{oral['id']}/fulfil")
    assert kept.status_code == 200 and kept.json()["state"] == "met"


def test_oral_promise_bad_input(api, clock):
    make_service(api)
    case = open_case(api, make_customer(api)["id"])
    both = api.post(
        f"/cases/{case['id']}/commitments", {"statement": "x", "target": "PT1H", "due_at": "2026-03-02T12:00:00+08:00"}
    )
    assert both.status_code == 400
    past = api.post(f"/cases/{case['id']}/commitments", {"statement": "x", "due_at": "2026-03-01T12:00:00+08:00"})
    assert past.status_code == 400 and past.json()["error"]["field"] == "due_at"
    nobody = api.post(f"/cases/{case['id']}/commitments", {"statement": "x", "target": "PT1H", "owner": "ghost"})
    assert nobody.status_code == 400 and nobody.json()["error"]["field"] == "owner"
    assert api.get(f"/cases/{case['id']}").json()["commitments"] == []


def test_a_bad_appointment_in_an_event_is_refused(api, clock):
    make_service(api)
    case = open_case(api, make_customer(api)["id"])
    for data in ({"start": "garbage", "end": "x"}, {"start": 5, "end": 6}):
        response = api.post(f"/cases/{case['id']}/events", {"type": "appointment_scheduled", "data": data})
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_appointment"


def test_a_rebooked_appointment_warns_again(api, clock):
    from promisedesk.commitments.models import CommitmentAlert
    from promisedesk.commitments.sweeper import sweep

    make_service(api)
    make_promise(
        api,
        code="arrive",
        standard={"start_on": "appointment_start", "stop_on": "arrived", "target": "PT2H", "warn_at": "50%"},
    )
    case = open_case(
        api,
        make_customer(api)["id"],
        appointment={"start": "2026-03-02T10:00:00+08:00", "end": "2026-03-02T12:00:00+08:00"},
    )
    clock.to(datetime(2026, 3, 2, 11, 30, tzinfo=SHANGHAI))
    assert sweep(clock.now).warned == 1
    _event(
        api,
        case["id"],
        "appointment_scheduled",
        data={"start": "2026-03-02T14:00:00+08:00", "end": "2026-03-02T16:00:00+08:00"},
    )
    clock.to(datetime(2026, 3, 2, 15, 30, tzinfo=SHANGHAI))
    assert sweep(clock.now).warned == 1
    assert CommitmentAlert.objects.count() == 2
