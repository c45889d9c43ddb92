"""A calendar change recomputes open clocks in bulk (raw SQL), on SQLite and PostgreSQL,
and must not fight the sweeper over the same clocks."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pytest
from django.db import connection

from promisedesk.breaches.models import Breach
from promisedesk.calendars.actions import do_add_days
from promisedesk.calendars.models import BusinessCalendar
from promisedesk.cases.models import CaseEvent
from promisedesk.commitments import recompute
from promisedesk.commitments.models import Commitment, State
from promisedesk.commitments.sweeper import sweep
from promisedesk.conftest import SHANGHAI, make_calendar, make_customer, make_promise, make_service, open_case

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

TIMEOUT = 60
MONDAY_DUE = datetime(2026, 3, 2, 14, 0, tzinfo=SHANGHAI)  # 09:00–12:00 + 13:00–14:00
TUESDAY_WARN = datetime(2026, 3, 3, 12, 0, tzinfo=SHANGHAI)  # 3 of 4 hours, once Monday is a holiday
TUESDAY_DUE = datetime(2026, 3, 3, 14, 0, tzinfo=SHANGHAI)


def _open_on_a_calendar(api: Any, cases: int) -> BusinessCalendar:
    calendar = make_calendar(api)
    make_service(api)
    make_promise(
        api,
        standard={
            "start_on": "case_opened",
            "stop_on": ["first_response"],
            "target": "PT4H",
            "calendar": calendar["id"],
            "warn_at": "75%",
        },
    )
    customer = make_customer(api)["id"]
    for n in range(cases):
        open_case(api, customer, external_ref=f"R-{n}")
    return BusinessCalendar.objects.get(pk=calendar["id"])


def test_calendar_change_recomputes_open_clocks_in_bulk(api, clock):
    calendar = _open_on_a_calendar(api, 4)
    met = Commitment.objects.order_by("id").first()
    clock.advance(hours=1)
    response = api.post(f"/cases/{met.case_id}/events", {"type": "first_response"})  # type: ignore[union-attr]
    assert response.status_code == 201, response.content
    assert set(Commitment.objects.exclude(pk=met.pk).values_list("due_at", flat=True)) == {MONDAY_DUE}  # type: ignore[union-attr]

    # when Monday turns out to be a holiday
    response = api.post(f"/calendars/{calendar.pk}/days", {"holidays": ["2026-03-02"], "reason": "office closed"})

    # then the three open clocks moved to Tuesday, the kept one did not
    assert response.status_code == 200, response.content
    assert response.json()["clocks_recomputed"] == 3
    for commitment in Commitment.objects.filter(state=State.RUNNING):
        assert (commitment.due_at, commitment.warn_at, commitment.next_check_at) == (
            TUESDAY_DUE,
            TUESDAY_WARN,
            TUESDAY_WARN,
        )
        assert commitment.consumed_us == 0
    assert Commitment.objects.get(pk=met.pk).state == State.MET  # type: ignore[union-attr]
    # and the timeline says why, as a JSON object the database can look into (not a string)
    entries = CaseEvent.objects.filter(type="clock_recomputed", system=True)
    assert entries.filter(data__reason="office closed").count() == 3
    for entry in entries:
        assert isinstance(entry.data, dict) and entry.at == clock.now
        [moved] = entry.data["clocks"]  # one clock on each case
        assert moved["commitment"] == Commitment.objects.get(case_id=entry.case_id).pk
        assert datetime.fromisoformat(moved["old_due_at"]) == MONDAY_DUE
        assert datetime.fromisoformat(moved["new_due_at"]) == TUESDAY_DUE
    # and the sweeper follows the new times
    assert sweep(datetime(2026, 3, 2, 18, 0, tzinfo=SHANGHAI)).breached == 0
    assert sweep(datetime(2026, 3, 3, 18, 0, tzinfo=SHANGHAI)).breached == 3
    assert set(Breach.objects.values_list("detected_at", flat=True)) == {TUESDAY_DUE}


def test_a_calendar_change_and_a_sweep_at_once_leave_every_clock_consistent(api, clock, monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer: a calendar change and a sweep cannot interleave there")
    calendar = _open_on_a_calendar(api, 5)
    # The calendar change stops after reading the clocks and before writing them back,
    # until a sweep of the old (overdue) clocks has run meanwhile.
    have_read, swept = threading.Event(), threading.Event()
    write = recompute._write

    def write_after_the_sweep(*args: Any) -> None:
        have_read.set()
        assert swept.wait(TIMEOUT), "the sweep did not run"
        write(*args)

    monkeypatch.setattr(recompute, "_write", write_after_the_sweep)
    failures: list[BaseException] = []

    def change() -> None:
        try:
            do_add_days(calendar, now=clock.now, holidays=["2026-03-02"], extra_workdays=[], reason="office closed")
        except BaseException as exc:
            failures.append(exc)
        finally:
            have_read.set()
            connection.close()

    changer = threading.Thread(target=change)
    changer.start()
    try:
        assert have_read.wait(TIMEOUT)
        sweep(datetime(2026, 3, 2, 18, 0, tzinfo=SHANGHAI))
    finally:
        swept.set()
        changer.join(TIMEOUT)
    assert not changer.is_alive() and not failures, failures

    # Either order is right — breached on Monday, or moved to Tuesday and not breached —
    # but each clock must be wholly one or the other.
    for commitment in Commitment.objects.all():
        breaches = list(Breach.objects.filter(commitment=commitment).values_list("detected_at", flat=True))
        if commitment.state == State.BREACHED:
            assert commitment.breached_at == commitment.due_at == MONDAY_DUE and breaches == [MONDAY_DUE]
            assert commitment.next_check_at is None
        else:
            assert commitment.state == State.RUNNING and breaches == []
            assert commitment.due_at == TUESDAY_DUE and commitment.next_check_at == TUESDAY_WARN
