"""Idempotent intake under a real race: the same external_ref posted at once makes one case.

Threads post through the HTTP API, each on its own database connection (closed when
the thread ends), committing for real (transaction=True). Waits are bounded.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from promisedesk.cases import actions
from promisedesk.cases.models import Case, CaseEvent
from promisedesk.commitments.models import Commitment
from promisedesk.conftest import Api, make_customer, make_promise, make_service

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

THREADS = 6
TIMEOUT = 60


def _post_at_once(api: Api, body: dict[str, Any], barrier: threading.Barrier) -> list[tuple[int, Any]]:
    """POST /cases with body from THREADS threads released together; (status, json) of each."""
    results: list[Any] = [None] * THREADS

    def post(slot: int) -> None:
        try:
            mine = Api(Client(), None)
            mine.headers = api.headers
            barrier.wait(timeout=TIMEOUT)
            response = mine.post("/cases", body)
            results[slot] = (response.status_code, response.json())
        except BaseException as exc:  # reported by the assertion below, with the others
            results[slot] = exc
        finally:
            connection.close()  # this thread's own connection; the test database is dropped later

    threads = [threading.Thread(target=post, args=(slot,)) for slot in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads), "a request did not finish"
    assert all(isinstance(result, tuple) for result in results), results
    return results


@pytest.fixture
def intake(api: Api) -> dict[str, Any]:
    """Two published promises apply to every install case; the body of one delivery."""
    make_service(api)
    make_promise(api, code="reply-4h")
    make_promise(
        api,
        code="fix-2d",
        title="Fixed within 2 days",
        standard={"start_on": "case_opened", "stop_on": ["resolved"], "target": "P2D"},
    )
    return {"customer": make_customer(api)["id"], "service": "install", "external_ref": "ORDER-7731"}


def _assert_one_case(results: list[tuple[int, Any]]) -> None:
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (THREADS - 1) + [201], results
    assert len({body["id"] for _, body in results}) == 1
    case = Case.objects.get(external_ref="ORDER-7731")
    assert Case.objects.count() == 1
    codes = Commitment.objects.filter(case=case).values_list("promise_code", flat=True)
    assert sorted(code or "" for code in codes) == ["fix-2d", "reply-4h"]
    assert Commitment.objects.count() == 2
    assert CaseEvent.objects.filter(type="case_opened").count() == 1
    assert all(len(body["commitments"]) == 2 for _, body in results)


def test_the_same_delivery_posted_at_once_opens_one_case(api, intake):
    _assert_one_case(_post_at_once(api, intake, threading.Barrier(THREADS)))


def test_deliveries_that_all_miss_each_other_still_open_one_case(api, intake, monkeypatch):
    # Hold every request after it has looked for the external_ref and found nothing, until
    # all have: each then tries to insert, and the unique constraint has to decide.
    after_lookup = threading.Barrier(THREADS)
    check = actions._check_appointment

    def held(*args: Any) -> None:
        after_lookup.wait(timeout=TIMEOUT)
        check(*args)

    monkeypatch.setattr(actions, "_check_appointment", held)
    _assert_one_case(_post_at_once(api, intake, threading.Barrier(THREADS)))
