"""Holidays and make-up workdays from statutory data (region) and from iCalendar files."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from promisedesk.calendars.ical import BadICalendar, days_from_ical
from promisedesk.calendars.models import BusinessCalendar
from promisedesk.calendars.statutory import UnknownRegion, statutory_days
from promisedesk.conftest import Api, make_calendar

from .test_calendar_api import assert_error


def ics(*events: str) -> bytes:
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//promisedesk tests//EN", *events, "END:VCALENDAR", ""]
    return "\r\n".join(body).encode()


def event(uid: str, summary: str, start: str, end: str | None = None, extra: str = "") -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z", f"DTSTART;VALUE=DATE:{start}"]
    if end:
        lines.append(f"DTEND;VALUE=DATE:{end}")
    lines.append(f"SUMMARY:{summary}")
    if extra:
        lines.append(extra)
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


NATIONAL_DAY = ics(
    event("nd", "国庆节 休", "20261001", "20261008"),
    event("bb1", "国庆节 补班", "20260920"),
    event("bb2", "调休上班", "20261010"),
    event("xmas", "Christmas Day", "20261225"),
    event("cancelled", "Staff party", "20261224", extra="STATUS:CANCELLED"),
)


def upload(api: Api, calendar_id: int, data: bytes, name: str = "holidays.ics") -> Any:
    file = SimpleUploadedFile(name, data, content_type="text/calendar")
    headers: dict[str, Any] = dict(api.headers)
    return api.client.post(f"/api/v1/calendars/{calendar_id}/ical", {"file": file}, **headers)


# -- region ----------------------------------------------------------------------------


def test_region_cn_imports_holidays_and_make_up_workdays(api: Api) -> None:
    calendar = make_calendar(api, region="cn")
    assert calendar["region"] == "CN"
    assert "2026-02-14" in calendar["extra_workdays"]
    assert "2026-10-10" in calendar["extra_workdays"]
    assert "2026-09-20" in calendar["extra_workdays"]
    assert "2026-10-01" in calendar["holidays"]
    assert "2026-02-17" in calendar["holidays"]
    assert not set(calendar["holidays"]) & set(calendar["extra_workdays"])


def test_region_us_imports_holidays_from_the_holidays_package(api: Api) -> None:
    calendar = make_calendar(api, name="NY", timezone="America/New_York", region="US")
    assert calendar["region"] == "US"
    assert {"2026-07-03", "2026-11-26", "2026-12-25"} <= set(calendar["holidays"])
    assert calendar["extra_workdays"] == []


def test_explicit_days_win_over_the_region(api: Api) -> None:
    calendar = make_calendar(api, region="CN", holidays=["2026-02-14"], extra_workdays=["2026-10-08", "2026-10-01"])
    assert "2026-02-14" in calendar["holidays"] and "2026-02-14" not in calendar["extra_workdays"]
    assert "2026-10-01" in calendar["extra_workdays"] and "2026-10-01" not in calendar["holidays"]


def test_region_days_cover_the_years_around_today(api: Api) -> None:
    calendar = make_calendar(api, name="UK", timezone="Europe/London", region="GB")
    years = {day[:4] for day in calendar["holidays"]}
    assert {"2024", "2025", "2026", "2027", "2028"} <= years


def test_statutory_days_directly() -> None:
    offs, works = statutory_days("CN", range(2026, 2027))
    assert date(2026, 10, 7) in offs and date(2026, 10, 8) not in offs
    assert works == [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20),
                     date(2026, 10, 10)]  # fmt: skip
    us_offs, us_works = statutory_days("us", range(2026, 2027))
    assert date(2026, 1, 19) in us_offs and us_works == []
    with pytest.raises(UnknownRegion):
        statutory_days("ZZ", range(2026, 2027))


# -- iCalendar ----------------------------------------------------------------------------


def test_ical_import_adds_holidays_and_make_up_workdays(api: Api) -> None:
    calendar = make_calendar(api, holidays=["2026-05-01"])
    response = upload(api, calendar["id"], NATIONAL_DAY)
    assert response.status_code == 200, response.content
    body = response.json()
    changed = body["calendar"]
    assert changed["revision"] == 2
    assert changed["holidays"] == [
        "2026-05-01",
        *(f"2026-10-0{n}" for n in range(1, 8)),
        "2026-12-25",
    ]
    assert changed["extra_workdays"] == ["2026-09-20", "2026-10-10"]
    assert body["clocks_recomputed"] == 0
    # and due times follow: 4 working hours from Wed 30 Sep 16:00 end on Thu 8 Oct 11:00
    due = api.get(f"/calendars/{calendar['id']}/due", start="2026-09-30T16:00:00+08:00", duration="PT4H")
    assert due.json() == {"due_at": "2026-10-08T11:00:00+08:00"}
    sat = api.get(f"/calendars/{calendar['id']}/due", start="2026-10-09T17:00:00+08:00", duration="PT2H")
    assert sat.json() == {"due_at": "2026-10-10T10:00:00+08:00"}


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"this is not a calendar",
        b"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261001\r\nEND:VEVENT\r\n",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:someday\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        ics(event("long", "Closed", "20000101", "20300101")),
    ],
    ids=["empty", "text", "no-vcalendar", "bad-dtstart", "decades-long"],
)
def test_bad_ical_is_refused_and_nothing_written(api: Api, data: bytes) -> None:
    calendar = make_calendar(api)
    assert_error(upload(api, calendar["id"], data), 400, "invalid_ical", "file")
    assert BusinessCalendar.objects.get(pk=calendar["id"]).revision == 1


def test_ical_upload_needs_a_file(api: Api) -> None:
    calendar = make_calendar(api)
    headers: dict[str, Any] = dict(api.headers)
    response = api.client.post(f"/api/v1/calendars/{calendar['id']}/ical", {}, **headers)
    assert_error(response, 422, "missing_field")


def test_ical_for_a_missing_calendar_is_404(api: Api) -> None:
    assert_error(upload(api, 999, NATIONAL_DAY), 404, "not_found")


def test_ical_upload_needs_a_token(api: Api, anonymous_api: Api) -> None:
    calendar = make_calendar(api)
    file = SimpleUploadedFile("h.ics", NATIONAL_DAY, content_type="text/calendar")
    response = anonymous_api.client.post(f"/api/v1/calendars/{calendar['id']}/ical", {"file": file})
    assert_error(response, 401, "unauthorized")


def test_ical_days_duration_timed_events_and_words() -> None:
    data = ics(
        event("a", "Make-up day", "20260920", extra="CATEGORIES:Holiday,Workday"),
        event("b", "Non-working day", "20261226"),
        event("c", "Golden week", "20261001", extra="DURATION:P3D"),
        "\r\n".join(
            [
                "BEGIN:VEVENT",
                "UID:d",
                "DTSTART;TZID=Asia/Shanghai:20261102T090000",
                "DTEND;TZID=Asia/Shanghai:20261103T100000",
                "SUMMARY:Offsite",
                "END:VEVENT",
            ]
        ),  # fmt: skip
    )
    offs, works = days_from_ical(data)
    assert [d.isoformat() for d in works] == ["2026-09-20"]
    assert [d.isoformat() for d in offs] == [
        "2026-10-01", "2026-10-02", "2026-10-03", "2026-11-02", "2026-11-03", "2026-12-26",
    ]  # fmt: skip


def test_ical_workday_inside_a_holiday_range_is_a_workday() -> None:
    offs, works = days_from_ical(ics(event("h", "Holiday", "20260215", "20260301"), event("w", "补班", "20260228")))
    assert date(2026, 2, 28) in works and date(2026, 2, 28) not in offs
    assert len(offs) == 13


def test_ical_garbage_raises_bad_icalendar() -> None:
    with pytest.raises(BadICalendar):
        days_from_ical(b"\xff\xfe\x00")
