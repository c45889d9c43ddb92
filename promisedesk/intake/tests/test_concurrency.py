"""Idempotent intake under real races: deliveries of one key at once make one case and one event.

Threads each use their own database connection (closed when the thread ends) and
commit for real (transaction=True); on PostgreSQL they truly run at once, on SQLite
the write lock takes them in turn. Waits are bounded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from standardwebhooks.webhooks import Webhook

from promisedesk.cases.models import Case, CaseEvent, Customer
from promisedesk.errors import Conflict
from promisedesk.intake import keys
from promisedesk.intake.actions import do_create_source, do_release_message
from promisedesk.intake.forms import new_form_token
from promisedesk.intake.mail import ingest_email
from promisedesk.intake.models import IntakeKey, QuarantinedMessage

from .conftest import mail

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

THREADS = 6
TIMEOUT = 60


def at_once(work: Callable[[int], Any]) -> list[Any]:
    """work(slot) in THREADS threads released together; each one's result or exception."""
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def run(slot: int) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            results[slot] = work(slot)
        except BaseException as exc:  # reported by the caller's assertions
            results[slot] = exc
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads), "a delivery did not finish"
    return results


def test_one_email_delivered_at_once_makes_one_case(default_mailbox, clock):
    raw = mail()
    results = at_once(lambda slot: ingest_email(raw, now=clock.now, source=f"smtp-{slot}"))

    assert all(not isinstance(r, BaseException) for r in results), results
    assert len({r.case_id for r in results}) == 1 and sum(not r.duplicate for r in results) == 1
    assert Case.objects.count() == 1 and Customer.objects.count() == 1
    assert CaseEvent.objects.filter(type="customer_request").count() == 1
    assert CaseEvent.objects.filter(type="case_opened").count() == 1
    assert IntakeKey.objects.count() == 1


def test_deliveries_that_all_miss_each_other_still_make_one_case(default_mailbox, clock, monkeypatch):
    # Every delivery first looks for its key and finds nothing, all before any inserts:
    # then only the unique constraint can decide.
    looked = threading.Barrier(THREADS)
    lookup = keys._existing
    first_look: set[int] = set()

    def held(source: str, key: str) -> Any:
        found = lookup(source, key)
        if threading.get_ident() not in first_look:
            first_look.add(threading.get_ident())
            looked.wait(timeout=TIMEOUT)
        return found

    monkeypatch.setattr(keys, "_existing", held)
    raw = mail()
    results = at_once(lambda slot: ingest_email(raw, now=clock.now))

    assert all(not isinstance(r, BaseException) for r in results), results
    assert len({r.case_id for r in results}) == 1 and sum(r.duplicate for r in results) == THREADS - 1
    assert Case.objects.count() == 1 and CaseEvent.objects.filter(type="customer_request").count() == 1


def test_one_quarantined_email_delivered_at_once_is_held_once(default_mailbox, clock):
    raw = mail(sender=None)
    results = at_once(lambda slot: ingest_email(raw, now=clock.now))
    assert len({r.quarantine_id for r in results}) == 1, results
    assert QuarantinedMessage.objects.count() == 1


def _signed(secret: str, body: str, webhook_id: str, clock: Any) -> dict[str, str]:
    moment = clock.now.astimezone(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, moment, body),
    }


def test_one_webhook_delivered_at_once_makes_one_case(service, clock):
    source = do_create_source(actor=None, now=clock.now, code="wechat", name="WeChat", default_service="install")
    body = json.dumps({"type": "message", "conversation": "c1", "customer": {"name": "Z", "phone": "1"}, "text": "hi"})
    headers = _signed(source.secret, body, "msg_1", clock)

    def post(slot: int) -> tuple[int, Any]:
        response = Client().post("/hooks/wechat/", data=body, content_type="application/json", headers=headers)
        return response.status_code, response.json()

    results = at_once(post)
    assert sorted(status for status, _ in results) == [200] * (THREADS - 1) + [201], results
    assert len({body["case"] for _, body in results}) == 1
    assert Case.objects.count() == 1 and CaseEvent.objects.filter(type="customer_request").count() == 1


def test_first_messages_of_one_conversation_at_once_share_one_case(service, clock):
    source = do_create_source(actor=None, now=clock.now, code="wechat", name="WeChat", default_service="install")

    def post(slot: int) -> tuple[int, Any]:
        payload = {"type": "message", "conversation": "c1", "customer": {"external_ref": "u1"}, "text": f"hi {slot}"}
        body = json.dumps(payload)
        headers = _signed(source.secret, body, f"msg_{slot}", clock)
        response = Client().post("/hooks/wechat/", data=body, content_type="application/json", headers=headers)
        return response.status_code, response.json()

    results = at_once(post)
    assert all(status in (200, 201) for status, _ in results), results
    assert Case.objects.count() == 1 and Customer.objects.count() == 1
    words = CaseEvent.objects.filter(type__in=["customer_request", "customer_replied"])
    assert words.count() == THREADS and words.filter(type="customer_request").count() == 1


def test_one_web_form_submitted_at_once_makes_one_case(service, clock):
    token = new_form_token()
    form = {"name": "Han", "email": "han@example.com", "service": "install", "need": "help", "language": "en"}

    def submit(slot: int) -> int:
        return Client().post("/request/", form | {"token": token, "website": ""}).status_code

    assert at_once(submit) == [200] * THREADS
    assert Case.objects.count() == 1 and Customer.objects.count() == 1


def test_a_held_message_released_by_several_at_once_is_released_once(service, clock):
    held = ingest_email(mail(), now=clock.now).quarantine_id  # no mailbox: held

    def release(slot: int) -> Any:
        return do_release_message(held, actor=None, now=clock.now, service_code="install")

    results = at_once(release)
    assert sum(isinstance(r, QuarantinedMessage) for r in results) == 1, results
    assert all(isinstance(r, (QuarantinedMessage, Conflict)) for r in results), results
    assert Case.objects.count() == 1
