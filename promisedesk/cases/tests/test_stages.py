"""Stages: explicit moves with sub-statuses, the organisation's names for them, and promises
that start and stop on reaching a stage."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from promisedesk.cases.models import Case, CaseEvent, StageLabel
from promisedesk.cases.selectors import StageNames, stage_label, stage_names
from promisedesk.conftest import make_customer, make_promise, make_service, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(api, clock):
    make_service(api)
    return open_case(api, make_customer(api)["id"])


def _commitment(api, case_id: int, code: str) -> dict:
    return next(c for c in api.get(f"/cases/{case_id}").json()["commitments"] if c["promise_code"] == code)


def test_stage_change_is_an_event_with_from_and_to(api, clock, case):
    api.put("/stage-labels", {"stage": "delivery", "substatuses": [{"code": "waiting_parts"}]})
    clock.advance(minutes=5)
    response = api.post(f"/cases/{case['id']}/stage", {"stage": "delivery", "substatus": "waiting_parts"})
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "delivery" and response.json()["substatus"] == "waiting_parts"
    [event] = api.get(f"/cases/{case['id']}/events").json()["items"][1:]
    assert event["type"] == "stage_changed"
    assert event["data"] == {"from": "need_identification", "to": "delivery", "substatus": "waiting_parts"}
    assert event["visible_to_customer"] is True and event["actor"] == "agent"


def test_stage_change_to_where_the_case_is_writes_nothing(api, clock, case):
    assert api.post(f"/cases/{case['id']}/stage", {"stage": "need_identification"}).status_code == 200
    assert CaseEvent.objects.filter(case_id=case["id"]).count() == 1


def test_stage_change_refuses_an_unknown_substatus_or_stage(api, clock, case):
    api.put("/stage-labels", {"stage": "delivery", "substatuses": [{"code": "waiting_parts"}]})
    unknown = api.post(f"/cases/{case['id']}/stage", {"stage": "delivery", "substatus": "on_holiday"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "unknown_substatus" and unknown.json()["error"]["field"] == "substatus"
    assert "waiting_parts" in unknown.json()["error"]["message"]
    bad_stage = api.post(f"/cases/{case['id']}/stage", {"stage": "limbo"})
    assert bad_stage.status_code == 422 and bad_stage.json()["error"]["field"] == "stage"
    assert Case.objects.get(pk=case["id"]).stage == "need_identification"


def test_stage_changed_cannot_be_posted_as_a_plain_event(api, clock, case):
    response = api.post(f"/cases/{case['id']}/events", {"type": "stage_changed", "data": {"to": "delivery"}})
    assert response.status_code == 400 and response.json()["error"]["code"] == "reserved_event_type"


def test_closing_by_stage_is_the_closed_event_and_cancels_clocks(api, clock, case):
    make_promise(api, code="late-promise")
    second = open_case(api, case["customer"], external_ref="second")
    clock.advance(minutes=5)
    api.post(f"/cases/{second['id']}/stage", {"stage": "closed"})
    types = [e["type"] for e in api.get(f"/cases/{second['id']}/events").json()["items"]]
    assert types == ["case_opened", "closed"]
    assert _commitment(api, second["id"], "late-promise")["state"] == "cancelled"
    clock.advance(minutes=5)
    api.post(f"/cases/{second['id']}/stage", {"stage": "feedback"})
    last = api.get(f"/cases/{second['id']}/events").json()["items"][-1]
    assert last["type"] == "reopened" and last["data"]["to"] == "feedback"
    assert api.get(f"/cases/{second['id']}").json()["stage"] == "feedback"


def test_a_promise_starts_and_stops_on_stage_changes(api, clock):
    # given: a promise whose clock runs from reaching delivery until reaching feedback
    make_service(api)
    make_promise(
        api,
        code="deliver-in-a-day",
        standard={"start_on": "stage_delivery", "stop_on": ["stage_feedback"], "target": "PT24H"},
    )
    case = open_case(api, make_customer(api)["id"])
    assert _commitment(api, case["id"], "deliver-in-a-day")["state"] == "pending"
    # when the case moves to delivery
    clock.advance(hours=1)
    api.post(f"/cases/{case['id']}/stage", {"stage": "delivery"})
    running = _commitment(api, case["id"], "deliver-in-a-day")
    assert running["state"] == "running" and running["started_at"].startswith("2026-03-02T02:00:00")
    # and then to feedback
    clock.advance(hours=3)
    api.post(f"/cases/{case['id']}/stage", {"stage": "feedback"})
    kept = _commitment(api, case["id"], "deliver-in-a-day")
    assert kept["state"] == "met" and kept["met_at"].startswith("2026-03-02T05:00:00")


def test_an_event_that_moves_the_stage_is_heard_as_the_stage_too(api, clock):
    make_service(api)
    make_promise(api, code="to-feedback", standard={"stop_on": ["stage_feedback"], "target": "PT24H"})
    case = open_case(api, make_customer(api)["id"])
    clock.advance(hours=2)
    assert api.post(f"/cases/{case['id']}/events", {"type": "resolved"}).status_code == 201
    assert api.get(f"/cases/{case['id']}").json()["stage"] == "feedback"
    assert _commitment(api, case["id"], "to-feedback")["state"] == "met"


def test_a_promise_can_start_on_the_stage_a_case_opens_in(api, clock):
    make_service(api)
    make_promise(
        api,
        code="from-need",
        standard={"start_on": "stage_need_identification", "stop_on": ["delivered"], "target": "PT4H"},
    )
    case = open_case(api, make_customer(api)["id"])
    assert _commitment(api, case["id"], "from-need")["state"] == "running"


def test_events_move_the_stage_forward_only(api, clock, case):
    clock.advance(minutes=5)
    api.post(f"/cases/{case['id']}/events", {"type": "arrived"})
    clock.advance(minutes=5)
    api.post(f"/cases/{case['id']}/events", {"type": "assigned"})  # reassigned while on site
    assert api.get(f"/cases/{case['id']}").json()["stage"] == "delivery"
    clock.advance(minutes=5)
    api.post(f"/cases/{case['id']}/events", {"type": "resolved"})
    clock.advance(minutes=5)
    api.post(f"/cases/{case['id']}/events", {"type": "reopened"})
    assert api.get(f"/cases/{case['id']}").json()["stage"] == "delivery"


# -- the organisation's names ------------------------------------------------------------------


def test_stage_labels_are_set_listed_replaced_and_removed(api, clock):
    make_service(api)
    body = {
        "stage": "delivery",
        "label_en": "Installation",
        "label_zh_hans": "上门安装",
        "substatuses": [{"code": "waiting_parts", "label_en": "Waiting for parts", "label_zh_hans": "等待配件"}],
    }
    first = api.put("/stage-labels", body)
    assert first.status_code == 200, first.content
    assert first.json()["service"] is None and first.json()["substatuses"][0]["label_zh_hans"] == "等待配件"
    again = api.put("/stage-labels", {**body, "label_en": "On site"})
    assert again.json()["id"] == first.json()["id"] and again.json()["label_en"] == "On site"
    own = api.put("/stage-labels", {**body, "service": "install", "label_en": "Fitting"})
    assert own.status_code == 200 and own.json()["service"] == "install"
    listed = api.get("/stage-labels").json()
    assert listed["count"] == 2 and [item["service"] for item in listed["items"]] == [None, "install"]
    gone = api.put("/stage-labels", {"stage": "delivery", "service": "install"})
    assert gone.status_code == 200 and gone.json()["id"] is None
    assert StageLabel.objects.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"stage": "delivery", "service": "nope", "label_en": "x"}, "service"),
        ({"stage": "delivery", "substatuses": [{"code": "Bad Code"}]}, "substatuses.0.code"),
        ({"stage": "delivery", "substatuses": [{"code": "a"}, {"code": "a"}]}, "substatuses"),
        ({"stage": "delivery", "label_en": "x" * 101}, "label_en"),
        ({"stage": "nowhere"}, "stage"),
    ],
)
def test_stage_labels_refuse_bad_input(api, clock, body, field):
    make_service(api)
    response = api.put("/stage-labels", body)
    assert response.status_code in (400, 422) and response.json()["error"]["field"] == field
    assert StageLabel.objects.count() == 0


def test_stage_label_names_a_stage_in_the_organisations_words(api, clock, case):
    found = Case.objects.get(pk=case["id"])
    assert stage_label(found, "en") == "need identification"
    assert stage_label(found, "zh-Hans") == "需求识别"
    api.put("/stage-labels", {"stage": "delivery", "label_en": "On site", "substatuses": [{"code": "waiting_parts"}]})
    api.put(
        "/stage-labels",
        {
            "stage": "delivery",
            "service": "install",
            "label_zh_hans": "上门安装",
            "substatuses": [{"code": "testing_line", "label_en": "Testing the line", "label_zh_hans": "测试线路"}],
        },
    )
    clock.advance(minutes=1)
    api.post(f"/cases/{case['id']}/stage", {"stage": "delivery", "substatus": "testing_line"})
    found.refresh_from_db()
    assert stage_label(found, "zh-Hans") == "上门安装 · 测试线路"
    assert (
        stage_label(found, "en") == "On site · Testing the line"
    )  # the service has no English name: the organisation's
    names = StageNames.load()
    assert [s.code for s in names.substatuses(found.service_id, "delivery", "en")] == ["testing_line"]
    assert [s.code for s in names.substatuses(None, "delivery", "en")] == ["waiting_parts"]
    assert dict(stage_names("en"))["delivery"] == "On site"


def test_internal_notes_can_never_be_shown_to_the_customer_in_the_database(api, clock, case):
    with pytest.raises(IntegrityError):
        CaseEvent.objects.create(
            case_id=case["id"],
            type="internal_note",
            at=clock.now,
            visible_to_customer=True,
            recorded_at=clock.now,
        )
