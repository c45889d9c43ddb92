"""Fixtures for intake: files in a temporary media folder, a service with a published promise, mail."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client

from promisedesk.accounts.actions import do_create_token
from promisedesk.cases.actions import do_create_customer, do_create_service
from promisedesk.cases.models import Customer, Service
from promisedesk.conftest import Api
from promisedesk.intake.actions import do_create_mailbox
from promisedesk.intake.models import QuarantinedMessage
from promisedesk.intake.threading import reply_address, subject_tag
from promisedesk.promises.actions import do_create_promise, do_publish_promise


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    """Attachments go to a folder of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def empty_rate_limits() -> Any:
    """Rate-limit counters live in the cache; each test starts with none used."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def manager(db: Any) -> Any:
    """A staff member in the `manager` group: the only one who sets up sources and mailboxes."""
    user = get_user_model().objects.create_user("boss", password="pw-boss-123", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="manager")[0])
    return user


@pytest.fixture
def manager_api(manager: Any, clock: Any) -> Api:
    return Api(Client(), do_create_token(manager, clock.now))


@pytest.fixture
def service(db: Any, clock: Any) -> Service:
    """`install`, with a published 4-hour reply promise that applies to every case."""
    made = do_create_service(code="install", name="Broadband installation", price=None, currency="CNY")
    do_create_promise(
        actor=None,
        now=clock.now,
        code="reply-4h",
        title="Reply within 4 hours",
        statement={"en": "We reply within 4 hours.", "zh-Hans": "4小时内答复。"},
        kind="time",
        coverage="full",
        form="written",
        applies_to={"services": [], "channels": [], "customer_tiers": [], "priorities": []},
        standard={"start_on": "case_opened", "stop_on": ["first_response"], "target": "PT4H"},
        liability={"kind": "apology"},
    )
    do_publish_promise(actor=None, now=clock.now, code="reply-4h")
    return made


@pytest.fixture
def other_service(db: Any) -> Service:
    return do_create_service(code="billing", name="Billing question", price=None, currency="CNY")


@pytest.fixture
def default_mailbox(service: Service, clock: Any) -> Any:
    return do_create_mailbox(actor=None, now=clock.now, address="*", service="install")


@pytest.fixture
def customer(db: Any, clock: Any) -> Customer:
    return do_create_customer(now=clock.now, name="Li Lei", email="li@example.com", locale="zh-Hans")


def mail(
    *,
    sender: str | None = "Li Lei <li@example.com>",
    to: str = "support@example.com",
    subject: str = "My broadband is down",
    text: str | None = "Since this morning nothing works.",
    html: str | None = None,
    message_id: str | None = "<m1@example.com>",
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    headers: dict[str, str] | None = None,
    date: datetime | None = None,
) -> bytes:
    """The raw bytes of a message, as a mail program would send it."""
    message = EmailMessage()
    if sender is not None:
        message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if message_id is not None:
        message["Message-ID"] = message_id
    if date is not None:
        message["Date"] = format_datetime(date)
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for filename, content_type, payload in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def reply_to(case_id: int, **overrides: Any) -> bytes:
    """A customer's reply to a message about case_id: to its reply address, with its subject tag."""
    fields: dict[str, Any] = {
        "to": reply_address(case_id),
        "subject": f"Re: Your case {subject_tag(case_id)}",
        "text": "Thank you, tomorrow at 10 suits me.",
        "message_id": f"<reply-{case_id}@example.com>",
    }
    return mail(**(fields | overrides))


def held_message(result: Any) -> QuarantinedMessage:
    """The quarantined message an ingest_email result names."""
    assert result.quarantine_id is not None, result
    return QuarantinedMessage.objects.get(pk=result.quarantine_id)
