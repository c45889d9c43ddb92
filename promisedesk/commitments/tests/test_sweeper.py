"""The sweeper in-process: what one sweep records, and when, for each kind of clock.

Time is always an argument: the API runs under the frozen `clock`, and `sweep(now)`
is handed the instant explicitly.
"""

from __future__ import annotations

from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from promisedesk.breaches.models import Breach
from promisedesk.cases.models import CaseEvent
from promisedesk.commitments.models import Commitment, CommitmentAlert, State
from promisedesk.commitments.sweeper import UNBREACHED, UNWARNED, claimed, due_candidates, sweep
from promisedesk.conftest import SHANGHAI, make_customer, make_promise, make_service, open_case

pytestmark = pytest.mark.postgres  # the sweeper is concurrency-critical: run it on PostgreSQL too

# A promise with no calendar runs round the clock: opened Monday 09:00 (01:00Z) with
# four hours to go, it warns at 75 % (12:00, 04:00Z) and falls due at 13:00 (05:00Z).
OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
WARN_AT = datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)
DUE_AT = datetime(2026, 3, 2, 13, 0, tzinfo=SHANGHAI)


def _customer(api, **standard):
    make_service(api)
    make_promise(
        api,
        standard={"start_on": "case_opened", "stop_on": ["first_response"], "target": "PT4H", "warn_at": "75%"}
        | standard,
    )
    return make_customer(api)


def _event(api, case_id, type):
    response = api.post(f"/cases/{case_id}/events", {"type": type})
    assert response.status_code == 201, response.content


def _timeline(case_id, type):
    return list(CaseEvent.objects.filter(case_id=case_id, type=type).values_list("at", flat=True))


def test_breach_is_recorded_at_the_due_time_not_the_sweep_time(api, clock):
    case = open_case(api, _customer(api)["id"])
    # when: nobody sweeps until late in the afternoon
    swept_at = clock.to(datetime(2026, 3, 2, 17, 45, tzinfo=SHANGHAI))
    result = sweep(swept_at)
    # then
    assert result.breached == 1
    commitment = Commitment.objects.get(case_id=case["id"])
    assert commitment.state == State.BREACHED
    assert commitment.breached_at == DUE_AT and commitment.next_check_at is None
    breach = Breach.objects.get()
    assert breach.detected_at == DUE_AT and breach.recorded_at == swept_at
    assert breach.commitment_id == commitment.pk and breach.source == "clock" and breach.status == "verified"
    assert _timeline(case["id"], "promise_breached") == [DUE_AT]
    shown = api.get(f"/cases/{case['id']}").json()["commitments"][0]
    assert shown["state"] == "breached" and shown["breached_at"].startswith("2026-03-02T05:00:00")


def test_warning_is_recorded_once_when_the_threshold_passes(api, clock):
    case = open_case(api, _customer(api)["id"])
    assert sweep(clock.to(datetime(2026, 3, 2, 11, 59, tzinfo=SHANGHAI))).warned == 0
    # when
    first = sweep(clock.to(datetime(2026, 3, 2, 12, 20, tzinfo=SHANGHAI)))
    second = sweep(clock.advance(minutes=20))
    # then
    assert (first.warned, first.breached, second.warned, second.breached) == (1, 0, 0, 0)
    alert = CommitmentAlert.objects.get()
    assert alert.kind == "at_risk" and alert.at == WARN_AT
    commitment = Commitment.objects.get(case_id=case["id"])
    assert commitment.state == State.RUNNING and commitment.warned_at == WARN_AT
    assert commitment.next_check_at == DUE_AT
    assert _timeline(case["id"], "promise_at_risk") == [WARN_AT]


def test_a_second_sweep_records_nothing(api, clock):
    case = open_case(api, _customer(api)["id"])
    now = clock.to(datetime(2026, 3, 2, 18, 0, tzinfo=SHANGHAI))
    sweep(now)
    # when
    again = sweep(clock.advance(days=3))
    # then
    assert (again.breached, again.warned, again.started) == (0, 0, 0)
    assert Breach.objects.count() == 1 and CommitmentAlert.objects.count() == 1
    assert len(_timeline(case["id"], "promise_breached")) == 1


def test_a_late_sweep_records_the_warning_and_the_breach_at_their_own_times(api, clock):
    # The same record as a late event would leave (see clock.advance): warned, then breached.
    case = open_case(api, _customer(api)["id"])
    result = sweep(clock.to(datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI)))
    assert (result.warned, result.breached) == (1, 1)
    events = CaseEvent.objects.filter(case_id=case["id"], system=True).order_by("at", "id")
    assert [(e.type, e.at) for e in events] == [("promise_at_risk", WARN_AT), ("promise_breached", DUE_AT)]


def test_nothing_is_recorded_before_anything_is_due(api, clock):
    open_case(api, _customer(api)["id"])
    result = sweep(clock.to(datetime(2026, 3, 2, 11, 0, tzinfo=SHANGHAI)))
    assert (result.breached, result.warned, result.started) == (0, 0, 0)
    assert not Breach.objects.exists() and not CommitmentAlert.objects.exists()


def test_a_paused_clock_is_not_breached(api, clock):
    case = open_case(api, _customer(api, pause_on=["customer_waiting"], resume_on=["customer_replied"])["id"])
    clock.advance(hours=1)
    _event(api, case["id"], "customer_waiting")
    # when: the customer keeps us waiting for days
    result = sweep(clock.advance(days=5))
    # then
    assert (result.breached, result.warned) == (0, 0)
    assert Commitment.objects.get(case_id=case["id"]).state == State.PAUSED
    assert not Breach.objects.exists()


def test_a_clock_met_in_time_is_never_breached(api, clock):
    case = open_case(api, _customer(api)["id"])
    clock.advance(hours=1)
    _event(api, case["id"], "first_response")
    assert sweep(clock.advance(days=1)).breached == 0
    assert Commitment.objects.get(case_id=case["id"]).state == State.MET


def test_a_scheduled_appointment_clock_starts_at_the_appointment(api, clock):
    make_service(api)
    make_promise(api, code="arrive", standard={"start_on": "appointment_start", "stop_on": "arrived", "target": "PT2H"})
    window = {"start": "2026-03-03T14:00:00+08:00", "end": "2026-03-03T16:00:00+08:00"}
    case = open_case(api, make_customer(api)["id"], appointment=window)
    assert sweep(clock.to(datetime(2026, 3, 3, 13, 59, tzinfo=SHANGHAI))).started == 0
    # when
    result = sweep(clock.to(datetime(2026, 3, 3, 14, 5, tzinfo=SHANGHAI)))
    # then
    assert (result.started, result.breached) == (1, 0)
    commitment = Commitment.objects.get(case_id=case["id"])
    start = datetime(2026, 3, 3, 14, 0, tzinfo=SHANGHAI)
    assert commitment.state == State.RUNNING and commitment.started_at == start
    assert commitment.due_at == datetime(2026, 3, 3, 16, 0, tzinfo=SHANGHAI)
    assert commitment.next_check_at == commitment.due_at
    # and the clock it started breaches at its own due time later
    assert sweep(clock.to(datetime(2026, 3, 3, 19, 0, tzinfo=SHANGHAI))).breached == 1
    assert Breach.objects.get().detected_at == commitment.due_at


def test_a_missed_appointment_clock_starts_and_breaches_in_one_sweep(api, clock):
    make_service(api)
    make_promise(api, code="arrive", standard={"start_on": "appointment_start", "stop_on": "arrived", "target": "PT2H"})
    window = {"start": "2026-03-03T14:00:00+08:00", "end": "2026-03-03T16:00:00+08:00"}
    case = open_case(api, make_customer(api)["id"], appointment=window)
    result = sweep(clock.to(datetime(2026, 3, 4, 9, 0, tzinfo=SHANGHAI)))
    assert result.started == 1
    assert Breach.objects.get().detected_at == datetime(2026, 3, 3, 16, 0, tzinfo=SHANGHAI)
    assert len(_timeline(case["id"], "promise_breached")) == 1


def test_sweep_goes_on_past_one_batch(api, clock):
    customer = _customer(api)
    for n in range(5):
        open_case(api, customer["id"], external_ref=f"B-{n}")
    result = sweep(clock.to(datetime(2026, 3, 2, 18, 0, tzinfo=SHANGHAI)), batch=2)
    assert (result.breached, result.warned) == (5, 5)
    assert Breach.objects.count() == 5
    assert set(Commitment.objects.values_list("state", flat=True)) == {State.BREACHED}


def test_sweep_touches_only_rows_that_are_due(api, clock):
    customer = _customer(api)
    due = [open_case(api, customer["id"], external_ref=f"D-{n}")["id"] for n in range(3)]
    clock.to(datetime(2026, 3, 2, 17, 0, tzinfo=SHANGHAI))
    later = [open_case(api, customer["id"], external_ref=f"L-{n}")["id"] for n in range(20)]
    untouched = {c.pk: (c.state, c.next_check_at) for c in Commitment.objects.filter(case_id__in=later)}
    # when
    with CaptureQueriesContext(connection) as queries:
        result = sweep(clock.now)
    # then: every read of the clock table goes through next_check_at, and only due rows move
    assert result.breached == 3 and result.warned == 3
    table = Commitment._meta.db_table
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT") and table in q["sql"]]
    assert reads and all("next_check_at" in sql.split("WHERE", 1)[1] for sql in reads)
    assert set(Breach.objects.values_list("case_id", flat=True)) == set(due)
    after = {c.pk: (c.state, c.next_check_at) for c in Commitment.objects.filter(case_id__in=later)}
    assert after == untouched


def test_candidates_are_read_through_the_partial_index(db):
    now = datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)
    if connection.vendor == "postgresql":
        # An empty table is read faster without an index; forbid that to see whether the
        # index can serve the query at all (its predicate must be implied by the WHERE).
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
        try:
            plan = due_candidates(now).explain()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET enable_seqscan")
    else:
        plan = due_candidates(now).explain()
    assert "commitment_due_sweep" in plan, plan


@pytest.mark.parametrize("still", [UNWARNED, UNBREACHED], ids=["warnings", "breaches"])
def test_claimed_clocks_are_moved_by_primary_key(db, still):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's planner has statistics; SQLite's needs the WHERE to leave it no choice")
    sql, params = claimed([1, 2, 3], still).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "PRIMARY KEY" in plan and "commitment_state_due" not in plan, plan


def test_sweep_once_command_prints_a_one_line_summary(api, clock):
    open_case(api, _customer(api)["id"])
    out = StringIO()
    call_command("sweep", "--once", "--now", "2026-03-02T18:00:00+08:00", stdout=out)
    assert out.getvalue() == "sweep: 1 breached, 1 warned, 0 started, 1 settled\n"
    assert Breach.objects.get().detected_at == DUE_AT


def test_sweep_command_without_now_uses_the_current_time(api, clock):
    open_case(api, _customer(api)["id"])
    clock.to(datetime(2026, 3, 2, 12, 30, tzinfo=SHANGHAI))
    out = StringIO()
    call_command("sweep", "--once", stdout=out)
    assert out.getvalue() == "sweep: 0 breached, 1 warned, 0 started, 0 settled\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--once"),
        (["--once", "--now", "2026-03-02T18:00:00"], "offset"),
        (["--once", "--now", "yesterday"], "ISO 8601"),
    ],
)
def test_sweep_command_refuses_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("sweep", *args, stdout=StringIO())


def test_a_clock_due_for_a_sweep_with_nothing_to_do_is_pointed_at_its_next_instant(api, clock):
    customer = _customer(api)
    overdue = open_case(api, customer["id"], external_ref="O-1")  # warns 12:00, due 13:00
    clock.to(datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI))
    stale = [open_case(api, customer["id"], external_ref=f"S-{n}")["id"] for n in range(3)]  # warn 15:00
    # given clocks whose next_check_at went stale (no code path should leave them so),
    # more of them than a batch holds, ahead of the clock that really is overdue
    Commitment.objects.filter(case_id__in=stale).update(next_check_at=OPENED)
    # when
    result = sweep(clock.to(datetime(2026, 3, 2, 13, 30, tzinfo=SHANGHAI)), batch=2)
    # then they did not block the overdue one, and wait for their own warning again
    assert (result.breached, result.warned) == (1, 1)
    assert Breach.objects.get().case_id == overdue["id"]
    stale_checks = Commitment.objects.filter(case_id__in=stale).values_list("next_check_at", flat=True)
    assert set(stale_checks) == {datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI)}
