from __future__ import annotations

import pytest

from promisedesk.cases.models import Case, CaseEvent
from promisedesk.conftest import make_customer, make_promise, make_service, open_case


def test_health_needs_no_token(anonymous_api):
    response = anonymous_api.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_everything_else_needs_a_token(anonymous_api):
    response = anonymous_api.get("/cases")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_same_external_ref_returns_the_same_case(api):
    make_service(api)
    make_promise(api)
    customer = make_customer(api)
    first = api.post("/cases", {"customer": customer["id"], "service": "install", "external_ref": "ORD-1"})
    again = api.post("/cases", {"customer": customer["id"], "service": "install", "external_ref": "ORD-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert Case.objects.count() == 1
    assert len(again.json()["commitments"]) == 1


def test_case_defaults_price_and_currency_from_the_service(api):
    make_service(api, "coach", price="68.00")
    case = open_case(api, make_customer(api)["id"], "coach")
    assert case["price"] == "68.00" and case["currency"] == "CNY"
    assert case["stage"] == "need_identification"


def test_list_cases_filters(api):
    make_service(api, "install")
    make_service(api, "coach")
    customer = make_customer(api)
    other = make_customer(api, name="Wang")
    open_case(api, customer["id"], "install", external_ref="A")
    open_case(api, other["id"], "coach", external_ref="B")
    assert api.get("/cases").json()["count"] == 2
    assert [c["external_ref"] for c in api.get("/cases", external_ref="B").json()["items"]] == ["B"]
    assert [c["external_ref"] for c in api.get("/cases", customer=customer["id"]).json()["items"]] == ["A"]
    assert [c["external_ref"] for c in api.get("/cases", service="coach").json()["items"]] == ["B"]
    assert api.get("/cases", stage="closed").json()["count"] == 0
    assert api.get("/cases", limit=1).json()["count"] == 2
    assert len(api.get("/cases", limit=1).json()["items"]) == 1


def test_list_cases_query_count_does_not_grow(api, django_assert_max_num_queries):
    make_service(api)
    customer = make_customer(api)
    for n in range(15):
        open_case(api, customer["id"], external_ref=f"Q-{n}")
    with django_assert_max_num_queries(4):
        assert api.get("/cases").json()["count"] == 15


def test_events_are_listed_in_order_with_stage_changes(api, clock):
    make_service(api)
    case = open_case(api, make_customer(api)["id"])
    for minutes, kind in ((10, "assigned"), (20, "arrived"), (30, "delivered")):
        clock.advance(minutes=10)
        assert api.post(f"/cases/{case['id']}/events", {"type": kind, "note": f"after {minutes}"}).status_code == 201
    events = api.get(f"/cases/{case['id']}/events").json()
    assert [e["type"] for e in events["items"]] == ["case_opened", "assigned", "arrived", "delivered"]
    assert api.get(f"/cases/{case['id']}").json()["stage"] == "experience"


def test_case_events_are_append_only():
    event = CaseEvent(pk=1)
    with pytest.raises(ValueError, match="append-only"):
        event.save()


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"service": "nope"}, 400, "service"),
        ({"customer": 99999}, 404, "customer"),
        ({"customer": "one"}, 422, "customer"),
        ({"channel": "pigeon"}, 422, "channel"),
        ({"priority": "whenever"}, 422, "priority"),
        ({"price": "-1"}, 422, "price"),
        ({"price": "abc"}, 422, "price"),
        ({"currency": "yuan"}, 422, "currency"),
        ({"opened_at": "2026-03-02T09:00:00"}, 422, "opened_at"),
        ({"opened_at": "2027-01-01T00:00:00+08:00"}, 400, "opened_at"),
        (
            {"appointment": {"start": "2026-03-03T16:00:00+08:00", "end": "2026-03-03T14:00:00+08:00"}},
            400,
            "appointment.end",
        ),
        ({"external_ref": "x" * 101}, 422, "external_ref"),
        ({"colour": "red"}, 422, "colour"),
    ],
)
def test_bad_case_input_is_refused_and_nothing_written(api, change, status, field):
    make_service(api)
    customer = make_customer(api)
    response = api.post("/cases", {"customer": customer["id"], "service": "install", **change})
    assert response.status_code == status, response.content
    assert response.json()["error"]["field"] == field
    assert Case.objects.count() == 0


def test_malformed_json_is_a_client_error(api):
    response = api.client.post("/api/v1/cases", data="{not json", content_type="application/json", **api.headers)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_unknown_case_is_404_with_error_body(api):
    response = api.get("/cases/424242")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_customer_and_service_endpoints(api):
    customer = make_customer(api, external_ref="CRM-7", preferences={"pillow": "buckwheat"})
    assert api.get(f"/customers/{customer['id']}").json()["preferences"] == {"pillow": "buckwheat"}
    duplicate = api.post("/customers", {"name": "Again", "external_ref": "CRM-7"})
    assert duplicate.status_code == 409
    bad_email = api.post("/customers", {"name": "X", "email": "not-an-email"})
    assert bad_email.status_code == 422 and bad_email.json()["error"]["field"] == "email"
    make_service(api, "coach")
    assert api.post("/services", {"code": "coach", "name": "Coach", "currency": "CNY"}).status_code == 409
    assert [s["code"] for s in api.get("/services").json()["items"]] == ["coach"]


@pytest.mark.parametrize(
    ("path_suffix", "body", "field"),
    [
        ("", {"opened_at": "0001-01-01T00:00:00+00:00"}, "opened_at"),
        (
            "",
            {"appointment": {"start": "9999-12-31T22:00:00+00:00", "end": "9999-12-31T23:00:00+00:00"}},
            "appointment.start",
        ),
    ],
)
def test_times_outside_the_supported_span_are_refused(api, path_suffix, body, field):
    make_service(api)
    customer = make_customer(api)
    response = api.post("/cases" + path_suffix, {"customer": customer["id"], "service": "install", **body})
    assert response.status_code == 400 and response.json()["error"] == {
        "code": "out_of_range",
        "message": "times must lie between 1972 and 2190",
        "field": field,
    }
    assert Case.objects.count() == 0


def test_far_future_oral_promise_and_event_data_are_refused(api):
    make_service(api)
    case = open_case(api, make_customer(api)["id"])
    oral = api.post(f"/cases/{case['id']}/commitments", {"statement": "s", "due_at": "9999-12-31T23:59:59+00:00"})
    assert oral.status_code == 400 and oral.json()["error"]["field"] == "due_at"
    event = api.post(
        f"/cases/{case['id']}/events",
        {
            "type": "appointment_scheduled",
            "data": {"start": "9999-12-31T22:00:00+00:00", "end": "9999-12-31T23:00:00+00:00"},
        },
    )
    assert event.status_code == 400 and event.json()["error"]["code"] == "out_of_range"


def test_only_a_complaint_is_about_another_case_and_never_about_itself(api):
    from django.db import IntegrityError, transaction

    from promisedesk.cases.models import Case, CaseKind

    make_service(api, "install")
    first = Case.objects.get(pk=open_case(api, make_customer(api)["id"], "install")["id"])
    second = Case.objects.get(pk=open_case(api, first.customer_id, "install")["id"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=second.pk).update(about=first)  # a service case about another
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=second.pk).update(kind=CaseKind.COMPLAINT, about=second)
    Case.objects.filter(pk=second.pk).update(kind=CaseKind.COMPLAINT, about=first)
    assert list(first.complaints.all()) == [second]
