"""Working a case over the API: departments and assignment, internal notes and customer updates,
appointments, the customer's profile."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from promisedesk.accounts.models import Department
from promisedesk.cases.models import Case, CaseEvent, Customer
from promisedesk.conftest import make_customer, make_promise, make_service, open_case
from promisedesk.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _user(username: str) -> Any:
    return get_user_model().objects.create_user(username, is_staff=True)


@pytest.fixture
def team(api, staff) -> dict[str, Any]:
    """The customer centre: chen.jing leads it, zhou.min manages it, agent is a member; li.na is not."""
    staff.groups.add(Group.objects.get_or_create(name="manager")[0])  # departments are for managers to change
    people = {name: _user(name) for name in ("chen.jing", "zhou.min", "li.na")}
    response = api.post(
        "/departments",
        {
            "code": "customer_centre",
            "name": "Customer centre",
            "lead": "chen.jing",
            "manager": "zhou.min",
            "members": ["agent"],
        },
    )
    assert response.status_code == 201, response.content
    api.post("/departments", {"code": "front_desk", "name": "Front desk", "members": ["li.na"]})
    return people


@pytest.fixture
def case(api, clock) -> dict[str, Any]:
    make_service(api)
    return open_case(api, make_customer(api)["id"])


def _events(api, case_id: int) -> list[dict[str, Any]]:
    return api.get(f"/cases/{case_id}/events").json()["items"]


# -- departments --------------------------------------------------------------------------------


def test_departments_are_created_listed_and_changed(api, team, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):  # token, count, departments, members
        listed = api.get("/departments").json()
    assert listed["count"] == 2
    centre = next(d for d in listed["items"] if d["code"] == "customer_centre")
    assert centre == {
        "code": "customer_centre",
        "name": "Customer centre",
        "lead": "chen.jing",
        "manager": "zhou.min",
        "members": ["agent"],
    }
    changed = api.patch("/departments/customer_centre", {"lead": None, "members": ["agent", "li.na"]})
    assert changed.status_code == 200, changed.content
    assert changed.json()["lead"] is None and changed.json()["members"] == ["agent", "li.na"]
    assert changed.json()["manager"] == "zhou.min" and changed.json()["name"] == "Customer centre"


def test_departments_are_changed_by_managers_only(api, staff, team):
    # given a member of staff who is no longer a manager
    staff.groups.clear()
    # when they try to create a department or make themselves its manager
    created = api.post("/departments", {"code": "crew", "name": "Crew"})
    changed = api.patch("/departments/customer_centre", {"manager": "agent"})
    # then both are refused and nothing changed
    assert created.status_code == changed.status_code == 403
    assert created.json()["error"]["code"] == "forbidden"
    assert api.get("/departments/customer_centre").json()["manager"] == "zhou.min"


def test_departments_refuse_duplicates_strangers_and_unknown_codes(api, team):
    again = api.post("/departments", {"code": "customer_centre", "name": "Again"})
    assert again.status_code == 409 and again.json()["error"]["field"] == "code"
    stranger = api.post("/departments", {"code": "crew", "name": "Crew", "members": ["ghost"]})
    assert stranger.status_code == 400 and stranger.json()["error"] == {
        "code": "unknown_user",
        "message": "there is no staff member 'ghost'",
        "field": "members",
    }
    assert api.patch("/departments/nope", {"name": "x"}).status_code == 404
    assert api.patch("/departments/front_desk", {"manager": "ghost"}).json()["error"]["field"] == "manager"
    assert not Department.objects.filter(code="crew").exists()


# -- assignment ---------------------------------------------------------------------------------


def test_assignment_records_where_the_case_went_and_came_from(api, clock, team, case):
    clock.advance(minutes=3)
    first = api.post(
        f"/cases/{case['id']}/assign", {"department": "customer_centre", "assignee": "agent", "note": "billing"}
    )
    assert first.status_code == 200, first.content
    assert first.json()["department"] == "customer_centre" and first.json()["assignee"] == "agent"
    assert first.json()["stage"] == "design"
    clock.advance(minutes=3)
    again = api.post(f"/cases/{case['id']}/assign", {"assignee": "chen.jing"})  # the lead takes it over
    assert again.json()["department"] == "customer_centre" and again.json()["assignee"] == "chen.jing"
    assigned = [e for e in _events(api, case["id"]) if e["type"] == "assigned"]
    assert [e["data"] for e in assigned] == [
        {"department": "customer_centre", "assignee": "agent", "from_department": None, "from_assignee": None},
        {
            "department": "customer_centre",
            "assignee": "chen.jing",
            "from_department": "customer_centre",
            "from_assignee": "agent",
        },
    ]
    assert assigned[0]["note"] == "billing" and not assigned[0]["visible_to_customer"]


def test_assignee_must_belong_to_the_department(api, clock, team, case):
    response = api.post(f"/cases/{case['id']}/assign", {"department": "customer_centre", "assignee": "li.na"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "not_a_member",
        "message": "li.na is not a member of the department customer_centre",
        "field": "assignee",
    }
    api.post(f"/cases/{case['id']}/assign", {"department": "front_desk"})
    # the department the case is in already counts when only a person is named
    assert api.post(f"/cases/{case['id']}/assign", {"assignee": "agent"}).json()["error"]["code"] == "not_a_member"
    assert api.post(f"/cases/{case['id']}/assign", {"assignee": "li.na"}).status_code == 200
    assert Case.objects.get(pk=case["id"]).assignee.username == "li.na"


@pytest.mark.parametrize(
    "body, code, field",
    [
        ({"department": "nope"}, "unknown_department", "department"),
        ({"assignee": "ghost"}, "unknown_user", "assignee"),
        ({"note": "who?"}, "missing_field", "department"),
    ],
)
def test_assignment_refuses_bad_input(api, clock, team, case, body, code, field):
    response = api.post(f"/cases/{case['id']}/assign", body)
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert response.json()["error"]["field"] == field
    assert not CaseEvent.objects.filter(type="assigned").exists()


def test_assigning_again_the_same_way_writes_nothing_and_null_clears(api, clock, team, case):
    body = {"department": "customer_centre", "assignee": "agent"}
    api.post(f"/cases/{case['id']}/assign", body)
    api.post(f"/cases/{case['id']}/assign", body)
    assert CaseEvent.objects.filter(type="assigned").count() == 1
    cleared = api.post(f"/cases/{case['id']}/assign", {"department": None, "assignee": None}).json()
    assert cleared["department"] is None and cleared["assignee"] is None
    assert CaseEvent.objects.filter(type="assigned").count() == 2


def test_cases_filter_by_department_assignee_and_mine(api, clock, team, case, staff, django_assert_max_num_queries):
    other = open_case(api, case["customer"], external_ref="other")
    oral = open_case(api, case["customer"], external_ref="oral")
    api.post(f"/cases/{case['id']}/assign", {"department": "customer_centre", "assignee": "agent"})
    api.post(f"/cases/{other['id']}/assign", {"department": "front_desk", "assignee": "li.na"})
    # an oral promise owned by agent on a case assigned to nobody makes it agent's too
    api.post(f"/cases/{oral['id']}/commitments", {"statement": "Call back", "target": "PT30M", "owner": "agent"})

    def refs(**params: Any) -> list[str | None]:
        return [c["external_ref"] for c in api.get("/cases", **params).json()["items"]]

    assert refs(department="front_desk") == ["other"]
    assert refs(assignee="agent") == [None]
    with django_assert_max_num_queries(4):
        assert sorted(refs(mine="true"), key=str) == [None, "oral"]
    summary = api.get("/cases", department="customer_centre").json()["items"][0]
    assert summary["department"] == "customer_centre" and summary["assignee"] == "agent"


# -- internal notes and customer updates ------------------------------------------------------------


def test_internal_note_is_never_visible_and_sends_nothing(api, clock, case):
    note = api.post(f"/cases/{case['id']}/events", {"type": "internal_note", "note": "Customer sounded upset"})
    assert note.status_code == 201 and note.json()["visible_to_customer"] is False
    assert not OutboxMessage.objects.filter(event_key=f"event:{note.json()['id']}").exclude(channel="webhook").exists()
    shown = api.post(f"/cases/{case['id']}/events", {"type": "internal_note", "note": "x", "visible_to_customer": True})
    assert shown.status_code == 400 and shown.json()["error"]["code"] == "internal_note_visible"
    assert shown.json()["error"]["field"] == "visible_to_customer"
    empty = api.post(f"/cases/{case['id']}/events", {"type": "internal_note"})
    assert empty.status_code == 400 and empty.json()["error"]["field"] == "note"


def test_progress_update_is_visible_by_default_and_can_be_kept_internal(api, clock, case):
    update = api.post(f"/cases/{case['id']}/events", {"type": "progress_update", "note": "The part has arrived"})
    assert update.json()["visible_to_customer"] is True
    told = OutboxMessage.objects.filter(event_key=f"event:{update.json()['id']}").exclude(channel="webhook")
    assert told.exists()  # the customer is sent the update
    quiet = api.post(
        f"/cases/{case['id']}/events", {"type": "progress_update", "note": "draft", "visible_to_customer": False}
    )
    assert quiet.json()["visible_to_customer"] is False
    custom = api.post(f"/cases/{case['id']}/events", {"type": "site_survey_done", "visible_to_customer": True})
    assert custom.json()["visible_to_customer"] is True
    listed = {e["note"]: e["visible_to_customer"] for e in _events(api, case["id"])}
    assert listed["The part has arrived"] is True and listed["draft"] is False


# -- appointments ---------------------------------------------------------------------------------


def test_appointment_is_booked_then_moved_with_a_reason(api, clock):
    make_service(api)
    make_promise(api, code="arrive", standard={"start_on": "appointment_start", "stop_on": "arrived", "target": "PT2H"})
    case = open_case(api, make_customer(api)["id"])
    window = {"start": "2026-03-03T09:00:00+08:00", "end": "2026-03-03T11:00:00+08:00"}
    booked = api.post(f"/cases/{case['id']}/appointment", window)
    assert booked.status_code == 200, booked.content
    assert booked.json()["appointment"]["start"] == "2026-03-03T01:00:00Z"
    arrive = next(c for c in booked.json()["commitments"] if c["promise_code"] == "arrive")
    assert arrive["state"] == "pending"  # its clock starts when the window opens
    clock.advance(minutes=30)
    later = {"start": "2026-03-04T14:00:00+08:00", "end": "2026-03-04T16:00:00+08:00"}
    no_reason = api.post(f"/cases/{case['id']}/appointment", later)
    assert no_reason.status_code == 400 and no_reason.json()["error"]["code"] == "reason_required"
    assert no_reason.json()["error"]["field"] == "reason"
    moved = api.post(f"/cases/{case['id']}/appointment", {**later, "reason": "The customer is away on Tuesday"})
    assert moved.status_code == 200
    last = _events(api, case["id"])[-1]
    assert last["type"] == "appointment_scheduled" and last["note"] == "The customer is away on Tuesday"
    assert last["data"]["previous_start"] == "2026-03-03T01:00:00+00:00" and last["visible_to_customer"]
    # the same window again changes nothing
    assert api.post(f"/cases/{case['id']}/appointment", {**later, "reason": "again"}).status_code == 200
    assert len([e for e in _events(api, case["id"]) if e["type"] == "appointment_scheduled"]) == 2
    clock.to(clock.now.replace(day=4, hour=15))
    assert api.post(f"/cases/{case['id']}/events", {"type": "arrived"}).status_code == 201
    [kept] = api.get(f"/cases/{case['id']}").json()["commitments"]
    assert kept["state"] == "met" and kept["started_at"].startswith("2026-03-04T06:00:00")  # the new window


def test_appointment_ending_before_it_starts_is_refused(api, clock, case):
    response = api.post(
        f"/cases/{case['id']}/appointment",
        {"start": "2026-03-03T11:00:00+08:00", "end": "2026-03-03T09:00:00+08:00"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "end_before_start",
        "message": "the appointment ends before it starts",
        "field": "end",
    }
    assert Case.objects.get(pk=case["id"]).appointment_start is None


# -- the customer's profile -----------------------------------------------------------------------


def test_customer_tier_preferences_and_time_zone_are_edited(api, clock):
    customer = make_customer(api, timezone="Europe/London")
    assert customer["timezone"] == "Europe/London"
    changed = api.patch(
        f"/customers/{customer['id']}",
        {"tier": "platinum", "preferences": {"pillow": "buckwheat", "quiet_room": True, "newspapers": ["China Daily"]}},
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["tier"] == "platinum" and body["preferences"]["quiet_room"] is True
    assert body["timezone"] == "Europe/London"  # left as it was
    assert api.patch(f"/customers/{customer['id']}", {"timezone": None}).json()["timezone"] == ""


@pytest.mark.parametrize(
    "body, code, field",
    [
        ({"timezone": "Mars/Olympus"}, "invalid_timezone", "timezone"),
        ({"preferences": {"pillow": {"nested": "no"}}}, "invalid_preferences", "preferences"),
        ({"preferences": {"<script>": "x"}}, "invalid_preferences", "preferences"),
        ({"tier": None}, "invalid", "tier"),
        ({"tier": ""}, "invalid", "tier"),
        ({"name": "renamed"}, "unknown_field", "name"),
    ],
)
def test_customer_edit_refuses_bad_input(api, clock, body, code, field):
    customer = make_customer(api)
    response = api.patch(f"/customers/{customer['id']}", body)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"] == code and response.json()["error"]["field"] == field
    assert Customer.objects.get(pk=customer["id"]).tier == "gold"


def test_customer_edit_of_an_unknown_customer_is_404(api):
    assert api.patch("/customers/999", {"tier": "gold"}).status_code == 404
