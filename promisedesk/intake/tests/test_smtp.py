"""The SMTP listener for real: aiosmtpd on 127.0.0.1 (port 0) in this process, smtplib sending to it.

The listener ingests in its own threads on their own database connections, so these
tests commit for real (transaction=True). smtplib returns once the server answered
250, which it does only after the message was recorded: no waiting needed.
"""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

import promisedesk
from promisedesk.cases.models import Attachment, Case, CaseEvent
from promisedesk.intake.models import QuarantinedMessage
from promisedesk.intake.smtp import IntakeController, IntakeHandler
from promisedesk.intake.threading import reply_address

from .conftest import mail, reply_to

pytestmark = [pytest.mark.django_db(transaction=True)]
TIMEOUT = 30


@pytest.fixture
def smtp_server(clock: Any) -> Iterator[IntakeController]:
    controller = IntakeController(IntakeHandler(clock=lambda: clock.now), hostname="127.0.0.1", port=0)
    controller.start()
    yield controller
    controller.stop()


def _send(port: int, raw: bytes, sender: str = "li@example.com", to: tuple[str, ...] = ("support@example.com",)) -> Any:
    with smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT) as client:
        return client.sendmail(sender, list(to), raw)


def test_mail_sent_over_smtp_opens_a_case(smtp_server, default_mailbox, clock):
    refused = _send(smtp_server.port, mail(attachments=[("plan.pdf", "application/pdf", b"%PDF plan")]))

    assert refused == {}
    case = Case.objects.select_related("customer").get()
    assert (case.channel, case.customer.email) == ("email", "li@example.com")
    event = CaseEvent.objects.get(case=case, type="customer_request")
    assert event.data["source"] == "smtp" and event.note == "Since this morning nothing works."
    assert Attachment.objects.get(case=case).filename == "plan.pdf"


def test_a_reply_over_smtp_threads_by_the_envelope_recipient(smtp_server, default_mailbox, clock):
    _send(smtp_server.port, mail())
    case = Case.objects.get()
    # The reply's headers do not show the reply address (a Bcc); the envelope does.
    raw = reply_to(case.pk, to="someone@example.com", subject="Re: no tag", message_id="<r@x>")
    _send(smtp_server.port, raw, to=(reply_address(case.pk),))

    assert CaseEvent.objects.get(case=case, type="customer_replied").note == "Thank you, tomorrow at 10 suits me."


def test_mail_sent_twice_over_smtp_is_one_case(smtp_server, default_mailbox, clock):
    _send(smtp_server.port, mail())
    _send(smtp_server.port, mail())
    assert Case.objects.count() == 1


def test_mail_without_a_sender_over_smtp_is_accepted_and_quarantined(smtp_server, default_mailbox, clock):
    assert _send(smtp_server.port, mail(sender=None), sender="") == {}
    held = QuarantinedMessage.objects.get()
    assert (held.reason, held.source, held.recipients) == ("no_sender", "smtp", ["support@example.com"])


def test_a_database_failure_asks_the_sender_to_try_again(smtp_server, default_mailbox, clock, monkeypatch):
    from promisedesk.intake import smtp

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database is down")

    monkeypatch.setattr(smtp, "ingest_email", broken)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        _send(smtp_server.port, mail())
    assert refused.value.smtp_code == 451
    monkeypatch.undo()
    _send(smtp_server.port, mail())  # the retry goes through
    assert Case.objects.count() == 1


def test_a_message_over_the_size_limit_is_refused_at_the_door(default_mailbox, clock, settings):
    settings.PROMISEDESK_INTAKE_SMTP_MAX_BYTES = 2000
    controller = IntakeController(IntakeHandler(clock=lambda: clock.now), hostname="127.0.0.1", port=0)
    controller.start()
    try:
        with pytest.raises(smtplib.SMTPException):
            _send(controller.port, mail(text="x" * 5000))
    finally:
        controller.stop()
    assert not Case.objects.exists()


# --- the command, as a real process --------------------------------------------------------


def _database_url() -> str:
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(config['NAME']).resolve()}"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    host = f"{config['HOST'] or 'localhost'}:{config['PORT'] or 5432}"
    return f"postgres://{config['USER']}{password}@{host}/{config['NAME']}"


def test_the_smtpd_command_receives_mail_until_terminated(default_mailbox, tmp_path):
    script = Path(sys.executable).with_name("promisedesk")
    environment = {k: v for k, v in os.environ.items() if k != "PROMISEDESK_TEST_SQLITE_FILE"}
    environment |= {
        "DATABASE_URL": _database_url(),
        "PROMISEDESK_VAR_DIR": str(tmp_path),
        "PYTHONPATH": str(Path(promisedesk.__file__).parent.parent),
    }
    process = subprocess.Popen(
        [str(script), "smtpd", "--host", "127.0.0.1", "--port", "0"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("smtpd: receiving mail on 127.0.0.1:"), first + process.stderr.read()  # type: ignore[union-attr]
        _send(int(first.rsplit(":", 1)[1]), mail())
        assert Case.objects.get().channel == "email"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, err
        assert "smtpd: stopped" in out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)
