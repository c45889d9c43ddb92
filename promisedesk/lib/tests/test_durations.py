from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promisedesk.lib.durations import MAX_DURATION, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("PT24H", timedelta(hours=24)),
        ("P3D", timedelta(days=3)),
        ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
        ("PT30M", timedelta(minutes=30)),
        ("PT90S", timedelta(seconds=90)),
        ("P2W", timedelta(weeks=2)),
        ("PT0S", timedelta(0)),
        ("P0D", timedelta(0)),
        ("pt4h", timedelta(hours=4)),
        (" PT4H ", timedelta(hours=4)),
        ("P3660D", MAX_DURATION),
    ],
)
def test_iso_durations_are_read(text: str, value: timedelta) -> None:
    assert parse_duration(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "24h",
        "-PT1H",
        "P1M",
        "P1Y",
        "P1Y2M",
        "PT",
        "P",
        "P1DT",
        "PT1.5H",
        "PT1H30",
        "",
        "PT٣H",  # digits of another script
        "P3661D",
        "PT99999999H",
        "P1D PT1H",
    ],
)
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_non_strings_are_refused() -> None:
    with pytest.raises(ValueError):
        parse_duration(3600)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(hours=24), "PT24H"),
        (timedelta(days=3), "PT72H"),
        (timedelta(hours=1, minutes=30), "PT1H30M"),
        (timedelta(seconds=61), "PT1M1S"),
        (timedelta(0), "PT0S"),
        (timedelta(microseconds=999_999), "PT0S"),
    ],
)
def test_durations_are_written_in_hours(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


def test_negative_durations_cannot_be_written() -> None:
    with pytest.raises(ValueError):
        format_duration(timedelta(microseconds=-1))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, int(MAX_DURATION.total_seconds())))
def test_format_then_parse_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value
