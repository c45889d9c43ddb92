from __future__ import annotations

import pytest

from promisedesk.conftest import make_calendar, make_customer, make_promise, make_service, open_case
from promisedesk.promises.models import PromiseVersion


def test_create_promise_is_a_draft_with_normalised_standard(api):
    make_service(api)
    body = make_promise(api, publish=False)
    assert body["status"] == "draft"
    assert body["version"] == 1
    assert body["standard"]["start_on"] == ["case_opened"]
    assert body["standard"]["stop_on"] == ["first_response"]
    assert body["liability"]["amount"] == "20.00"
    assert body["statement"]["zh-Hans"] == "4个工作小时内答复。"


def test_publish_records_who_and_when(api, clock, staff):
    make_promise(api, publish=False)
    clock.advance(minutes=5)
    body = api.post("/promises/reply-4h/publish").json()
    assert body["status"] == "published"
    assert body["published_by"] == staff.username
    assert body["published_at"].startswith("2026-03-02T01:05:00")


def test_editing_a_published_promise_makes_a_new_draft_and_keeps_the_old(api):
    make_promise(api)
    edited = api.patch("/promises/reply-4h", {"standard": {"stop_on": "first_response", "target": "PT2H"}})
    assert edited.status_code == 200, edited.content
    assert edited.json()["version"] == 2 and edited.json()["status"] == "draft"
    versions = api.get("/promises/reply-4h/versions").json()
    assert [(v["version"], v["status"], v["standard"]["target"]) for v in versions["items"]] == [
        (1, "published", "PT4H"),
        (2, "draft", "PT2H"),
    ]
    # a second edit changes the same draft, not a third version
    api.patch("/promises/reply-4h", {"title": "Reply within 2 working hours"})
    assert api.get("/promises/reply-4h/versions").json()["count"] == 2


def test_publishing_v2_supersedes_v1(api):
    make_promise(api)
    api.patch("/promises/reply-4h", {"standard": {"stop_on": "first_response", "target": "PT2H"}})
    api.post("/promises/reply-4h/publish")
    statuses = [v["status"] for v in api.get("/promises/reply-4h/versions").json()["items"]]
    assert statuses == ["superseded", "published"]


def test_published_version_cannot_be_changed_in_the_database(api):
    make_promise(api)
    version = PromiseVersion.objects.get(promise__code="reply-4h")
    version.title = "quietly changed"
    with pytest.raises(ValueError, match="immutable"):
        version.save()


def test_retire_stops_new_cases_but_keeps_open_commitments(api):
    make_service(api)
    make_promise(api)
    customer = make_customer(api)
    before = open_case(api, customer["id"])
    assert api.post("/promises/reply-4h/retire").json()["status"] == "retired"
    after = open_case(api, customer["id"])
    assert len(before["commitments"]) == 1 and after["commitments"] == []
    assert api.get(f"/cases/{before['id']}").json()["commitments"][0]["state"] == "running"


def test_a_case_is_judged_by_the_version_in_force_when_it_opened(api, clock):
    make_service(api)
    make_promise(api)
    customer = make_customer(api)
    clock.advance(hours=1)
    api.patch("/promises/reply-4h", {"standard": {"stop_on": "first_response", "target": "PT2H"}})
    api.post("/promises/reply-4h/publish")
    clock.advance(hours=1)
    # back-dated import from before v2 was published → v1; a new case → v2
    old = open_case(api, customer["id"], opened_at="2026-03-02T09:30:00+08:00")
    new = open_case(api, customer["id"])
    assert old["commitments"][0]["promise_version"] == 1
    assert new["commitments"][0]["promise_version"] == 2


def test_applies_to_filters_by_service_channel_tier_priority(api):
    make_service(api, "install")
    make_service(api, "repair")
    make_promise(
        api,
        code="gold-repair",
        applies_to={
            "services": ["repair"],
            "customer_tiers": ["gold"],
            "channels": [],
            "priorities": ["high", "urgent"],
        },
    )
    gold = make_customer(api, tier="gold")
    silver = make_customer(api, tier="silver", name="Han Meimei")
    assert open_case(api, gold["id"], "repair", priority="high")["commitments"][0]["promise_code"] == "gold-repair"
    assert open_case(api, gold["id"], "repair", priority="normal")["commitments"] == []
    assert open_case(api, silver["id"], "repair", priority="high")["commitments"] == []
    assert open_case(api, gold["id"], "install", priority="high")["commitments"] == []


def test_a_recovery_promise_applies_to_complaints_only(api, clock, staff):
    from promisedesk.cases.actions import do_open_case
    from promisedesk.cases.models import Case

    make_service(api, "install")
    make_promise(api, code="reply-4h")  # applies to every (service) case
    make_promise(
        api,
        code="acknowledge-1h",
        standard={"start_on": "case_opened", "stop_on": ["complaint_acknowledged"], "target": "PT1H"},
        applies_to={"case_kinds": ["complaint"]},
    )
    customer = make_customer(api)
    service_case = open_case(api, customer["id"], "install")
    assert [c["promise_code"] for c in service_case["commitments"]] == ["reply-4h"]
    complaint, _ = do_open_case(
        actor=staff,
        now=clock.now,
        customer_id=customer["id"],
        service_code="install",
        kind="complaint",
        about=Case.objects.get(pk=service_case["id"]),
    )
    assert list(complaint.commitments.values_list("promise_code", flat=True)) == ["acknowledge-1h"]
    assert api.get("/promises/acknowledge-1h").json()["applies_to"]["case_kinds"] == ["complaint"]


def test_an_unknown_case_kind_is_refused(api):
    response = api.post(
        "/promises",
        {
            "code": "x",
            "title": "x",
            "statement": "x",
            "kind": "behaviour",
            "applies_to": {"case_kinds": ["grievance"]},
        },
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == "applies_to.case_kinds"


def test_list_promises_shows_latest_versions(api):
    make_promise(api, code="a-promise")
    make_promise(api, code="b-promise", publish=False)
    listed = api.get("/promises").json()
    assert listed["count"] == 2
    assert [(p["code"], p["status"]) for p in listed["items"]] == [("a-promise", "published"), ("b-promise", "draft")]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "speed"}, "kind"),
        ({"standard": {"stop_on": "done", "target": "24h"}}, "standard.target"),
        ({"standard": {"stop_on": "done", "target": "-PT1H"}}, "standard.target"),
        ({"standard": {"stop_on": "done", "target": "PT0S"}}, "standard.target"),
        ({"standard": {"target": "PT4H"}}, "standard.stop_on"),
        ({"standard": {"stop_on": "Done!", "target": "PT4H"}}, "standard.stop_on"),
        ({"standard": {"stop_on": "done", "target": "PT4H", "calendar": 999}}, "standard.calendar"),
        ({"standard": {"stop_on": "done", "target": "PT4H", "calendar": True}}, "standard.calendar"),
        ({"standard": {"stop_on": "done", "target": "PT4H", "warn_at": "120%"}}, "standard.warn_at"),
        ({"standard": {"stop_on": "done", "target": "PT4H", "warn_at": "NaN%"}}, "standard.warn_at"),
        ({"standard": {"stop_on": "done", "target": "PT4H", "colour": "red"}}, "standard.colour"),
        ({"liability": {"kind": "cash", "multiple_of_price": "-2"}}, "liability.multiple_of_price"),
        ({"liability": {"kind": "cash", "multiple_of_price": "1000"}}, "liability.multiple_of_price"),
        (
            {"liability": {"kind": "cash", "amount": "10", "multiple_of_price": "2", "currency": "CNY"}},
            "liability.amount",
        ),
        ({"liability": {"kind": "cash", "amount": "10"}}, "liability.currency"),
        ({"liability": {"kind": "apology", "amount": "10", "currency": "CNY"}}, "liability.amount"),
        ({"liability": {"kind": "cash", "amount": "10", "currency": "yuan"}}, "liability.currency"),
        ({"applies_to": {"services": ["no-such-service"]}}, "applies_to.services"),
        ({"applies_to": {"channels": ["pigeon"]}}, "applies_to.channels"),
        ({"statement": ""}, "statement"),
        ({"statement": {"fr": "Nous répondons"}}, "statement"),
        ({"title": "x" * 201}, "title"),
        ({"colour": "red"}, "colour"),
        ({"code": "has spaces"}, "code"),
    ],
)
def test_bad_promise_is_refused_with_error_body_and_nothing_written(api, change, field):
    body = {
        "code": "bad",
        "title": "t",
        "statement": "s",
        "kind": "time",
        "standard": {"stop_on": "first_response", "target": "PT4H"},
        **change,
    }
    response = api.post("/promises", body)
    assert 400 <= response.status_code < 500, response.content
    error = response.json()["error"]
    assert error["field"] == field, error
    assert error["code"] and error["message"]
    assert not PromiseVersion.objects.exists()


def test_publish_twice_and_retire_without_publication_are_conflicts(api):
    make_promise(api)
    again = api.post("/promises/reply-4h/publish")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_draft"
    make_promise(api, code="draft-only", publish=False)
    assert api.post("/promises/draft-only/retire").status_code == 409
    assert api.post("/promises/unknown/publish").status_code == 404


def test_duplicate_code_is_a_conflict(api):
    make_promise(api)
    response = api.post("/promises", {"code": "reply-4h", "title": "t", "statement": "s", "kind": "quality"})
    assert response.status_code == 409 and response.json()["error"]["field"] == "code"


def test_non_time_promise_has_no_clock_and_is_kept_when_case_closes(api, clock):
    make_service(api)
    make_promise(
        api,
        code="courtesy",
        kind="behaviour",
        standard={},
        liability={"kind": "cash", "multiple_of_price": "2", "verification_required": True},
    )
    case = open_case(api, make_customer(api)["id"])
    [commitment] = case["commitments"]
    assert commitment["state"] == "running" and commitment["due_at"] is None
    clock.advance(hours=1)
    api.post(f"/cases/{case['id']}/events", {"type": "closed"})
    assert api.get(f"/cases/{case['id']}").json()["commitments"][0]["state"] == "met"


def test_calendar_by_name_in_standard(api):
    calendar = make_calendar(api)
    body = make_promise(
        api, publish=False, standard={"stop_on": "resolved", "target": "PT8H", "calendar": "Shanghai office"}
    )
    assert body["standard"]["calendar"] == calendar["id"]
