"""GET /calendars/{id}/due and /elapsed: exact answers and the refusals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from promisedesk.conftest import Api, make_calendar

from .test_calendar_api import assert_error

NINE_TO_FIVE = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def cn(api: Api) -> dict[str, Any]:
    return make_calendar(api, name="CN office", region="CN")


def due(api: Api, calendar: dict[str, Any], start: str, duration: str) -> Any:
    return api.get(f"/calendars/{calendar['id']}/due", start=start, duration=duration)


def elapsed(api: Api, calendar: dict[str, Any], start: str, end: str) -> Any:
    return api.get(f"/calendars/{calendar['id']}/elapsed", start=start, end=end)


@pytest.mark.parametrize(
    ("start", "duration", "due_at"),
    [
        ("2026-09-30T16:00:00+08:00", "PT4H", "2026-10-08T11:00:00+08:00"),  # over National Day
        ("2026-09-30T16:00:00+08:00", "PT24H", "2026-10-10T16:00:00+08:00"),  # make-up Sat 10 Oct
        ("2026-09-19T10:00:00+08:00", "PT2H", "2026-09-20T11:00:00+08:00"),  # make-up Sun 20 Sep
        ("2026-02-13T17:00:00+08:00", "PT4H", "2026-02-14T12:00:00+08:00"),  # make-up Sat 14 Feb, to 12:00
        ("2026-02-13T17:00:00+08:00", "PT12H", "2026-02-24T12:00:00+08:00"),  # Spring Festival jumped
        ("2026-03-02T09:00:00+08:00", "PT3H", "2026-03-02T12:00:00+08:00"),  # end of window: 12:00 not 13:00
        ("2026-03-02T12:30:00+08:00", "PT1H", "2026-03-02T14:00:00+08:00"),  # lunch break
        ("2026-10-01T10:00:00+08:00", "PT1H", "2026-10-08T10:00:00+08:00"),  # start on a holiday
        ("2026-03-02T01:00:00Z", "PT2H", "2026-03-02T11:00:00+08:00"),  # start given in UTC
        ("2026-03-02T10:00:00", "PT1H", "2026-03-02T11:00:00+08:00"),  # no offset: the calendar's zone
        ("2026-03-07T10:00:00+08:00", "PT0S", "2026-03-07T10:00:00+08:00"),  # zero: due at start
        ("2026-03-02T09:00:00+08:00", "P1D", "2026-03-04T18:00:00+08:00"),  # 24 working hours: 3 days
    ],
)
def test_due_on_the_cn_calendar(api: Api, cn: dict[str, Any], start: str, duration: str, due_at: str) -> None:
    response = due(api, cn, start, duration)
    assert response.status_code == 200, response.content
    assert response.json() == {"due_at": due_at}


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        ("2026-02-13T09:00:00+08:00", "2026-02-24T09:00:00+08:00", 16 * 3600),
        ("2026-09-30T16:00:00+08:00", "2026-10-08T11:00:00+08:00", 4 * 3600),
        ("2026-03-02T12:00:00+08:00", "2026-03-02T13:00:00+08:00", 0),
        ("2026-03-02T10:00:00+08:00", "2026-03-02T10:00:00+08:00", 0),
        ("2026-03-02T10:00:00+08:00", "2026-03-02T10:00:01.999999+08:00", 1),  # whole seconds, floored
    ],
)
def test_elapsed_on_the_cn_calendar(api: Api, cn: dict[str, Any], start: str, end: str, seconds: int) -> None:
    response = elapsed(api, cn, start, end)
    assert response.status_code == 200, response.content
    assert response.json() == {"business_seconds": seconds}


def test_due_and_elapsed_across_new_york_dst(api: Api) -> None:
    ny = make_calendar(api, name="NY", timezone="America/New_York", weekly_hours=NINE_TO_FIVE)
    assert due(api, ny, "2026-03-06T16:00:00-05:00", "PT2H").json() == {"due_at": "2026-03-09T10:00:00-04:00"}
    assert due(api, ny, "2026-10-30T16:00:00-04:00", "PT2H").json() == {"due_at": "2026-11-02T10:00:00-05:00"}
    weekend = elapsed(api, ny, "2026-03-06T09:00:00-05:00", "2026-03-09T17:00:00-04:00")
    assert weekend.json() == {"business_seconds": 16 * 3600}


def test_round_the_clock_calendar_has_23_and_25_hour_days(api: Api) -> None:
    all_day = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    london = make_calendar(api, name="London 24/7", timezone="Europe/London", weekly_hours=all_day)
    spring = elapsed(api, london, "2026-03-29T00:00:00+00:00", "2026-03-30T00:00:00+01:00")
    assert spring.json() == {"business_seconds": 23 * 3600}
    autumn = elapsed(api, london, "2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00+00:00")
    assert autumn.json() == {"business_seconds": 25 * 3600}
    assert due(api, london, "2026-03-28T12:00:00+00:00", "PT24H").json() == {"due_at": "2026-03-29T13:00:00+01:00"}


@pytest.mark.parametrize(
    ("duration", "code"),
    [
        ("24h", "invalid_duration"),
        ("-PT1H", "invalid_duration"),
        ("P1M", "invalid_duration"),
        ("P1Y", "invalid_duration"),
        ("PT", "invalid_duration"),
        ("P3661D", "invalid_duration"),
        ("", "invalid_duration"),
    ],
)
def test_bad_duration_is_refused(api: Api, cn: dict[str, Any], duration: str, code: str) -> None:
    assert_error(due(api, cn, "2026-03-02T10:00:00+08:00", duration), 400, code, "duration")


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"start": "yesterday", "duration": "PT1H"}, 422, "invalid"),
        ({"start": "2026-02-30T10:00:00+08:00", "duration": "PT1H"}, 422, "invalid"),
        ({"duration": "PT1H"}, 422, "missing_field"),
        ({"start": "2026-03-02T10:00:00+08:00"}, 422, "missing_field"),
        ({"start": "1900-01-01T00:00:00+00:00", "duration": "PT1H"}, 400, "out_of_range"),
        ({"start": "2999-01-01T00:00:00+00:00", "duration": "PT1H"}, 400, "out_of_range"),
    ],
)
def test_bad_due_query_is_refused(api: Api, cn: dict[str, Any], params: dict[str, str], status: int, code: str) -> None:
    assert_error(api.get(f"/calendars/{cn['id']}/due", **params), status, code)


def test_due_with_no_working_time_in_reach_is_400(api: Api, cn: dict[str, Any]) -> None:
    # ten years of round-the-clock time is ~42 years of office hours: past what the engine supports
    response = due(api, cn, "2190-06-01T09:00:00+08:00", "P3660D")
    assert_error(response, 400, "no_working_time", "duration")


def test_elapsed_end_before_start_is_refused(api: Api, cn: dict[str, Any]) -> None:
    response = elapsed(api, cn, "2026-03-02T10:00:00+08:00", "2026-03-02T09:59:59+08:00")
    assert_error(response, 400, "end_before_start", "end")


def test_elapsed_bad_time_is_refused(api: Api, cn: dict[str, Any]) -> None:
    assert_error(elapsed(api, cn, "2026-03-02T10:00:00+08:00", "soon"), 422, "invalid")
    assert_error(elapsed(api, cn, "1800-03-02T10:00:00+08:00", "2026-03-02T10:00:00+08:00"), 400, "out_of_range")


def test_due_on_a_missing_calendar_is_404(api: Api) -> None:
    assert_error(api.get("/calendars/77/due", start="2026-03-02T10:00:00+08:00", duration="PT1H"), 404, "not_found")
    assert_error(
        api.get("/calendars/77/elapsed", start="2026-03-02T10:00:00+08:00", end="2026-03-03T10:00:00+08:00"),
        404,
        "not_found",
    )


def test_due_follows_changes_to_the_calendar(api: Api) -> None:
    calendar = make_calendar(api)
    start = "2026-03-02T10:00:00+08:00"
    assert due(api, calendar, start, "PT8H").json() == {"due_at": "2026-03-03T10:00:00+08:00"}
    api.post(f"/calendars/{calendar['id']}/days", {"holidays": ["2026-03-03"]})
    assert due(api, calendar, start, "PT8H").json() == {"due_at": "2026-03-04T10:00:00+08:00"}
    api.patch(f"/calendars/{calendar['id']}", {"timezone": "Europe/London"})
    # (Django's JSON encoder writes a zero offset as Z)
    assert due(api, calendar, "2026-03-02T10:00:00+00:00", "PT1H").json() == {"due_at": "2026-03-02T11:00:00Z"}


def test_answers_are_exact_to_the_second_far_ahead(api: Api, cn: dict[str, Any]) -> None:
    start = "2026-03-02T10:00:00+08:00"
    answer = due(api, cn, start, "PT1234H56M7S").json()["due_at"]
    assert datetime.fromisoformat(answer).second == 7
    back = elapsed(api, cn, start, answer).json()
    assert back == {"business_seconds": 1234 * 3600 + 56 * 60 + 7}
