"""Escalations exactly once under real concurrency: racing workers, and one dying mid-batch.

Every test here commits for real (transaction=True). Workers are threads with their
own database connections, or `promisedesk escalate` processes told the instant with
`--now`; nothing sleeps and nobody reads the wall clock.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from django.db import connection, transaction

from promisedesk.accounts.models import Department
from promisedesk.cases.actions import do_open_case
from promisedesk.cases.models import Case, CaseEvent
from promisedesk.commitments.sweeper import sweep
from promisedesk.commitments.tests.test_concurrency import (  # the same process helpers as the sweeper's tests
    _finish,
    _no_process_outlives_its_test,  # noqa: F401 (an autouse fixture)
    _promisedesk,
)
from promisedesk.conftest import SHANGHAI, make_customer, make_promise, make_service
from promisedesk.escalations.engine import EscalationResult, escalate_due
from promisedesk.escalations.models import Escalation, Status
from promisedesk.notifications.models import OutboxMessage

from .conftest import user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

NINE = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
TWELVE, ONE_PM = (
    datetime(2026, 3, 2, h, 0, tzinfo=SHANGHAI) for h in (12, 13)
)  # round the clock: warned at 12:00, 90 % 12:36, due 13:00
TIMEOUT = 120


@contextmanager
def _uncommitted_alert(commitment: Any, *, at: datetime) -> Iterator[None]:
    """A sweeper in another thread holding an alert on `commitment` written but not committed;
    it commits when the block ends, and whatever it raised fails the test."""
    from promisedesk.commitments.models import CommitmentAlert

    inserted, release, failures = threading.Event(), threading.Event(), []

    def writer() -> None:
        try:
            with transaction.atomic():
                CommitmentAlert.objects.create(commitment=commitment, at=at, recorded_at=ONE_PM)
                inserted.set()
                assert release.wait(TIMEOUT)
        except BaseException as exc:
            failures.append(exc)
        finally:
            inserted.set()
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inserted.wait(TIMEOUT)
        yield
    finally:
        release.set()
        thread.join(TIMEOUT)
    assert not failures


def _open_cases(api: Any, count: int) -> None:
    """count cases at 09:00 under a four-hour round-the-clock promise, in `support`, assigned to the agent."""
    make_service(api)
    standard = {"start_on": "case_opened", "stop_on": ["first_response"], "target": "PT4H", "warn_at": "75%"}
    make_promise(api, standard=standard)
    customer = make_customer(api)["id"]
    agent = user("owner_olga")
    department = Department.objects.create(code="support", name="Support", lead=user("lead"), manager=user("boss"))
    with transaction.atomic():
        for n in range(count):
            do_open_case(actor=None, now=NINE, customer_id=customer, service_code="install", external_ref=f"c-{n}")
    Case.objects.update(assignee=agent, department=department)
    sweep(ONE_PM)  # the warnings and the breaches, each once: what the escalations start from


def _assert_told_exactly_once(cases: int) -> None:
    rows = Escalation.objects.all()
    assert rows.count() == 3 * cases
    assert set(rows.values_list("status", flat=True)) == {Status.FIRED}
    per_level = Counter(rows.values_list("commitment_id", "role", "run_started_at"))
    assert set(per_level.values()) == {1}
    mail = Counter(
        OutboxMessage.objects.filter(event_key__startswith="escalation:").values_list("event_key", flat=True)
    )
    assert len(mail) == 3 * cases and set(mail.values()) == {1}
    timeline = Counter(CaseEvent.objects.filter(type="escalated").values_list("data__escalation", flat=True))
    assert len(timeline) == 3 * cases and set(timeline.values()) == {1}


def test_racing_workers_tell_each_level_exactly_once(api: Any) -> None:
    # given 150 clocks, each warned and breached: 450 escalations to schedule and fire
    _open_cases(api, 150)
    results: list[EscalationResult] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4, timeout=TIMEOUT)

    def work() -> None:
        try:
            start.wait()
            results.append(escalate_due(ONE_PM, batch=25))
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    # when four workers escalate at once, in small batches
    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(TIMEOUT)

    # then every level was scheduled and told once, whichever worker did it
    assert not failures and len(results) == 4
    assert sum(r.scheduled for r in results) == 450
    assert sum(r.fired for r in results) == 450
    _assert_told_exactly_once(150)
    assert not escalate_due(ONE_PM)


def test_a_worker_dying_inside_its_batch_tells_nobody_twice(api: Any) -> None:
    _open_cases(api, 40)

    # when a worker exits abruptly with a batch settled but not committed
    code, out, err = _finish(
        _promisedesk("escalate", "--once", "--now", ONE_PM.isoformat(), PROMISEDESK_CRASH_AT="escalation_claimed")
    )

    # then nothing of that batch is told; the chains it scheduled first stand
    assert code == 99, err
    assert Escalation.objects.count() == 120
    assert not Escalation.objects.exclude(status=Status.PENDING).exists()
    assert not OutboxMessage.objects.filter(event_key__startswith="escalation:").exists()
    # and the next pass tells everyone, once
    code, out, err = _finish(_promisedesk("escalate", "--once", "--now", ONE_PM.isoformat()))
    assert code == 0, err
    assert out.strip() == "escalate: 0 scheduled, 120 fired, 0 skipped, 0 void, 0 rescheduled"
    _assert_told_exactly_once(40)


def test_an_alert_committed_late_with_a_lower_id_is_not_skipped(api: Any, monkeypatch: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("ids from a PostgreSQL sequence can commit out of order; SQLite commits one writer at a time")
    from promisedesk.commitments.models import Commitment, CommitmentAlert
    from promisedesk.escalations import pickup

    _open_cases(api, 2)
    CommitmentAlert.objects.all().delete()
    Escalation.objects.all().delete()
    first, second = Commitment.objects.order_by("id")
    monkeypatch.setattr(pickup, "LOCK_TIMEOUT", "200ms")

    # given an alert inserted but not committed, and a later one (a higher id) committed meanwhile
    with _uncommitted_alert(first, at=TWELVE):
        CommitmentAlert.objects.create(commitment=second, at=TWELVE, recorded_at=ONE_PM)

        # when a worker escalates: it waits for the open insert, and gives up reading for this pass
        escalate_due(ONE_PM)
        assert not Escalation.objects.exists()
    # then once the slow one commits, the next pass schedules both chains
    assert escalate_due(ONE_PM).scheduled == 6
    assert set(Escalation.objects.values_list("commitment_id", flat=True)) == {first.pk, second.pk}


def test_a_pass_with_nothing_new_locks_no_table_and_waits_for_no_writer(
    api: Any, monkeypatch: Any, caplog: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL takes the table lock")
    from promisedesk.commitments.models import Commitment
    from promisedesk.escalations import pickup

    _open_cases(api, 1)
    escalate_due(ONE_PM)  # every alert and breach so far is read
    [commitment] = Commitment.objects.all()
    monkeypatch.setattr(pickup, "LOCK_TIMEOUT", "200ms")

    # given a sweeper in the middle of writing an alert (not committed yet), and nothing new committed
    with _uncommitted_alert(commitment, at=ONE_PM):
        # when a worker escalates: it finds nothing past its cursors, so it locks no table
        # (a lock would have to wait for the writer, and the writer for it)
        with caplog.at_level("WARNING", logger="promisedesk.escalations"):
            assert not escalate_due(ONE_PM)
        assert "postponed" not in caplog.text


def test_a_pass_with_nothing_new_takes_no_lock(api: Any, monkeypatch: Any) -> None:
    from promisedesk.escalations import pickup

    _open_cases(api, 1)
    locked: list[str] = []
    lock = pickup._lock_stream

    def recording(stream: Any) -> None:
        locked.append(stream.name)
        lock(stream)

    monkeypatch.setattr(pickup, "_lock_stream", recording)
    escalate_due(ONE_PM)
    assert sorted(set(locked)) == ["at_risk_alerts", "clock_breaches"]  # the warning and the breach were new …
    locked.clear()

    assert not escalate_due(ONE_PM)
    assert locked == []  # … and the next pass, with nothing new, locks nothing


def test_rescheduling_a_calendar_never_moves_an_escalation_being_fired(office: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    from promisedesk.escalations.pickup import reschedule_calendar

    from .conftest import at

    # given a warned promise whose team lead's level is pending, at an instant that is out of date
    office.promise()
    office.case(at(6, 15))
    office.run(at(6, 18, 30))
    row = Escalation.objects.get(role="team_lead", status=Status.PENDING)
    Escalation.objects.filter(pk=row.pk).update(fire_at=at(6, 19))
    fired_at, locked, done, failures = at(9, 9), threading.Event(), threading.Event(), []

    def firing_worker() -> None:
        try:
            with transaction.atomic():
                mine = Escalation.objects.select_for_update().get(pk=row.pk)
                Escalation.objects.filter(pk=mine.pk).update(status=Status.FIRED, fired_at=fired_at)
                locked.set()
                done.wait(10)  # the rescheduler skips this row at once; were it to wait for it, it would wait forever
        except BaseException as exc:
            failures.append(exc)
        finally:
            locked.set()
            connection.close()

    # when a worker is firing that level while the calendar's escalations are rescheduled
    thread = threading.Thread(target=firing_worker)
    thread.start()
    try:
        assert locked.wait(TIMEOUT)
        with transaction.atomic():
            reschedule_calendar(office.calendar["id"], at(6, 18, 45))
        done.set()
    finally:
        done.set()
        thread.join(TIMEOUT)

    # then the fired level keeps the instant it fired at
    assert not failures
    assert Escalation.objects.filter(pk=row.pk).values_list("status", "fire_at").get() == (Status.FIRED, at(6, 19))
