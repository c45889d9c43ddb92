from __future__ import annotations

from promisedesk.conftest import make_calendar, make_customer, make_promise, make_service, open_case


def test_case_gets_commitment_and_first_response_meets_it(api, clock):
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
        },
    )
    customer = make_customer(api)
    case = open_case(api, customer["id"], external_ref="T-1")
    [commitment] = case["commitments"]
    assert commitment["state"] == "running"
    assert commitment["due_at"] == "2026-03-02T06:00:00Z" or commitment["due_at"].startswith("2026-03-02T06:00:00")
    clock.advance(hours=2)
    response = api.post(f"/cases/{case['id']}/events", {"type": "first_response", "note": "called back"})
    assert response.status_code == 201, response.content
    case = api.get(f"/cases/{case['id']}").json()
    assert case["commitments"][0]["state"] == "met"
