"""Calendars over HTTP: create, list, read, change, add days, and every refusal."""

from __future__ import annotations

from typing import Any

import pytest

from promisedesk.calendars.models import BusinessCalendar
from promisedesk.conftest import TWO_WINDOWS, Api, make_calendar


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if field is not None:
        assert body["error"]["field"] == field, body
    return body["error"]


def test_create_calendar_returns_it(api: Api) -> None:
    # when
    calendar = make_calendar(api, holidays=["2026-10-01", "2026-10-01"], extra_workdays=["2026-10-10"])
    # then
    assert calendar["name"] == "Shanghai office"
    assert calendar["timezone"] == "Asia/Shanghai"
    assert calendar["weekly_hours"] == TWO_WINDOWS
    assert calendar["holidays"] == ["2026-10-01"]
    assert calendar["extra_workdays"] == ["2026-10-10"]
    assert calendar["region"] is None
    assert calendar["revision"] == 1
    assert calendar["updated_at"].startswith("2026-03-02T01:00:00")


def test_list_and_read_calendars(api: Api) -> None:
    first = make_calendar(api, name="A")
    second = make_calendar(api, name="B", timezone="Europe/London")
    listed = api.get("/calendars").json()
    assert listed["count"] == 2
    assert [c["id"] for c in listed["items"]] == [first["id"], second["id"]]
    assert api.get("/calendars", limit=1, offset=1).json()["items"][0]["name"] == "B"
    read = api.get(f"/calendars/{second['id']}")
    assert read.status_code == 200
    assert read.json() == second


def test_reading_a_missing_calendar_is_404(api: Api) -> None:
    assert_error(api.get("/calendars/999"), 404, "not_found")


def test_patch_changes_fields_and_bumps_the_revision(api: Api) -> None:
    calendar = make_calendar(api)
    response = api.patch(
        f"/calendars/{calendar['id']}",
        {"name": "Renamed", "timezone": "Asia/Hong_Kong", "weekly_hours": {"sat": [["10:00", "16:00"]]}},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["clocks_recomputed"] == 0
    changed = body["calendar"]
    assert (changed["name"], changed["timezone"], changed["revision"]) == ("Renamed", "Asia/Hong_Kong", 2)
    assert changed["weekly_hours"] == {"sat": [["10:00", "16:00"]]}
    assert api.get(f"/calendars/{calendar['id']}").json() == changed


def test_patch_to_its_own_name_is_fine(api: Api) -> None:
    calendar = make_calendar(api)
    response = api.patch(f"/calendars/{calendar['id']}", {"name": calendar["name"]})
    assert response.status_code == 200, response.content


def test_patch_one_day_list_takes_its_days_out_of_the_other(api: Api) -> None:
    calendar = make_calendar(api, holidays=["2026-05-01"], extra_workdays=["2026-05-09"])
    response = api.patch(f"/calendars/{calendar['id']}", {"holidays": ["2026-05-09"]})
    assert response.status_code == 200, response.content
    changed = response.json()["calendar"]
    assert (changed["holidays"], changed["extra_workdays"]) == (["2026-05-09"], [])


def test_add_days_merges_and_the_newest_word_wins(api: Api) -> None:
    calendar = make_calendar(api, holidays=["2026-10-01"], extra_workdays=["2026-10-10"])
    response = api.post(
        f"/calendars/{calendar['id']}/days",
        {"holidays": ["2026-10-10", "2026-10-02"], "extra_workdays": ["2026-09-20"], "reason": "notice"},
    )
    assert response.status_code == 200, response.content
    changed = response.json()["calendar"]
    assert changed["holidays"] == ["2026-10-01", "2026-10-02", "2026-10-10"]
    assert changed["extra_workdays"] == ["2026-09-20"]
    assert changed["revision"] == 2


# -- refusals: each gives the error body and writes nothing ---------------------------

BAD_CREATES = [
    ({"timezone": "Mars/Olympus_Mons"}, 400, "invalid_timezone", "timezone"),
    ({"timezone": "localtime"}, 400, "invalid_timezone", "timezone"),
    ({"timezone": "../etc/passwd"}, 400, "invalid_timezone", "timezone"),
    ({"timezone": ""}, 400, "invalid_timezone", "timezone"),
    ({"timezone": "Asia"}, 400, "invalid_timezone", "timezone"),  # a directory of the zone database
    ({"timezone": "right/UTC"}, 400, "invalid_timezone", "timezone"),  # leap seconds
    ({"timezone": "zone.tab"}, 400, "invalid_timezone", "timezone"),
    ({"weekly_hours": {"mon": [["12:00", "09:00"]]}}, 400, "invalid_hours", "weekly_hours"),
    ({"weekly_hours": {"mon": [["09:00", "12:00"], ["11:00", "14:00"]]}}, 400, "invalid_hours", "weekly_hours"),
    ({"weekly_hours": {"mon": [["09:00", "25:00"]]}}, 400, "invalid_hours", "weekly_hours"),
    ({"weekly_hours": {"mon": [["25:00", "26:00"]]}}, 400, "invalid_hours", "weekly_hours"),
    ({"weekly_hours": {"monday": [["09:00", "12:00"]]}}, 400, "invalid_hours", "weekly_hours"),
    ({"weekly_hours": {"mon": [["9am", "5pm"]]}}, 400, "invalid_hours", "weekly_hours"),
    ({"weekly_hours": {}}, 400, "no_working_time", "weekly_hours"),
    ({"weekly_hours": {"mon": [], "sat": []}}, 400, "no_working_time", "weekly_hours"),
    ({"weekly_hours": {"mon": [["09:00"]]}}, 422, "missing_field", "weekly_hours.mon.0.1"),
    ({"weekly_hours": "09:00-18:00"}, 422, "invalid", None),
    ({"holidays": ["2026-02-30"]}, 400, "invalid_date", "holidays"),
    ({"extra_workdays": ["tomorrow"]}, 400, "invalid_date", "extra_workdays"),
    ({"holidays": ["2026-10-10"], "extra_workdays": ["2026-10-10"]}, 400, "conflicting_days", "extra_workdays"),
    ({"region": "XX"}, 400, "unknown_region", "region"),
    ({"region": "Atlantis"}, 400, "unknown_region", "region"),
    ({"name": "x" * 201}, 422, "too_long", "name"),
    ({"name": "   "}, 400, "invalid_name", "name"),
    ({"name": ""}, 422, "invalid", "name"),
    ({"colour": "red"}, 422, "unknown_field", "colour"),
    ({"timezone": 8}, 422, "invalid", "timezone"),
]


@pytest.mark.parametrize(("overrides", "status", "code", "field"), BAD_CREATES, ids=[c[2] for c in BAD_CREATES])
def test_bad_calendar_is_refused_and_nothing_written(
    api: Api, overrides: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    body = {"name": "Bad", "timezone": "Asia/Shanghai", "weekly_hours": TWO_WINDOWS, **overrides}
    assert_error(api.post("/calendars", body), status, code, field)
    assert BusinessCalendar.objects.count() == 0


def test_missing_required_field_is_refused(api: Api) -> None:
    assert_error(api.post("/calendars", {"name": "No zone", "weekly_hours": TWO_WINDOWS}), 422, "missing_field")
    assert BusinessCalendar.objects.count() == 0


def test_duplicate_name_is_409(api: Api) -> None:
    make_calendar(api)
    assert_error(
        api.post("/calendars", {"name": "Shanghai office", "timezone": "UTC", "weekly_hours": TWO_WINDOWS}),
        409,
        "duplicate",
        "name",
    )
    assert BusinessCalendar.objects.count() == 1


def test_missing_token_is_401(anonymous_api: Api) -> None:
    assert_error(anonymous_api.get("/calendars"), 401, "unauthorized")
    body = {"name": "X", "timezone": "UTC", "weekly_hours": TWO_WINDOWS}
    assert_error(anonymous_api.post("/calendars", body), 401, "unauthorized")
    assert BusinessCalendar.objects.count() == 0


def test_wrong_token_is_401(api: Api) -> None:
    api.headers = {"HTTP_AUTHORIZATION": "Bearer not-a-token"}
    assert_error(api.get("/calendars"), 401, "unauthorized")


BAD_PATCHES = [
    ({"timezone": "Nowhere/Land"}, 400, "invalid_timezone"),
    ({"weekly_hours": {"mon": [["18:00", "09:00"]]}}, 400, "invalid_hours"),
    ({"weekly_hours": {"mon": [["09:00", "12:00"], ["10:00", "11:00"]]}}, 400, "invalid_hours"),
    ({"weekly_hours": {}}, 400, "no_working_time"),
    ({"holidays": ["2026-13-01"]}, 400, "invalid_date"),
    ({"holidays": ["2026-05-01"], "extra_workdays": ["2026-05-01"]}, 400, "conflicting_days"),
    ({"name": "Other"}, 409, "duplicate"),
    ({"name": "y" * 201}, 422, "too_long"),
    ({"region": "CN"}, 422, "unknown_field"),
    ({"revision": 7}, 422, "unknown_field"),
]


@pytest.mark.parametrize(("change", "status", "code"), BAD_PATCHES, ids=[c[2] for c in BAD_PATCHES])
def test_bad_patch_is_refused_and_nothing_written(api: Api, change: dict[str, Any], status: int, code: str) -> None:
    calendar = make_calendar(api)
    make_calendar(api, name="Other")
    assert_error(api.patch(f"/calendars/{calendar['id']}", change), status, code)
    assert api.get(f"/calendars/{calendar['id']}").json() == calendar


@pytest.mark.parametrize(
    ("days", "code"),
    [
        ({"holidays": ["2026-02-30"]}, "invalid_date"),
        ({"extra_workdays": [20260214]}, "invalid"),
        ({"holidays": ["2026-10-08"], "extra_workdays": ["2026-10-08"]}, "conflicting_days"),
        ({"weekdays": ["mon"]}, "unknown_field"),
    ],
)
def test_bad_days_are_refused_and_nothing_written(api: Api, days: dict[str, Any], code: str) -> None:
    calendar = make_calendar(api)
    response = api.post(f"/calendars/{calendar['id']}/days", days)
    assert response.status_code in (400, 422)
    assert_error(response, response.status_code, code)
    assert api.get(f"/calendars/{calendar['id']}").json() == calendar


def test_days_for_a_missing_calendar_is_404(api: Api) -> None:
    assert_error(api.post("/calendars/404/days", {"holidays": ["2026-10-01"]}), 404, "not_found")


def test_dates_are_stored_in_iso_form(api: Api) -> None:
    calendar = make_calendar(api, holidays=["20261001", "2026-10-02"])
    assert calendar["holidays"] == ["2026-10-01", "2026-10-02"]
