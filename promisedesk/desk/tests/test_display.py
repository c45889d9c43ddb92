"""How the desk words liabilities, durations and countdowns."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import translation

from promisedesk.conftest import SHANGHAI
from promisedesk.desk import display

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "liability, expected",
    [
        (None, "none"),
        ({"kind": "apology", "automatic": True}, "apology · paid automatically"),
        ({"kind": "refund", "percent_of_price": "100"}, "refund · 100% of the price · on claim"),
        (
            {"kind": "cash", "multiple_of_price": "2", "cap": "500", "currency": "CNY", "verification_required": True},
            "cash · 2× the price · at most 500 CNY · once verified · on claim",
        ),
        (
            {"kind": "voucher", "amount": "20.00", "currency": "CNY", "automatic": True},
            "voucher · 20.00 CNY · paid automatically",
        ),
    ],
)
def test_liability_text(liability: dict[str, Any] | None, expected: str) -> None:
    with translation.override("en"):
        assert display.liability_text(liability) == expected


def test_liability_text_in_chinese() -> None:
    liability = {"kind": "cash", "multiple_of_price": "2", "verification_required": True}
    with translation.override("zh-hans"):
        assert display.liability_text(liability) == "现金 · 价格的 2 倍 · 一经查实 · 凭申请赔付"


@pytest.mark.parametrize(
    "target, expected",
    [("PT4H", "4 h"), ("PT30M", "30 min"), ("PT1H30M", "1 h 30 min"), ("P2D", "48 h"), (None, ""), ("junk", "junk")],
)
def test_target_text(target: str | None, expected: str) -> None:
    with translation.override("en"):
        assert display.target_text({"target": target}) == expected


@pytest.mark.parametrize(
    "due, expected",
    [
        (NOON + timedelta(hours=5, minutes=3, seconds=9), "5:03:09"),
        (NOON + timedelta(hours=52), "52:00:00"),
        (NOON, "0:00:00"),
        (NOON - timedelta(minutes=12, seconds=3), "−0:12:03"),
        (None, ""),
    ],
)
def test_countdown_text(due: datetime | None, expected: str) -> None:
    assert display.countdown_text(due, NOON) == expected


def test_unknown_event_types_are_shown_as_typed() -> None:
    with translation.override("zh-hans"):
        assert display.event_label("first_response") == "首次响应"
        assert display.event_label("site_survey_done") == "site_survey_done"


def test_event_data_times_show_in_the_current_zone() -> None:
    assert display.data_value("start", "2026-03-03T01:00:00+00:00") == "2026-03-03 09:00"
    assert display.data_value("note", "2026-03-03 is a date") == "2026-03-03 is a date"
    with translation.override("zh-hans"):
        assert display.data_value("channel", "walk_in") == "到店"
