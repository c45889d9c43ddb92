"""Delivering the outbox: many workers at once (threads, processes, machines), nothing lost.

Concurrency, in steps, one batch at a time:
1. Claim. In one short transaction, take up to `batch` pending rows whose
   `next_attempt_at <= now` and whose lease (`claimed_until`) is empty or over, and give
   them a lease until `now + lease`, counting the attempt. `now` is read from the
   deliverer's clock afresh for every claim: a pass that has been sending for minutes
   must not hand its next batch a lease that is already (nearly) over. On PostgreSQL the rows are
   read FOR UPDATE SKIP LOCKED, so workers split the work instead of queueing on it; on
   SQLite the transaction is IMMEDIATE and holds the write lock. The UPDATE repeats the
   conditions (a compare-and-set), and the batch is re-read by its new lease.
2. Send, outside any transaction, one message after another through its channel's
   transport. Nothing is locked meanwhile; the lease keeps other workers off the rows.
   Once half the lease is used (by the clock, read before each message) the rest of the
   batch is handed back unsent. A message whose event has a "still wanted?" check
   (`register_check`) that says no is not sent but failed as superseded.
3. Record the outcomes with UPDATEs that match only while this worker's lease is on the
   rows: sent (FLUSH messages at a time, in one statement); a temporary failure retried
   later with exponential backoff (given up as failed after
   PROMISEDESK_OUTBOX_MAX_ATTEMPTS attempts); a permanent failure failed at once. Failed
   messages wait in the dead-letter view for someone to retry them.
A worker that dies after step 1 leaves its rows leased; when the lease runs out any
worker claims them again, and the resend carries the same Message-ID / webhook-id, so
the receiver can tell it from a new message. A row only ever goes out when
`next_attempt_at` has come: messages that must wait (business hours) set it themselves,
and a row without one is held.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from promisedesk.lib.faults import crash_point

from .models import OutboxMessage, OutboxStatus
from .transports import TransportError, transport_for

log = logging.getLogger("promisedesk.notifications")

BATCH = 50
LEASE = timedelta(minutes=5)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
MAX_ATTEMPTS = 10
MAX_ERROR = 2000  # characters of a provider's error kept on the row
# Sent messages recorded per UPDATE. A worker that dies mid-batch has at most this many
# messages out but unrecorded: they go again (as the same messages) when its lease runs out.
FLUSH = 10

Clock = Callable[[], datetime]
# A "still wanted?" check: given claimed messages of one event, {message id: why not} for
# those that must no longer go out (what they were about has since been settled).
Check = Callable[[Sequence["OutboxMessage"]], Mapping[int, str]]
_checks: dict[str, Check] = {}


def register_check(event: str, check: Check) -> None:
    """Ask `check` before sending any message of `event` (OutboxMessage.event) whether it is
    still wanted. Apps register theirs in AppConfig.ready, so this app never imports them."""
    _checks[event] = check


def clock_of(now: datetime | Clock | None) -> Clock:
    """A clock from what a caller gave: a callable as it is, a fixed instant as a clock that
    stands still (a pass "as of" that instant), nothing as the real time."""
    if now is None:
        return timezone.now
    if isinstance(now, datetime):
        fixed = now
        return lambda: fixed
    return now


@dataclass
class DeliveryResult:
    """What one delivery pass did with the messages it claimed."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    superseded: int = 0  # not sent: no longer wanted (also counted in failed)

    def __str__(self) -> str:
        text = f"deliver: {self.sent} sent, {self.retrying} to retry, {self.failed} failed"
        return f"{text} ({self.superseded} superseded)" if self.superseded else text

    def __iadd__(self, other: DeliveryResult) -> DeliveryResult:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.superseded += other.superseded
        return self


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended: status sent, pending (to retry at retry_at) or failed."""

    status: str
    provider_ref: str = ""
    error: str = ""
    retry_at: datetime | None = None


def max_attempts() -> int:
    return int(getattr(settings, "PROMISEDESK_OUTBOX_MAX_ATTEMPTS", MAX_ATTEMPTS))


def backoff(attempts: int) -> timedelta:
    """How long to wait after the attempts-th attempt failed: 1 minute, doubling, at most 6 hours."""
    return min(BACKOFF_BASE * 2 ** min(max(attempts - 1, 0), 20), BACKOFF_CAP)


def due(now: datetime) -> QuerySet[OutboxMessage]:
    """Pending messages whose time has come and that no live lease holds."""
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    return OutboxMessage.objects.filter(free, status=OutboxStatus.PENDING, next_attempt_at__lte=now)


def deliver_due(
    now: datetime | Clock | None = None,
    *,
    batch: int = BATCH,
    lease: timedelta = LEASE,
    max_batches: int | None = None,
) -> DeliveryResult:
    """Send every message that is due, batch by batch, until none is left (or max_batches were
    claimed, so that a caller with other work, like the worker loop, gets its turn); safe in
    many workers at once.

    `now` is the deliverer's clock (a callable, read afresh for every claim and before every
    message; default the real time), or a fixed instant to deliver as of (tests, `--now`).
    """
    read = clock_of(now)
    total = DeliveryResult()
    batches = 0
    while max_batches is None or batches < max_batches:
        claimed = claim(read(), batch=batch, lease=lease)
        if not claimed:
            break
        total += send_claimed(claimed, read, lease)
        batches += 1
    return total


def deliver_message(
    message_id: int, now: datetime | Clock | None = None, *, lease: timedelta = LEASE
) -> DeliveryResult:
    """Send one message now if it is due and free (the desk's "send test"); same steps as deliver_due."""
    read = clock_of(now)
    claimed = claim(read(), batch=1, lease=lease, only=[message_id])
    return send_claimed(claimed, read, lease) if claimed else DeliveryResult()


def claim(now: datetime, *, batch: int, lease: timedelta, only: Sequence[int] | None = None) -> list[OutboxMessage]:
    """Step 1: lease up to batch due messages (of `only`, when given) to this worker until now + lease."""
    until = now + lease
    with transaction.atomic():
        rows = due(now).order_by("next_attempt_at", "id")
        if only is not None:
            rows = rows.filter(pk__in=list(only))
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        ids = list(rows.values_list("pk", flat=True)[:batch])
        if not ids:
            return []
        due(now).filter(pk__in=ids).update(claimed_until=until, attempts=F("attempts") + 1)
        # prefetch, not select_related: a batch mostly goes to a few endpoints, loaded once each
        return list(
            OutboxMessage.objects.prefetch_related("endpoint")
            .filter(pk__in=ids, claimed_until=until)
            .order_by("next_attempt_at", "id")
        )


def send_claimed(messages: list[OutboxMessage], now: datetime | Clock, lease: timedelta) -> DeliveryResult:
    """Steps 2 and 3 for a claimed batch. Sent messages are recorded FLUSH at a time, in one
    UPDATE (failures at once, one by one). Should sending run past half the lease (by the
    clock `now`, read before each message, against the lease's own expiry), the rest of the
    batch is handed back rather than sent on a lease that may run out mid-send. Messages no
    longer wanted (see register_check) are failed as superseded instead of sent."""
    read = clock_of(now)
    result = DeliveryResult()
    if not messages:
        return result
    sent: list[tuple[OutboxMessage, str]] = []
    # Every message of one claim shares its lease; stop while half of it is still left.
    expires = messages[0].claimed_until
    deadline = expires - lease / 2 if expires is not None else None
    unwanted = _unwanted(messages)
    for index, message in enumerate(messages):
        at = read()
        if index and deadline is not None and at > deadline:
            _release(messages[index:])
            break
        crash_point("delivery_claimed")
        reason = unwanted.get(message.pk)
        if reason is not None:
            if record(message, Outcome(OutboxStatus.FAILED, error=f"superseded: {reason}"[:MAX_ERROR]), at):
                result.failed += 1
                result.superseded += 1
            continue
        outcome = attempt(message, at)
        crash_point("delivery_sent")
        if outcome.status != OutboxStatus.SENT:
            if record(message, outcome, at):
                _count(result, outcome)
            continue
        sent.append((message, outcome.provider_ref))
        if len(sent) >= FLUSH:
            result.sent += record_sent(sent, read())
            sent = []
    result.sent += record_sent(sent, read())
    return result


def _unwanted(messages: list[OutboxMessage]) -> dict[int, str]:
    """{message id: why} for the messages of the batch their event's check no longer wants."""
    by_event: dict[str, list[OutboxMessage]] = {}
    for message in messages:
        if message.event in _checks:
            by_event.setdefault(message.event, []).append(message)
    unwanted: dict[int, str] = {}
    for event, group in by_event.items():
        try:
            unwanted.update(_checks[event](group))
        except Exception:  # a failing check must not stop delivery: the messages go as before
            log.exception("the still-wanted check of %s failed; its messages are sent", event)
    return unwanted


def attempt(message: OutboxMessage, now: datetime) -> Outcome:
    """Step 2: send message once; never raises."""
    if message.attempts > max_attempts():
        # Only attempts that never finished (a worker died in each) get here.
        return Outcome(OutboxStatus.FAILED, error=f"gave up: {message.attempts - 1} attempts did not finish")
    try:
        reference = transport_for(message.channel).send(message, now)
    except TransportError as exc:
        return _failure(message, exc, now)
    except Exception as exc:  # a bug or a row no transport can handle must not stop the batch
        log.exception("sending outbox message %s failed unexpectedly", message.pk)
        return _failure(message, TransportError(f"{type(exc).__name__}: {exc}"), now)
    return Outcome(OutboxStatus.SENT, provider_ref=reference)


def _failure(message: OutboxMessage, exc: TransportError, now: datetime) -> Outcome:
    error = exc.message[:MAX_ERROR]
    if exc.permanent:
        return Outcome(OutboxStatus.FAILED, error=error)
    if message.attempts >= max_attempts():
        return Outcome(OutboxStatus.FAILED, error=f"gave up after {message.attempts} attempts: {error}")
    wait = max(backoff(message.attempts), exc.retry_after or timedelta(0))
    return Outcome(OutboxStatus.PENDING, error=error, retry_at=now + wait)


def record(message: OutboxMessage, outcome: Outcome, now: datetime) -> bool:
    """Step 3 for one message: store outcome while message's lease is still this worker's; False
    when it is not (the lease ran out and another worker took the message over: its outcome counts)."""
    if outcome.status == OutboxStatus.SENT:
        return record_sent([(message, outcome.provider_ref)], now) == 1
    changes: dict[str, object] = {"claimed_until": None, "last_error": outcome.error}
    if outcome.status == OutboxStatus.FAILED:
        changes["status"] = OutboxStatus.FAILED
    else:
        changes["next_attempt_at"] = outcome.retry_at
    if _leased([message]).update(**changes) == 1:
        return True
    log.warning("outbox message %s: lease lost before its outcome (%s) was recorded", message.pk, outcome.status)
    return False


def record_sent(sent: list[tuple[OutboxMessage, str]], now: datetime) -> int:
    """Step 3 for messages that went out, (message, provider reference) pairs, in one transaction,
    touching only rows still under their lease. Returns how many it recorded. One prepared
    UPDATE run for every row (executemany) rather than the ORM: it runs for every message sent,
    and building ORM queries was a third of a worker's time per message."""
    if not sent:
        return 0
    fields = {field.name: field for field in OutboxMessage._meta.concrete_fields}

    def column(name: str) -> str:
        return connection.ops.quote_name(fields[name].column)

    sql = (
        f"UPDATE {connection.ops.quote_name(OutboxMessage._meta.db_table)} "
        f"SET {column('status')} = %s, {column('sent_at')} = %s, {column('provider_ref')} = %s, "
        f"{column('claimed_until')} = NULL, {column('last_error')} = '' "
        f"WHERE {column('id')} = %s AND {column('status')} = %s AND {column('claimed_until')} = %s"
    )
    at = fields["sent_at"].get_db_prep_save(now, connection)
    rows = [
        (
            OutboxStatus.SENT.value,
            at,
            reference[:200],
            message.pk,
            OutboxStatus.PENDING.value,
            fields["claimed_until"].get_db_prep_save(message.claimed_until, connection),
        )
        for message, reference in sent
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)
        recorded = cursor.rowcount
    if recorded < len(sent):
        log.warning("%d sent outbox messages had lost their lease; other workers record them", len(sent) - recorded)
    return recorded


def _leased(messages: list[OutboxMessage]) -> QuerySet[OutboxMessage]:
    """These messages, as long as they are pending under the lease this worker gave them."""
    leases = {m.claimed_until for m in messages}
    assert len(leases) == 1, "messages of one claim share one lease"
    return OutboxMessage.objects.filter(
        pk__in=[m.pk for m in messages], status=OutboxStatus.PENDING, claimed_until=leases.pop()
    )


def _release(messages: list[OutboxMessage]) -> None:
    """Give unsent claimed messages back at once, without counting an attempt."""
    _leased(messages).update(claimed_until=None, attempts=F("attempts") - 1)


def _count(result: DeliveryResult, outcome: Outcome) -> None:
    if outcome.status == OutboxStatus.SENT:
        result.sent += 1
    elif outcome.status == OutboxStatus.FAILED:
        result.failed += 1
    else:
        result.retrying += 1
