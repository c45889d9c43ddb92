"""Notification fixtures: real local servers to deliver to, managers, and outbox rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from promisedesk.accounts.actions import do_create_token
from promisedesk.conftest import Api, FrozenClock
from promisedesk.notifications.actions import new_secret
from promisedesk.notifications.models import Channel, OutboxMessage, WebhookEndpoint

from .servers import FakeTwilio, SmtpServer, SmtpSink, WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver checking signatures (its secret is set by the `endpoint` fixture)."""
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def endpoint(receiver: WebhookReceiver, clock: FrozenClock, db: Any) -> WebhookEndpoint:
    """An active endpoint for every event, pointing at the receiver, which knows its secret."""
    found = WebhookEndpoint.objects.create(
        name="crm", url=f"{receiver.url}/hooks", secret=new_secret(), events=[], active=True, created_at=clock.now
    )
    receiver.secret = found.secret
    return found


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server; Django's SMTP backend pointed at it."""
    sink = SmtpSink()
    server = SmtpServer(sink)
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 10
    settings.DEFAULT_FROM_EMAIL = "service@promisedesk.example"
    try:
        yield sink
    finally:
        server.stop()


@pytest.fixture
def twilio(settings: Any) -> Iterator[FakeTwilio]:
    """An SMS provider speaking Twilio's API; the Twilio adapter chosen and pointed at it."""
    with FakeTwilio() as server:
        settings.PROMISEDESK_SMS_BACKEND = "twilio"
        settings.PROMISEDESK_TWILIO_BASE_URL = server.url
        settings.PROMISEDESK_TWILIO_ACCOUNT_SID = server.sid
        settings.PROMISEDESK_TWILIO_AUTH_TOKEN = server.token
        settings.PROMISEDESK_TWILIO_FROM = "+15005550006"
        yield server


@pytest.fixture
def sms_dir(settings: Any, tmp_path: Any) -> Any:
    """The development SMS backend, writing into a fresh folder."""
    settings.PROMISEDESK_SMS_BACKEND = "file"
    settings.PROMISEDESK_SMS_DIR = tmp_path / "sms"
    return tmp_path / "sms"


@pytest.fixture
def manager(db: Any) -> Any:
    user = get_user_model().objects.create_user("boss", password="pw-boss-123", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="manager")[0])
    return user


@pytest.fixture
def manager_api(manager: Any, clock: FrozenClock) -> Api:
    return Api(Client(), do_create_token(manager, clock.now))


@pytest.fixture
def desk(staff: Any, clock: FrozenClock) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def manager_desk(manager: Any, clock: FrozenClock) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def webhook_message(endpoint: WebhookEndpoint, now: datetime, n: int = 1, **fields: Any) -> OutboxMessage:
    """A queued webhook message (as queue_for_endpoints writes one), due at now."""
    body = json.dumps({"type": "case.progress_update", "data": {"n": n}})
    values: dict[str, Any] = {
        "event_key": f"event:{n}",
        "event": "case.progress_update",
        "recipient": endpoint.recipient,
        "channel": Channel.WEBHOOK,
        "language": "",
        "body": body,
        "endpoint": endpoint,
        "next_attempt_at": now,
        "created_at": now,
    }
    return OutboxMessage.objects.create(**(values | fields))


def message(channel: str, recipient: str, now: datetime, key: str = "event:1", **fields: Any) -> OutboxMessage:
    """A queued customer message on channel, due at now."""
    values: dict[str, Any] = {
        "event_key": key,
        "event": "case_update",
        "recipient": recipient,
        "channel": channel,
        "language": "en",
        "subject": "News about your case" if channel == Channel.EMAIL else "",
        "body": "Our engineer is on the way.",
        "next_attempt_at": now,
        "created_at": now,
    }
    return OutboxMessage.objects.create(**(values | fields))
