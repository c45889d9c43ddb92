"""NUL and other control characters from mail, webhooks and the web form never reach the database.

PostgreSQL refuses a NUL in text and in JSON (a 500, or a message lost); SQLite stores
it. These run on both: `-m postgres` with DATABASE_URL set to a PostgreSQL database.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import DataError, connection, transaction
from django.test import Client

from promisedesk.cases.models import Case, CaseEvent, Customer
from promisedesk.intake import fetch
from promisedesk.intake.actions import do_create_source
from promisedesk.intake.forms import new_form_token
from promisedesk.intake.mail import ingest_email
from promisedesk.intake.mailparse import clean_text
from promisedesk.intake.models import QuarantinedMessage

from .test_fetchmail import FakeImap
from .test_hooks import FIRST, Sender

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CONTROLS = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r") + "\x7f"


def _raw_mail(subject: str, body: str, name: str = "Li\x00 Lei", message_id: str = "<nul@example.com>") -> bytes:
    """A message as a broken mailer sends it: control characters straight in headers and an 8-bit body."""
    head = (
        f"From: {name} <li@example.com>\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode() + body.encode()


def test_clean_text_keeps_tabs_and_newlines_and_drops_other_controls():
    assert clean_text(f"a{CONTROLS}b\tc\r\nd\re\ud800") == "ab\tc\nd\ne"


def test_nul_in_a_mail_body_subject_and_name_is_dropped(default_mailbox, clock):
    raw = _raw_mail("Broken\x00 router\x01", "It\x00 stopped\x07 working.\r\nHelp\x00!")

    result = ingest_email(raw, now=clock.now)

    assert result.outcome == "opened", result
    case = Case.objects.select_related("customer").get()
    event = CaseEvent.objects.get(type="customer_request")
    assert event.note == "It stopped working.\nHelp!"
    assert case.summary == "Broken router" and event.data["subject"] == "Broken router"
    assert case.customer.name == "Li Lei"


def test_nul_in_a_message_id_is_dropped(default_mailbox, clock):
    result = ingest_email(_raw_mail("x", "y", message_id="<a\x00b@example.com>"), now=clock.now)
    assert result.outcome == "opened"
    assert CaseEvent.objects.get(type="customer_request").data["message_id"] == "ab@example.com"


def test_nul_in_quarantined_mail_headers_is_dropped(service, clock):
    raw = _raw_mail("no\x00 mailbox", "text\x00", name="Some\x00one")  # no mailbox: held

    held = QuarantinedMessage.objects.get(pk=ingest_email(raw, now=clock.now).quarantine_id)

    assert (held.reason, held.subject) == ("no_mailbox", "no mailbox")
    assert bytes(held.raw) == raw  # the original is kept exactly


@pytest.fixture
def sender(service: Any, clock: Any) -> Sender:
    source = do_create_source(actor=None, now=clock.now, code="wechat", name="WeChat", default_service="install")
    return Sender(source, clock)


def test_nul_in_a_chat_message_and_its_customer_is_dropped(sender: Sender, clock):
    payload = FIRST | {
        "text": "宽带\x00断了\x1b",
        "customer": {**FIRST["customer"], "name": "Zhang\x00 Wei", "external_ref": "u-\x0042"},  # type: ignore[dict-item]
    }

    response = sender.post(payload)

    assert response.status_code == 201, response.content
    assert CaseEvent.objects.get(type="customer_request").note == "宽带断了"
    customer = Customer.objects.get()
    assert customer.name == "Zhang Wei" and "\x00" not in (customer.external_ref or "")


def test_nul_in_an_event_note_and_nested_data_is_dropped(sender: Sender, clock):
    sender.post(FIRST)
    data = {"rating\x00": 5, "tags": ["fast\x00", {"deep": "a\x00b", "n": None}], "ok": True}
    payload = {"type": "event", "conversation": "conv-1", "event": "rated", "note": "good\x00", "data": data}

    response = sender.post(payload)

    assert response.status_code == 200, response.content
    event = CaseEvent.objects.get(type="rated")
    assert event.note == "good"
    assert {k: event.data[k] for k in ("rating", "tags", "ok")} == {
        "rating": 5,
        "tags": ["fast", {"deep": "ab", "n": None}],
        "ok": True,
    }
    assert "\\u0000" not in json.dumps(event.data)


def test_a_chat_text_of_only_control_characters_is_400(sender: Sender, clock):
    response = sender.post(FIRST | {"text": "\x00\x01"})
    assert response.status_code == 400 and response.json()["error"]["field"] == "text"
    assert not Case.objects.exists()


def test_nul_in_the_web_form_is_a_form_error(client: Client, service, clock):
    form = {
        "name": "Han\x00",
        "email": "han@example.com",
        "phone": "",
        "service": "install",
        "need": "broken\x00",
        "language": "en",
        "website": "",
        "token": new_form_token(),
    }
    response = client.post("/request/", form)
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_a_message_the_database_refuses_is_quarantined_and_the_poll_goes_on(default_mailbox, clock, monkeypatch):
    """Whatever slips past the cleaning costs one message, not the poll: here a NUL written on purpose."""
    real = fetch.ingest_email

    def ingest(raw: bytes, **kwargs: Any) -> Any:
        if b"poison" in raw:
            with transaction.atomic():
                Customer.objects.create(
                    name="bad\x00name", external_ref="nul", created_at=clock.now
                )  # PostgreSQL refuses this
                if connection.vendor != "postgresql":
                    raise DataError("SQLite stores a NUL: refused here by hand")
        return real(raw, **kwargs)

    monkeypatch.setattr(fetch, "ingest_email", ingest)
    server = FakeImap({1: _raw_mail("poison", "x", message_id="<p@x>"), 2: _raw_mail("fine", "y", message_id="<f@x>")})

    summary = fetch.fetch_imap(server, folder="INBOX", clock=lambda: clock.now)

    assert summary.outcomes == {"opened": 1, "quarantined": 1} and server.seen == {1, 2}
    held = QuarantinedMessage.objects.get()
    assert held.reason == "processing_failed" and bytes(held.raw) == server.messages[1]
    assert Case.objects.get().summary == "fine" and not Customer.objects.filter(external_ref="nul").exists()
