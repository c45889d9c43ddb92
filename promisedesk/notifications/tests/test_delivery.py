"""Delivery to real local servers: email over SMTP, signed webhooks, SMS through a provider's API;
retries with backoff, giving up, the lease, and a message held until its time comes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from promisedesk.conftest import make_customer, make_service, open_case
from promisedesk.intake.threading import reply_address, subject_tag
from promisedesk.notifications import delivery, transports
from promisedesk.notifications.delivery import LEASE, attempt, backoff, claim, deliver_due
from promisedesk.notifications.models import Channel, OutboxMessage, OutboxStatus
from promisedesk.notifications.transports import message_id, webhook_id

from .conftest import message, webhook_message
from .servers import Reply

pytestmark = pytest.mark.django_db


def _reload(m: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=m.pk)


# --- email ---------------------------------------------------------------------------------------


def test_case_received_email_reaches_the_smtp_server_threaded_to_its_case(api, smtp, sms_dir, clock) -> None:
    # given a customer whose case has just been opened (its messages are in the outbox)
    make_service(api)
    customer = make_customer(api, name="Li O'Brien", locale="en")
    case = open_case(api, customer["id"], external_ref="WEB-1")
    queued = OutboxMessage.objects.get(channel=Channel.EMAIL, event="case_received")

    # when the outbox is delivered
    result = deliver_due(clock.now)

    # then the SMTP server got the email, threaded to the case and named by its outbox row
    assert result.sent == 2 and result.failed == result.retrying == 0  # the email and the SMS
    [mail] = smtp.messages
    assert mail["To"] == "li@example.com"
    assert mail["Reply-To"] == reply_address(case["id"])
    assert mail["Subject"].endswith(subject_tag(case["id"]))
    assert mail["Message-ID"] == message_id(queued)
    assert "Li O'Brien" in mail.get_payload(decode=True).decode()  # plain text, not HTML-escaped
    sent = _reload(queued)
    assert (sent.status, sent.attempts, sent.sent_at, sent.provider_ref) == ("sent", 1, clock.now, mail["Message-ID"])
    assert sent.claimed_until is None and sent.last_error == ""


def test_email_without_a_case_has_no_reply_address(smtp, clock) -> None:
    message(Channel.EMAIL, "ops@example.com", clock.now)
    assert deliver_due(clock.now).sent == 1
    [mail] = smtp.messages
    assert mail["Reply-To"] is None and mail["Subject"] == "News about your case"


def test_email_refused_with_5xx_fails_at_once(smtp, clock) -> None:
    smtp.rcpt_reply = "550 5.1.1 No such user here"
    queued = message(Channel.EMAIL, "nobody@example.com", clock.now)

    assert deliver_due(clock.now).failed == 1

    failed = _reload(queued)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "550" in failed.last_error and failed.sent_at is None


def test_email_refused_with_4xx_is_retried_after_a_minute(smtp, clock) -> None:
    smtp.data_reply = "451 4.3.0 Mailbox busy, try again later"
    queued = message(Channel.EMAIL, "li@example.com", clock.now)

    assert deliver_due(clock.now).retrying == 1

    waiting = _reload(queued)
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert waiting.next_attempt_at == clock.now + timedelta(minutes=1) and "451" in waiting.last_error
    # and once the server takes mail again, the next attempt goes through
    smtp.data_reply = None
    assert deliver_due(clock.now + timedelta(seconds=59)).sent == 0
    assert deliver_due(clock.now + timedelta(minutes=1)).sent == 1
    assert len(smtp.messages) == 1 and _reload(queued).attempts == 2


def test_email_to_a_closed_port_is_a_temporary_failure(settings, clock) -> None:
    import socket

    with socket.socket() as unused:  # bound, never listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", unused.getsockname()[1]
        queued = message(Channel.EMAIL, "li@example.com", clock.now)
        assert deliver_due(clock.now).retrying == 1
    assert "ConnectionRefusedError" in _reload(queued).last_error


def test_email_resent_after_a_crash_carries_the_same_message_id(smtp, clock) -> None:
    queued = message(Channel.EMAIL, "li@example.com", clock.now)
    # given a worker that sent the email and died before recording it
    [claimed] = claim(clock.now, batch=10, lease=LEASE)
    assert attempt(claimed, clock.now).status == "sent"

    # then nobody sends it again while the lease lasts
    assert deliver_due(clock.now + LEASE - timedelta(seconds=1)).sent == 0
    # and after it runs out it goes again, as the same message
    assert deliver_due(clock.now + LEASE).sent == 1
    first, second = smtp.messages
    assert first["Message-ID"] == second["Message-ID"] == message_id(queued)
    assert _reload(queued).attempts == 2


# --- webhooks --------------------------------------------------------------------------------------


def test_webhook_is_signed_the_standard_webhooks_way(receiver, endpoint, clock) -> None:
    queued = webhook_message(endpoint, clock.now)

    assert deliver_due(clock.now).sent == 1

    [got] = receiver.deliveries
    assert receiver.rejected == []
    assert got.path == "/hooks" and got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == webhook_id(queued) == f"msg_{queued.pk}.{int(clock.now.timestamp())}"
    assert got.headers["webhook-timestamp"] == str(int(clock.now.timestamp()))
    assert Webhook(endpoint.secret).verify(got.body, got.headers) == json.loads(queued.body)
    assert _reload(queued).provider_ref == webhook_id(queued)


def test_webhook_signed_with_another_secret_is_refused_by_the_receiver(receiver, endpoint, clock) -> None:
    receiver.secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="  # not the endpoint's
    queued = webhook_message(endpoint, clock.now)
    assert deliver_due(clock.now).failed == 1  # 401: permanent
    assert "401" in _reload(queued).last_error and len(receiver.rejected) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_webhook_answered_with_a_temporary_status_is_retried(receiver, endpoint, clock, status) -> None:
    receiver.script.append(Reply(status))
    queued = webhook_message(endpoint, clock.now)
    assert deliver_due(clock.now).retrying == 1
    assert _reload(queued).status == "pending" and str(status) in _reload(queued).last_error


@pytest.mark.parametrize("status", [400, 404, 410, 422, 301])
def test_webhook_answered_with_another_status_fails_at_once(receiver, endpoint, clock, status) -> None:
    receiver.script.append(Reply(status))
    queued = webhook_message(endpoint, clock.now)
    assert deliver_due(clock.now).failed == 1
    assert _reload(queued).status == "failed"


def test_webhook_retry_after_is_honoured(receiver, endpoint, clock) -> None:
    receiver.script.append(Reply(429, {"Retry-After": "600"}))
    queued = webhook_message(endpoint, clock.now)
    deliver_due(clock.now)
    assert _reload(queued).next_attempt_at == clock.now + timedelta(minutes=10)


def test_webhook_receiver_that_does_not_answer_times_out_and_is_retried(receiver, endpoint, clock, settings) -> None:
    import threading

    settings.PROMISEDESK_HTTP_TIMEOUT = 0.2
    receiver.hold = threading.Event()  # released when the receiver stops
    queued = webhook_message(endpoint, clock.now)
    assert deliver_due(clock.now).retrying == 1
    assert "timed out" in _reload(queued).last_error


def test_webhook_to_a_deactivated_endpoint_fails(receiver, endpoint, clock) -> None:
    queued = webhook_message(endpoint, clock.now)
    endpoint.active = False
    endpoint.save(update_fields=["active"])
    assert deliver_due(clock.now).failed == 1
    assert "deactivated" in _reload(queued).last_error and receiver.received == []


def test_an_unexpected_error_in_a_transport_is_retried_not_raised(endpoint, clock, monkeypatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(transports, "http_post", broken)
    queued = webhook_message(endpoint, clock.now)
    other = webhook_message(endpoint, clock.now, n=2)
    assert deliver_due(clock.now).retrying == 2
    assert _reload(queued).last_error == "RuntimeError: boom" and _reload(other).status == "pending"


# --- retries, backoff, giving up ----------------------------------------------------------------------


def test_backoff_doubles_from_a_minute_up_to_six_hours() -> None:
    minutes = [backoff(n).total_seconds() / 60 for n in range(1, 12)]
    assert minutes == [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360]


def test_temporary_failures_back_off_then_give_up_into_the_dead_letter_queue(
    receiver, endpoint, clock, settings
) -> None:
    settings.PROMISEDESK_OUTBOX_MAX_ATTEMPTS = 4
    receiver.default = Reply(503)
    queued = webhook_message(endpoint, clock.now)
    at, waits = clock.now, []
    for _ in range(3):
        clock.to(at)  # the receiver checks the signature's timestamp against its clock
        assert deliver_due(at).retrying == 1
        row = _reload(queued)
        waits.append(row.next_attempt_at - at)
        at = row.next_attempt_at
    clock.to(at)
    assert deliver_due(at).failed == 1
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    failed = _reload(queued)
    assert (failed.status, failed.attempts) == ("failed", 4)
    assert failed.last_error.startswith("gave up after 4 attempts") and "503" in failed.last_error
    assert len(receiver.received) == 4 and deliver_due(at + timedelta(days=1)).failed == 0


def test_a_message_is_held_until_its_next_attempt_time(receiver, endpoint, clock) -> None:
    # given a message to staff that may only go at 13:00 (its sender set next_attempt_at)
    later = clock.now + timedelta(hours=4)
    queued = webhook_message(endpoint, clock.now, next_attempt_at=later)
    unscheduled = webhook_message(endpoint, clock.now, n=2, next_attempt_at=None)

    assert deliver_due(later - timedelta(microseconds=1)).sent == 0
    clock.to(later)
    assert deliver_due(later).sent == 1
    assert _reload(queued).sent_at == later and receiver.ids() == [webhook_id(queued)]
    assert _reload(unscheduled).status == "pending"  # no time set: held


def test_a_message_whose_attempts_never_finished_is_given_up(endpoint, clock, settings) -> None:
    settings.PROMISEDESK_OUTBOX_MAX_ATTEMPTS = 2
    queued = webhook_message(endpoint, clock.now)
    at = clock.now
    for _ in range(2):  # two workers die holding it
        assert claim(at, batch=1, lease=LEASE)
        at += LEASE
    assert deliver_due(at).failed == 1
    assert _reload(queued).last_error == "gave up: 2 attempts did not finish"


def test_an_outcome_is_not_recorded_once_another_worker_took_the_message_over(receiver, endpoint, clock) -> None:
    queued = webhook_message(endpoint, clock.now)
    [slow] = claim(clock.now, batch=1, lease=LEASE)
    # the slow worker's lease runs out; another worker sends and records the message
    clock.to(clock.now + LEASE)
    assert deliver_due(clock.now).sent == 1
    # then the slow worker's late outcome changes nothing
    assert not delivery.record(slow, delivery.Outcome("failed", error="late"), clock.now)
    assert delivery.record_sent([(slow, "late-ref")], clock.now) == 0
    assert _reload(queued).status == "sent" and _reload(queued).provider_ref == webhook_id(queued)


# --- SMS -------------------------------------------------------------------------------------------


def test_sms_goes_through_the_twilio_api(twilio, clock) -> None:
    queued = message(Channel.SMS, "+8613800000000", clock.now)
    assert deliver_due(clock.now).sent == 1
    [sms] = twilio.sent
    assert (sms["To"], sms["From"], sms["Body"]) == ("+8613800000000", "+15005550006", "Our engineer is on the way.")
    assert _reload(queued).provider_ref == sms["sid"]


def test_sms_refused_by_twilio_fails_and_twilio_down_is_retried(twilio, clock) -> None:
    twilio.script.extend([Reply(400, body=b'{"code": 21211, "message": "invalid To"}'), Reply(503)])
    bad = message(Channel.SMS, "not-a-number", clock.now, key="event:1")
    busy = message(Channel.SMS, "+8613800000000", clock.now, key="event:2")
    result = deliver_due(clock.now)
    assert (result.failed, result.retrying) == (1, 1)
    assert "21211" in _reload(bad).last_error and _reload(busy).status == "pending"


def test_sms_with_wrong_twilio_credentials_is_refused(twilio, clock, settings) -> None:
    settings.PROMISEDESK_TWILIO_AUTH_TOKEN = "wrong"
    queued = message(Channel.SMS, "+8613800000000", clock.now)
    assert deliver_due(clock.now).failed == 1
    assert "401" in _reload(queued).last_error and twilio.sent == []


def test_sms_file_backend_writes_each_message_once(sms_dir, clock) -> None:
    queued = message(Channel.SMS, "13800000000", clock.now)
    [claimed] = claim(clock.now, batch=1, lease=LEASE)
    attempt(claimed, clock.now)  # sent, then the worker died
    assert deliver_due(clock.now + LEASE).sent == 1
    [written] = sms_dir.iterdir()
    assert written.name == _reload(queued).provider_ref
    assert json.loads(written.read_text()) == {"to": "13800000000", "body": "Our engineer is on the way."}


def test_unknown_sms_backend_is_a_temporary_failure(settings, clock) -> None:
    settings.PROMISEDESK_SMS_BACKEND = "carrier-pigeon"
    queued = message(Channel.SMS, "13800000000", clock.now)
    assert deliver_due(clock.now).retrying == 1
    assert "carrier-pigeon" in _reload(queued).last_error


def test_sent_message_has_a_sent_time_by_constraint(clock) -> None:
    from django.db import IntegrityError, transaction

    queued = message(Channel.SMS, "13800000000", clock.now)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.filter(pk=queued.pk).update(status=OutboxStatus.SENT)


def test_max_batches_bounds_one_pass(receiver, endpoint, clock) -> None:
    for n in range(5):
        webhook_message(endpoint, clock.now, n)
    assert deliver_due(clock.now, batch=2, max_batches=2).sent == 4
    assert deliver_due(clock.now, batch=2).sent == 1


def test_email_to_an_address_with_a_line_break_fails_at_once(smtp, clock) -> None:
    queued = message(Channel.EMAIL, "li@example.com\nBcc: all@example.com", clock.now)
    assert deliver_due(clock.now).failed == 1
    assert smtp.messages == [] and "cannot be written" in _reload(queued).last_error


def test_a_batch_running_past_half_its_lease_hands_the_rest_back(receiver, endpoint, clock) -> None:
    for n in range(3):
        webhook_message(endpoint, clock.now, n)
    claimed = claim(clock.now, batch=3, lease=LEASE)
    # the first send takes as long as the lease; the clock is read before each message
    readings = iter([clock.now, clock.now + LEASE, clock.now + LEASE])

    assert delivery.send_claimed(claimed, lambda: next(readings), LEASE).sent == 1

    rest = OutboxMessage.objects.exclude(status="sent")
    assert rest.count() == 2 and {(m.attempts, m.claimed_until) for m in rest} == {(0, None)}
    assert deliver_due(clock.now).sent == 2  # and they go at once, without waiting for the lease


def test_slow_sends_never_leave_a_later_batch_an_expired_lease(receiver, endpoint, clock, monkeypatch) -> None:
    # given five messages and a receiver so slow that each send takes 2 of the lease's 5 minutes
    for n in range(5):
        webhook_message(endpoint, clock.now, n)
    stolen: list[int] = []
    send = transports.WebhookTransport.send

    def slow_send(self: Any, message: OutboxMessage, now: Any) -> str:
        clock.advance(minutes=2)
        # a second deliverer, looking at the time as it is now, tries the message being sent
        stolen.extend(m.pk for m in claim(clock.now, batch=1, lease=LEASE, only=[message.pk]))
        return send(self, message, now)

    monkeypatch.setattr(transports.WebhookTransport, "send", slow_send)

    # when one pass delivers them, a batch at a time, reading its clock as it goes
    result = deliver_due(lambda: clock.now, batch=2)

    # then every lease outlived its send: the other deliverer never got a message held,
    # and each went out once, recorded by the deliverer that sent it
    assert stolen == []
    assert result.sent == 5 and len(receiver.deliveries) == 5
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_two_endpoints_sharing_a_url_each_get_the_message_signed_with_their_own_secret(
    receiver, endpoint, clock, manager_api
) -> None:
    from promisedesk.notifications.actions import new_secret
    from promisedesk.notifications.models import WebhookEndpoint
    from promisedesk.notifications.outbox import queue_for_endpoints

    # given a second endpoint (another team's) at the very same URL, with its own secret
    other = WebhookEndpoint.objects.create(
        name="erp", url=endpoint.url, secret=new_secret(), events=[], active=True, created_at=clock.now
    )
    receiver.secret = None  # the test checks each signature itself

    # when an event is queued for the endpoints and delivered
    queued = queue_for_endpoints(
        event="case.opened", event_key="case:1:opened", payload={}, case_id=None, now=clock.now
    )
    assert deliver_due(clock.now).sent == 2

    # then each endpoint got its own row and its own delivery, verifiable with its own secret only
    assert {m.endpoint_id for m in queued} == {endpoint.pk, other.pk}
    by_id = {webhook_id(m): m for m in queued}
    assert len(receiver.deliveries) == 2
    for got in receiver.deliveries:
        mine = by_id[got.headers["webhook-id"]].endpoint
        assert mine is not None
        Webhook(mine.secret).verify(got.body, got.headers)
        theirs = other if mine == endpoint else endpoint
        with pytest.raises(Exception, match="signature"):
            Webhook(theirs.secret).verify(got.body, got.headers)
    # and the outbox still shows where each went: the URL
    listed = manager_api.get("/outbox", channel="webhook").json()["items"]
    assert [m["recipient"] for m in listed] == [endpoint.url, endpoint.url]
