"""Staff are told inside business hours only, end to end: the worker runs, the outbox holds the message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from promisedesk.conftest import make_calendar
from promisedesk.escalations.models import Escalation
from promisedesk.notifications.delivery import deliver_due
from promisedesk.notifications.models import OutboxMessage

from .conftest import Office, at

pytestmark = pytest.mark.django_db


def _released(case_id: int) -> dict[str, datetime | None]:
    """When each level's email is released (next_attempt_at), by role."""
    out: dict[str, datetime | None] = {}
    for escalation in Escalation.objects.filter(case_id=case_id):
        message = OutboxMessage.objects.filter(event_key=f"escalation:{escalation.pk}").first()
        out[escalation.role] = message.next_attempt_at if message else None
    return out


@pytest.mark.parametrize(
    ("runs", "released"),
    [
        # the worker runs at each instant: warning 17:00, 90 % 17:36, due at Friday's close 18:00
        ([at(6, 17), at(6, 17, 36), at(6, 18)], {"owner": at(6, 17), "team_lead": at(6, 17, 36), "manager": at(9, 9)}),
        # a worker that was down all evening: everything waits for Monday morning
        ([at(6, 20)], {"owner": at(9, 9), "team_lead": at(9, 9), "manager": at(9, 9)}),
        # … or all weekend, until Monday 08:00
        ([at(9, 8)], {"owner": at(9, 9), "team_lead": at(9, 9), "manager": at(9, 9)}),
    ],
)
def test_friday_evening_threshold_is_told_monday_morning(
    office: Office, runs: list[datetime], released: dict[str, datetime]
) -> None:
    office.promise()
    case = office.case(at(6, 14))  # Friday 14:00, four working hours

    for now in runs:
        office.run(now)

    assert _released(case.pk) == released


def test_lunch_break_holds_the_message_until_13_00(office: Office) -> None:
    office.promise()
    case = office.case(at(2, 9))  # the warning falls at 12:00, as lunch begins

    office.run(at(2, 12))
    office.run(at(2, 12, 45))  # a look during lunch changes nothing

    assert _released(case.pk)["owner"] == at(2, 13)


def test_chinese_make_up_workday_is_a_working_day_for_staff_too(office: Office) -> None:
    # given the statutory calendar: Saturday 14 February 2026 is worked, 15–23 February are off
    office.clock.to(at(1, 9, month=2))
    calendar = make_calendar(office.api, name="CN office", region="CN")
    office.promise(calendar=calendar["id"])
    friday = office.case(at(13, 14, month=2))  # due at Friday's close, 18:00
    saturday = office.case(at(14, 16, month=2))  # warned at 10:00 on 24 February, after the festival

    office.run(at(13, 18, month=2))
    office.run(at(24, 10, month=2))

    assert _released(friday.pk)["manager"] == at(14, 9, month=2)
    assert Escalation.objects.get(case=saturday, role="owner").fire_at == at(24, 10, month=2)
    assert _released(saturday.pk)["owner"] == at(24, 10, month=2)


def test_round_the_clock_promise_is_told_at_once(office: Office) -> None:
    office.promise(calendar=None)
    case = office.case(at(7, 20))  # Saturday evening, four hours round the clock: warned at 23:00

    office.run(at(7, 23))

    assert _released(case.pk)["owner"] == at(7, 23)


@pytest.mark.parametrize(
    ("saturday", "outcome"),
    [
        # kept on Saturday: Monday's email would tell of a risk long gone
        ("first_response", ("failed", "superseded: the promise was kept before it was sent")),
        # nothing happened over the weekend: the people are told on Monday morning
        (None, ("sent", "")),
    ],
)
def test_email_held_for_monday_is_not_sent_when_the_promise_was_kept_on_saturday(
    office: Office, mailoutbox: list[Any], saturday: str | None, outcome: tuple[str, str]
) -> None:
    # given a promise warned on Friday evening (15:00 + 3 of its 4 working hours = 18:00),
    # whose owner's email is held until Monday 09:00
    office.promise()
    case = office.case(at(6, 15))
    office.run(at(6, 18, 30))
    [held] = OutboxMessage.objects.filter(event_key__startswith="escalation:")
    assert held.next_attempt_at == at(9, 9) and held.status == "pending"

    # when the promise is kept on Saturday (or not), and Monday morning's delivery runs
    if saturday:
        office.event(case, saturday, at(7, 10))
    office.clock.to(at(9, 9))
    deliver_due(at(9, 9))

    # then the owner is told only of a promise still open
    held.refresh_from_db()
    assert (held.status, held.last_error) == outcome
    assert [m.to for m in mailoutbox if held.recipient in m.to] == ([] if saturday else [[held.recipient]])
