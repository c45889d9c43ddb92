"""Exactly once per outbox row under real concurrency: deliverers racing in threads and in
processes, dying after claiming, after sending, or killed -9 holding a batch.

Every test commits for real and delivers to a webhook receiver in this process that checks
each signature; the processes are `promisedesk deliver --once --now …` on the test database
(see promisedesk/commitments/tests/test_concurrency.py, whose process helpers these reuse).
"""

from __future__ import annotations

import re
import signal
import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.db import connection

from promisedesk.commitments.tests.test_concurrency import (  # noqa: F401  (the fixture ends stray processes)
    Lines,
    _finish,
    _no_process_outlives_its_test,
    _promisedesk,
    _wait,
)
from promisedesk.notifications.delivery import LEASE, DeliveryResult, deliver_due
from promisedesk.notifications.models import OutboxMessage, OutboxStatus, WebhookEndpoint
from promisedesk.notifications.transports import webhook_id

from .conftest import webhook_message
from .servers import WebhookReceiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SUMMARY = re.compile(r"^deliver: (\d+) sent, (\d+) to retry, (\d+) failed$", re.MULTILINE)


def _queue(endpoint: WebhookEndpoint, now: datetime, count: int) -> list[OutboxMessage]:
    return [webhook_message(endpoint, now, n) for n in range(count)]


def _sent(out: str) -> int:
    found = SUMMARY.search(out)
    assert found, out
    return int(found.group(1))


def _assert_each_delivered_once(receiver: WebhookReceiver, count: int) -> None:
    """Every row sent and recorded once, and the receiver got each exactly once, signed."""
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT, claimed_until__isnull=True).count() == count
    expected = {webhook_id(m) for m in OutboxMessage.objects.all()}
    assert receiver.rejected == []
    assert Counter(receiver.ids()) == Counter(expected)


def test_two_deliverer_threads_send_each_message_once(receiver, endpoint, clock) -> None:
    _queue(endpoint, clock.now, 120)
    start = threading.Barrier(2)
    results: list[DeliveryResult] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            results.append(deliver_due(clock.now, batch=10))
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert failures == [] and len(results) == 2
    assert sum(r.sent for r in results) == 120 and all(r.sent for r in results)  # both did a share
    _assert_each_delivered_once(receiver, 120)
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


def test_racing_deliverer_processes_send_each_message_once(receiver, endpoint, clock) -> None:
    _queue(endpoint, clock.now, 90)
    now = clock.now.isoformat()
    # each stops once it holds its first batch, so that all three really race
    processes = [
        _promisedesk("deliver", "--once", "--now", now, "--batch", "10", PROMISEDESK_HALT_AT="delivery_claimed")
        for _ in range(3)
    ]
    logs = [Lines(p.stderr) for p in processes]  # type: ignore[arg-type]
    for log in logs:
        log.wait_for(r"^halted at delivery_claimed")
    for process in processes:
        process.stdin.write("go\n")  # type: ignore[union-attr]
        process.stdin.flush()  # type: ignore[union-attr]
    sent = []
    for process, log in zip(processes, logs, strict=True):
        code, out = _wait(process)
        assert code == 0, log.seen
        sent.append(_sent(out))

    assert sum(sent) == 90 and all(sent)
    _assert_each_delivered_once(receiver, 90)


def test_a_deliverer_dying_after_sending_loses_nothing_and_resends_the_same_message(receiver, endpoint, clock) -> None:
    first, *rest = _queue(endpoint, clock.now, 30)

    # when a deliverer sends the first message and dies before recording it
    code, out, err = _finish(
        _promisedesk("deliver", "--once", "--now", clock.now.isoformat(), PROMISEDESK_CRASH_AT="delivery_sent")
    )
    assert code == 99, err
    assert receiver.ids() == [webhook_id(first)]

    # then, while its lease lasts, nobody sends its batch again
    code, out, err = _finish(_promisedesk("deliver", "--once", "--now", clock.now.isoformat()))
    assert (code, _sent(out)) == (0, 0), err
    # and afterwards everything goes: the first message again, with the same webhook-id
    later = clock.to(clock.now + LEASE)
    code, out, err = _finish(_promisedesk("deliver", "--once", "--now", later.isoformat()))
    assert (code, _sent(out)) == (0, 30), err
    assert Counter(receiver.ids())[webhook_id(first)] == 2
    assert Counter(receiver.ids()) - Counter({webhook_id(first): 1}) == Counter(webhook_id(m) for m in [first, *rest])
    assert OutboxMessage.objects.get(pk=first.pk).attempts == 2
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 30


def test_a_deliverer_dying_after_claiming_loses_nothing(receiver, endpoint, clock) -> None:
    _queue(endpoint, clock.now, 30)
    now = clock.now.isoformat()
    code, out, err = _finish(_promisedesk("deliver", "--once", "--now", now, PROMISEDESK_CRASH_AT="delivery_claimed"))
    assert code == 99, err
    assert receiver.received == []

    later = clock.to(clock.now + LEASE)
    code, out, err = _finish(_promisedesk("deliver", "--once", "--now", later.isoformat()))
    assert (code, _sent(out)) == (0, 30), err
    _assert_each_delivered_once(receiver, 30)


def test_a_deliverer_killed_holding_a_batch_loses_nothing(receiver, endpoint, clock) -> None:
    _queue(endpoint, clock.now, 25)
    now = clock.now.isoformat()
    # given a deliverer killed -9 while it holds a batch of 10, unsent
    holder = _promisedesk("deliver", "--once", "--now", now, "--batch", "10", PROMISEDESK_HALT_AT="delivery_claimed")
    try:
        Lines(holder.stderr).wait_for(r"^halted at delivery_claimed")  # type: ignore[arg-type]
    finally:
        holder.kill()
        holder.wait(timeout=120)
    assert holder.returncode == -signal.SIGKILL

    # when another deliverer runs at once, it sends the other 15 and leaves the batch to its lease
    code, out, err = _finish(_promisedesk("deliver", "--once", "--now", now))
    assert (code, _sent(out)) == (0, 15), err
    # and once the lease has run out, the batch goes too: each message exactly once
    later = clock.to(clock.now + LEASE + timedelta(seconds=1))
    code, out, err = _finish(_promisedesk("deliver", "--once", "--now", later.isoformat()))
    assert (code, _sent(out)) == (0, 10), err
    _assert_each_delivered_once(receiver, 25)


def test_deliver_loop_sends_until_sigterm(receiver, endpoint, clock) -> None:
    _queue(endpoint, clock.now, 3)
    loop = _promisedesk("deliver", "--now", clock.now.isoformat(), "--interval", "3600")
    logged = Lines(loop.stderr)  # type: ignore[arg-type]
    try:
        line = logged.wait_for(r"deliver: \d+ sent|delivery failed")
        assert "deliver: 3 sent, 0 to retry, 0 failed" in line, logged.seen
        loop.send_signal(signal.SIGTERM)
        code, out = _wait(loop)
    finally:
        loop.kill()
    assert code == 0, logged.seen
    assert out.splitlines() == ["deliver: every 3600.0s", "deliver: stopped"]
    _assert_each_delivered_once(receiver, 3)
