"""The worker loop in-process: it sweeps at the instant it is given and stops when told.

The loop closes stale connections after each sweep, which must not happen inside a
test's transaction, so these tests commit for real (transaction=True).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from decimal import Decimal

import pytest

from promisedesk.breaches.models import Breach, Compensation
from promisedesk.commitments import worker
from promisedesk.commitments.models import Commitment, State
from promisedesk.conftest import SHANGHAI, make_customer, make_promise, make_service, open_case

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

EVENING = datetime(2026, 3, 2, 18, 0, tzinfo=SHANGHAI)


def _one_round(at: datetime) -> None:
    """Run the worker loop for exactly one round at instant `at`."""
    stop = threading.Event()

    def now() -> datetime:
        stop.set()
        return at

    worker.run_worker(stop, 3600, now)


@pytest.fixture
def overdue_case(api):
    make_service(api)
    make_promise(api, standard={"start_on": "case_opened", "stop_on": ["first_response"], "target": "PT4H"})
    return open_case(api, make_customer(api)["id"])  # due Monday 13:00


def test_worker_sweeps_then_stops_when_the_event_is_set(overdue_case):
    stop = threading.Event()
    asked = []

    def now() -> datetime:
        asked.append(EVENING)
        stop.set()  # told to stop while sweeping: this sweep is the last
        return EVENING

    # A long interval: were the stop not honoured at once, the test would hang, not pass.
    worker.run_worker(stop, 3600, now)

    assert asked and set(asked) == {EVENING}  # sweep, settlement, escalation and delivery all ask the clock
    assert Commitment.objects.get(case_id=overdue_case["id"]).state == State.BREACHED
    assert Breach.objects.get().recorded_at == EVENING


def test_worker_makes_good_on_a_breach_once(overdue_case):
    # The promise pays a 20 CNY voucher, automatically: the worker settles the breach it found.
    _one_round(EVENING)
    _one_round(EVENING)  # a second round finds nothing left to do
    breach = Breach.objects.get()
    assert breach.settled_at == EVENING
    compensation = Compensation.objects.get()
    assert (compensation.breach_id, compensation.amount, compensation.status) == (breach.pk, Decimal("20"), "approved")


def test_worker_logs_a_failed_sweep_and_sweeps_again(overdue_case, monkeypatch, caplog):
    stop = threading.Event()
    sweeps = []
    real_sweep = worker.sweep

    def flaky_sweep(now: datetime):
        sweeps.append(now)
        if len(sweeps) == 1:
            raise RuntimeError("connection lost")
        stop.set()
        return real_sweep(now)

    monkeypatch.setattr(worker, "sweep", flaky_sweep)
    with caplog.at_level(logging.INFO, logger="promisedesk.worker"):
        worker.run_worker(stop, 0, lambda: EVENING)

    assert len(sweeps) == 2
    assert "sweep failed" in caplog.text and "sweep: 1 breached, 0 warned, 0 started, 1 settled" in caplog.text
    assert Breach.objects.count() == 1


def test_worker_does_not_sweep_once_stopped(overdue_case):
    stop = threading.Event()
    stop.set()
    worker.run_worker(stop, 0, lambda: pytest.fail("a stopped worker asked the time"))
    assert not Breach.objects.exists()
