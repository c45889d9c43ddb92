"""Bulk runs exactly once under real concurrency: racing workers, runs launched twice, a worker dying mid-batch.

Every test here commits for real (transaction=True). Workers are threads with their own
database connections, or `promisedesk incident-run` processes told the instant with
`--now`; nothing sleeps and nobody reads the wall clock.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection

from promisedesk.breaches.models import Compensation
from promisedesk.cases.models import CaseEvent
from promisedesk.commitments.tests.test_concurrency import (  # the same process helpers as the sweeper's tests
    _finish,
    _no_process_outlives_its_test,  # noqa: F401 (an autouse fixture)
    _promisedesk,
)
from promisedesk.notifications.models import OutboxMessage
from promisedesk.recovery.bulk import BulkResult, run_bulk
from promisedesk.recovery.models import BulkRun, IncidentCase, RunStatus

from .conftest import declare

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

TIMEOUT = 120
VOUCHER = {"mode": "grant", "kind": "voucher", "amount": "200", "currency": "CNY", "reason": "delay", "issue": True}


def _affected(api: Any, airline: Any, count: int) -> dict[str, Any]:
    airline.passengers(count)
    incident = declare(api)
    assert api.post(f"/incidents/{incident['id']}/attach/query", {}).json()["attached"] == count
    return incident


def _race(workers: int, work: Any) -> list[Any]:
    results: list[Any] = []
    failures: list[BaseException] = []
    start = threading.Barrier(workers, timeout=TIMEOUT)

    def run() -> None:
        try:
            start.wait()
            results.append(work())
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not failures, failures
    return results


def _told_once(incident: dict[str, Any], customers: int) -> None:
    messages = OutboxMessage.objects.filter(
        event_key__startswith=f"incident:{incident['id']}:case:", event="incident_notice"
    )
    per_message = Counter(messages.values_list("recipient", "channel"))
    assert len(per_message) == 2 * customers and set(per_message.values()) == {1}
    notices = Counter(CaseEvent.objects.filter(type="incident_notice").values_list("case_id", flat=True))
    assert len(notices) == customers and set(notices.values()) == {1}
    assert not IncidentCase.objects.filter(notified_at__isnull=True).exists()


def test_racing_workers_tell_each_customer_once(api: Any, airline: Any) -> None:
    # given 120 affected passengers and one notify run
    incident = _affected(api, airline, 120)
    api.post(f"/incidents/{incident['id']}/notify", {})

    # when four workers work the run at once, in small batches
    results: list[BulkResult] = _race(4, lambda: run_bulk(airline.clock.now, batch=25))

    # then every batch was done by exactly one of them, and everyone was told once per channel
    assert sum(r.cases for r in results) == 120 and sum(r.finished for r in results) == 1
    _told_once(incident, 120)
    run = BulkRun.objects.get()
    assert run.status == RunStatus.DONE and run.processed == run.total == 120 and run.changed == 120


def test_notify_launched_twice_at_once_tells_everyone_once(api: Any, airline: Any) -> None:
    incident = _affected(api, airline, 60)

    # when two people press "notify" at the same moment
    def launch() -> int:
        from promisedesk.conftest import Api

        return int(
            Api(api.client.__class__(), api.headers["HTTP_AUTHORIZATION"][7:])
            .post(f"/incidents/{incident['id']}/notify", {})
            .status_code
        )

    codes = _race(2, launch)

    # then one run is launched and the other refused; two workers then tell everyone once
    assert sorted(codes) == [202, 409]
    _race(2, lambda: run_bulk(airline.clock.now, batch=10))
    _told_once(incident, 60)
    # and a second run launched afterwards tells nobody again
    assert api.post(f"/incidents/{incident['id']}/notify", {}).status_code == 202
    run_bulk(airline.clock.now)
    _told_once(incident, 60)


def test_racing_workers_compensate_each_case_once(manager_api: Any, airline: Any) -> None:
    incident = _affected(manager_api, airline, 80)
    assert manager_api.post(f"/incidents/{incident['id']}/compensate", VOUCHER).status_code == 202
    _race(3, lambda: run_bulk(airline.clock.now, batch=15))
    grants = Compensation.objects.filter(grant_key__startswith=f"incident:{incident['id']}:")
    assert grants.count() == 80 and set(grants.values_list("status", flat=True)) == {"issued"}
    issued = Counter(OutboxMessage.objects.filter(event="compensation_issued").values_list("event_key", "channel"))
    assert len(issued) == 160 and set(issued.values()) == {1}


def test_a_worker_dying_mid_batch_resumes_without_duplicates(manager_api: Any, airline: Any) -> None:
    # given 50 affected passengers, a compensation run, and a first batch committed
    incident = _affected(manager_api, airline, 50)
    manager_api.post(f"/incidents/{incident['id']}/compensate", VOUCHER)
    now = airline.clock.now.isoformat()
    assert run_bulk(airline.clock.now, max_batches=1, batch=20).cases == 20

    # when a worker exits abruptly with one case of its batch compensated but not committed
    code, out, err = _finish(
        _promisedesk("incident-run", "--batch", "20", "--now", now, PROMISEDESK_CRASH_AT="incident_batch")
    )

    # then nothing of that batch is kept: the cursor still stands after the first batch
    assert code == 99, err
    run = BulkRun.objects.get()
    assert run.status == RunStatus.RUNNING and run.processed == 20
    assert Compensation.objects.count() == 20

    # and the next worker finishes the run, compensating everyone once
    code, out, err = _finish(_promisedesk("incident-run", "--now", now))
    assert code == 0, err
    assert out.strip() == "incident-run: 1 batches, 30 cases, 1 runs done, 0 failed"
    grants = Compensation.objects.filter(grant_key__startswith=f"incident:{incident['id']}:")
    assert grants.count() == 50 and set(grants.values_list("status", flat=True)) == {"issued"}
    issued = Counter(OutboxMessage.objects.filter(event="compensation_issued").values_list("event_key", "channel"))
    assert len(issued) == 100 and set(issued.values()) == {1}
    assert BulkRun.objects.get().processed == 50


def test_a_run_relaunched_after_a_crash_compensates_nobody_twice(manager_api: Any, airline: Any) -> None:
    # given a compensation run cancelled half-way (as an operator would after a crash)…
    incident = _affected(manager_api, airline, 30)
    first = manager_api.post(f"/incidents/{incident['id']}/compensate", VOUCHER).json()
    run_bulk(airline.clock.now, max_batches=1, batch=12)
    manager_api.post(f"/incidents/{incident['id']}/runs/{first['id']}/cancel")

    # …when the same compensation is launched again and run by two workers
    manager_api.post(f"/incidents/{incident['id']}/compensate", VOUCHER)
    _race(2, lambda: run_bulk(airline.clock.now, batch=7))

    # then the first 12 were skipped as done and the rest compensated, once each
    second = BulkRun.objects.order_by("id").last()
    assert second is not None and second.status == RunStatus.DONE
    assert second.changed == 18 and second.skip_reasons == {"already_compensated": 12}
    assert Compensation.objects.filter(grant_key__isnull=False).count() == 30
