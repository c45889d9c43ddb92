"""Working a case under real races: a logging form sent at once from several places opens one case
for one new customer; a stage named at once by several people ends with one label.

Threads call the actions, each on its own database connection (closed when the thread ends),
committing for real (transaction=True). Waits are bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from promisedesk.cases.actions import do_log_contact, do_set_stage_label
from promisedesk.cases.models import Case, Customer, StageLabel
from promisedesk.conftest import make_service

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

THREADS = 6
TIMEOUT = 60


def _at_once(work: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * THREADS
    barrier = threading.Barrier(THREADS)

    def run(slot: int) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            results[slot] = work(slot)
        except BaseException as exc:  # reported by the assertions, with the others
            results[slot] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads), "a worker did not finish"
    return results


def test_the_same_logging_form_sent_at_once_opens_one_case_for_one_customer(api, clock):
    make_service(api)
    agent = get_user_model().objects.get(username="agent")

    def log(slot: int) -> tuple[int, bool]:
        case, created = do_log_contact(
            actor=agent,
            now=clock.now,
            service_code="install",
            channel="walk_in",
            summary="Missing gold-card discount",
            new_customer={"name": "Zhang Min", "phone": "13700000042"},
            key="form-key-1",
        )
        return case.pk, created

    results = _at_once(log)
    assert all(isinstance(result, tuple) for result in results), results
    assert len({pk for pk, _created in results}) == 1
    assert sum(created for _pk, created in results) == 1
    assert Case.objects.count() == 1 and Customer.objects.filter(name="Zhang Min").count() == 1


def test_a_stage_named_at_once_ends_with_one_label(api, clock):
    def name(slot: int) -> int | None:
        label = do_set_stage_label(actor=None, now=clock.now, stage="delivery", label_en=f"On site {slot}")
        return label.pk if label else None

    results = _at_once(name)
    assert all(isinstance(result, int) for result in results), results
    assert StageLabel.objects.count() == 1
    assert StageLabel.objects.get().label_en.startswith("On site ")
