"""A form sent several times at once (a double tap on a bad connection) is recorded once.

Threads post through the customer's page, each on its own database connection (closed
when the thread ends), committing for real (transaction=True). Waits are bounded.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from promisedesk.breaches.models import Breach
from promisedesk.cases.models import Case, CaseEvent
from promisedesk.commitments.models import Commitment
from promisedesk.notifications.models import OutboxMessage
from promisedesk.portal.models import CustomerSubmission

from .conftest import Portal

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

THREADS = 5
TIMEOUT = 60


def post_at_once(path: str, form: dict[str, Any]) -> list[Any]:
    """POST form to path from THREADS threads released together; the status of each."""
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def post(slot: int) -> None:
        try:
            client = Client()
            barrier.wait(timeout=TIMEOUT)
            results[slot] = client.post(path, form).status_code
        except BaseException as exc:  # reported by the assertion below, with the others
            results[slot] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(slot,)) for slot in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads), "a request did not finish"
    return results


def test_the_same_reply_sent_at_once_is_one_entry(portal: Portal) -> None:
    case = portal.case()
    statuses = post_at_once(f"/c/{case.access_token}/reply/", {"key": uuid.uuid4().hex, "text": "Are you coming?"})
    assert statuses == [303] * THREADS
    assert CaseEvent.objects.filter(case=case, type="customer_replied").count() == 1
    assert CustomerSubmission.objects.filter(case=case).count() == 1


def test_the_same_claim_sent_at_once_is_one_claim_acknowledged_once(portal: Portal, clock: Any) -> None:
    case: Case = portal.case()
    clock.advance(hours=6)
    commitment = Commitment.objects.get(case=case)
    form = {"key": uuid.uuid4().hex, "commitment": commitment.pk, "text": "Nobody called"}
    statuses = post_at_once(f"/c/{case.access_token}/claim/", form)
    assert statuses == [303] * THREADS
    breach = Breach.objects.get(case=case)
    assert OutboxMessage.objects.filter(event_key=f"breach:{breach.pk}:claim_received").count() == 2  # email, SMS
