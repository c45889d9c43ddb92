"""Notifications delivered per second to a local webhook receiver: the outbox against plain HTTP posts.

1. N webhook messages wait in the outbox (SQLite, WAL). Two worker processes call
   promisedesk.notifications.delivery.deliver_due(now) at once: each claims batches
   under a lease, signs every message the Standard Webhooks way (HMAC-SHA256),
   POSTs it, and records the outcome row by row. Timed from the moment both are
   released to the moment both have finished; every row must then be sent.
2. The baseline: one plain loop POSTing the same N bodies to the same receiver with
   the same HTTP client settings (httpx, keep-alive), no database, no signature.
The receiver (a threaded http.server answering 204) runs in a process of its own, so
neither side shares an interpreter with it.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from typing import Any

from bench.common import Result, fail, heading, line, parse_args, profile, report, setup_django, sizes

TARGET = 0.5
WORKERS = 2
fork = multiprocessing.get_context("fork")


def _serve(pipe: Connection) -> None:
    """The receiver process: answer every POST with 204 until told to stop."""
    from promisedesk.notifications.tests.servers import HttpServer

    with HttpServer() as server:
        pipe.send(server.url)
        pipe.recv()
        pipe.send(len(server.received))


def _payload(n: int) -> str:
    data = {"case": {"id": n, "external_ref": f"WEB-{n}", "stage": "delivery", "customer": 7}}
    event = {"id": n, "type": "progress_update", "at": "2026-03-02T10:30:00+08:00"}
    return json.dumps(
        {"type": "case.progress_update", "timestamp": "2026-03-02T10:30:00+08:00", "data": data | {"event": event}}
    )


def queue_messages(url: str, n: int) -> None:
    from django.utils import timezone

    from promisedesk.notifications.actions import new_secret
    from promisedesk.notifications.models import Channel, OutboxMessage, WebhookEndpoint

    now = timezone.now()
    endpoint = WebhookEndpoint.objects.create(name="bench", url=url, secret=new_secret(), created_at=now)
    rows = [
        OutboxMessage(
            event_key=f"event:{i}",
            event="case.progress_update",
            recipient=url,
            channel=Channel.WEBHOOK,
            language="",
            body=_payload(i),
            endpoint=endpoint,
            next_attempt_at=now,
            created_at=now,
        )
        for i in range(n)
    ]
    OutboxMessage.objects.bulk_create(rows, batch_size=1000)


def reset_messages() -> None:
    """Every message pending and due again, as if just queued."""
    from django.utils import timezone

    from promisedesk.notifications.models import OutboxMessage

    OutboxMessage.objects.update(
        status="pending",
        attempts=0,
        sent_at=None,
        claimed_until=None,
        provider_ref="",
        last_error="",
        next_attempt_at=timezone.now(),
    )


def _worker(start: Event, results: Any) -> None:
    """One deliverer process: wait for the start, deliver everything due, report its counts."""
    import threading

    from django.utils import timezone

    from promisedesk.notifications import transports
    from promisedesk.notifications.delivery import deliver_due

    transports._clients = threading.local()  # never a connection inherited from the parent
    start.wait()
    result = deliver_due(timezone.now())
    results.put((result.sent, result.retrying, result.failed))


def run_outbox(n: int) -> float:
    """Seconds for two worker processes to deliver n due messages."""
    from django.db import connections

    from promisedesk.notifications.models import OutboxMessage

    reset_messages()
    connections.close_all()  # the children open their own
    start, results = fork.Event(), fork.Queue()
    workers = [fork.Process(target=_worker, args=(start, results)) for _ in range(WORKERS)]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    start.set()
    counts = [results.get(timeout=600) for _ in workers]
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join(60)
    sent = sum(c[0] for c in counts)
    if sent != n or OutboxMessage.objects.filter(status="sent").count() != n:
        fail(f"expected {n} messages sent, the workers report {counts}")
    if min(c[0] for c in counts) == 0:
        fail(f"one worker did all the work: {counts}")
    return elapsed


def run_baseline(url: str, n: int) -> float:
    """Seconds for one plain loop to POST the same n bodies."""
    import httpx

    bodies = [_payload(i).encode() for i in range(n)]
    headers = {"content-type": "application/json"}
    with httpx.Client(timeout=10.0, follow_redirects=False) as client:
        began = time.perf_counter()
        for body in bodies:
            if client.post(url, content=body, headers=headers).status_code != 204:
                fail("the receiver did not answer 204")
        return time.perf_counter() - began


def main(argv: Sequence[str] | None = None) -> list[Result]:
    args = parse_args(__doc__.splitlines()[0], argv)  # type: ignore[union-attr]
    n = sizes(args.quick, 3_000, 300)
    rounds = sizes(args.quick, 3, 2)
    setup_django("outbox", keep=args.keep)
    parent, child = fork.Pipe()
    receiver = fork.Process(target=_serve, args=(child,), daemon=True)
    receiver.start()
    url = f"{parent.recv()}/hooks"
    queue_messages(url, n)
    heading(f"outbox: {n:,} webhook messages, {WORKERS} worker processes, best of {rounds} rounds")
    run_baseline(url, 100)  # warm up the receiver
    best = {"outbox": float("inf"), "plain": float("inf")}
    for _ in range(rounds):  # interleaved, so that a noisy moment hits both alike
        best["plain"] = min(best["plain"], run_baseline(url, n))
        best["outbox"] = min(best["outbox"], run_outbox(n))
    outbox_rate, plain_rate = n / best["outbox"], n / best["plain"]
    line(f"outbox, {WORKERS} workers: claim, sign, POST, record", f"{outbox_rate:8.0f} messages/s")
    line("baseline: one loop of plain HTTP POSTs", f"{plain_rate:8.0f} posts/s")
    if args.profile:
        from django.utils import timezone

        from promisedesk.notifications.delivery import deliver_due

        reset_messages()
        profile(lambda: deliver_due(timezone.now()), "deliver_due, one process", 30)
    parent.send("stop")
    received = parent.recv()
    line("requests the receiver answered", f"{received:,}")
    ratio = outbox_rate / plain_rate
    heading("outbox results")
    results = [
        Result(
            "outbox delivery",
            ratio,
            f"{ratio:.2f} of plain POSTs ({outbox_rate:.0f} vs {plain_rate:.0f} per s)",
            f"≥ {TARGET:.2f}",
            ratio >= TARGET,
        )
    ]
    report(results, args.summary)
    return results


if __name__ == "__main__":
    main()
