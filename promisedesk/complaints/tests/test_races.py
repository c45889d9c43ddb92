"""Racing requests: the same complaint opened twice at once, the same step taken twice at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from promisedesk.cases.models import Case
from promisedesk.complaints.actions import do_open_complaint, do_record_step
from promisedesk.complaints.models import Complaint, RecoveryStep
from promisedesk.errors import Conflict

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(target: Callable[[], Any], workers: int = 6) -> list[Any]:
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = target()
        except Exception as exc:  # asserted on by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


def test_the_same_complaint_sent_at_once_is_opened_once(hotel, clock):
    results = race(
        lambda: do_open_complaint(
            actor=None, now=clock.now, account="Cold room.", about_case_id=hotel["stay"]["id"], external_ref="CALL-9"
        )
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for _complaint, created in results if created) == 1
    assert len({complaint.pk for complaint, _created in results}) == 1
    assert Complaint.objects.count() == 1 and Case.objects.filter(kind="complaint").count() == 1


def test_the_same_step_sent_at_once_is_recorded_once(hotel, clock):
    complaint, _ = do_open_complaint(actor=None, now=clock.now, account="Cold room.", about_case_id=hotel["stay"]["id"])
    results = race(lambda: do_record_step(complaint, actor=None, now=clock.now, step="listen", action="done"))
    recorded = [r for r in results if isinstance(r, RecoveryStep)]
    assert len(recorded) == 1
    assert all(isinstance(r, Conflict) and r.code == "step_recorded" for r in results if r not in recorded)
    assert RecoveryStep.objects.count() == 1
    assert complaint.case.events.filter(type="complaint_acknowledged").count() == 1
