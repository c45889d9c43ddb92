"""/desk/intake/quarantine/: staff see held mail, release it into a case or discard it."""

from __future__ import annotations

from email.utils import formataddr
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from promisedesk.cases.actions import do_open_case
from promisedesk.cases.models import Case, CaseEvent
from promisedesk.intake.mail import ingest_email
from promisedesk.intake.models import QuarantinedMessage

from .conftest import held_message, mail

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def desk(staff: Any, clock: Any) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def held(service: Any, clock: Any) -> QuarantinedMessage:
    raw = mail(sender=formataddr((SCRIPT, "evil@example.com")), subject=f"Hi {SCRIPT}", text=f"Body {SCRIPT}")
    return held_message(ingest_email(raw, now=clock.now, source="smtp"))


def test_the_list_shows_held_mail_escaped(desk, held):
    response = desk.get("/desk/intake/quarantine/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Intake quarantine" in page and "no mailbox for the recipient" in page
    assert f'href="/desk/intake/quarantine/{held.pk}/"' in page
    assert "<script>alert" not in page and "Hi &lt;script&gt;" in page


def test_the_list_takes_a_fixed_number_of_queries(desk, service, clock, django_assert_num_queries):
    for n in range(5):
        ingest_email(mail(message_id=f"<n{n}@x>"), now=clock.now)
    desk.get("/desk/intake/quarantine/")
    # the session, the user, the page count, the page, the held count
    with django_assert_num_queries(5):
        assert desk.get("/desk/intake/quarantine/").status_code == 200


def test_the_message_page_shows_why_and_the_text_escaped(desk, held):
    page = desk.get(f"/desk/intake/quarantine/{held.pk}/").content.decode()
    assert "No mailbox maps these recipients to a service" in page
    assert "Body &lt;script&gt;" in page and "<script>alert" not in page
    assert "Release into a case" in page and "Discard" in page


def test_the_original_downloads_as_a_file(desk, held):
    response = desk.get(f"/desk/intake/quarantine/{held.pk}/raw/")
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content == bytes(held.raw)


def test_releasing_as_a_new_case(desk, held, staff):
    response = desk.post(f"/desk/intake/quarantine/{held.pk}/release/", {"mode": "new", "service": "install"})
    assert response.status_code == 302 and response["Location"] == "/desk/intake/quarantine/"
    message = QuarantinedMessage.objects.get(pk=held.pk)
    assert (message.status, message.decided_by_id) == ("released", staff.pk)
    assert Case.objects.get(pk=message.case_id).customer.email == "evil@example.com"
    page = desk.get("/desk/intake/quarantine/", follow=True).content.decode()
    assert f"Message released into case #{message.case_id}." in page


def test_releasing_into_an_existing_case(desk, held, customer, clock):
    case, _ = do_open_case(actor=None, now=clock.now, customer_id=customer.pk, service_code="install")
    desk.post(f"/desk/intake/quarantine/{held.pk}/release/", {"mode": "thread", "case": case.pk})
    assert CaseEvent.objects.get(case=case, type="customer_replied").note == f"Body {SCRIPT}"


def test_releasing_into_a_missing_case_says_so(desk, held):
    response = desk.post(f"/desk/intake/quarantine/{held.pk}/release/", {"mode": "thread", "case": 999})
    assert response.status_code == 422
    assert "There is no such case or customer." in response.content.decode()
    assert QuarantinedMessage.objects.get(pk=held.pk).status == "held"


def test_releasing_into_a_case_needs_its_number(desk, held):
    response = desk.post(f"/desk/intake/quarantine/{held.pk}/release/", {"mode": "thread"})
    assert response.status_code == 422 and "Give the case number." in response.content.decode()


def test_discarding_with_a_reason(desk, held):
    response = desk.post(f"/desk/intake/quarantine/{held.pk}/discard/", {"reason": f"spam {SCRIPT}"})
    assert response.status_code == 302
    assert QuarantinedMessage.objects.get(pk=held.pk).status == "discarded"
    page = desk.get("/desk/intake/quarantine/?status=discarded").content.decode()
    assert "spam &lt;script&gt;" in page and "<script>alert" not in page


def test_a_decided_message_cannot_be_decided_again(desk, held):
    desk.post(f"/desk/intake/quarantine/{held.pk}/discard/", {"reason": "spam"})
    response = desk.post(f"/desk/intake/quarantine/{held.pk}/release/", {"mode": "new", "service": "install"})
    assert response.status_code == 422 and "decided about this message already" in response.content.decode()
    assert not Case.objects.exists()


def test_the_quarantine_in_chinese(desk, held):
    page = desk.get("/desk/intake/quarantine/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "收件隔离区" in page and "收件人没有对应的邮箱" in page


def test_visitors_are_sent_to_log_in_and_customers_are_refused(client, held):
    assert client.get("/desk/intake/quarantine/")["Location"].startswith("/accounts/login/")
    user = get_user_model().objects.create_user("customer", password="pw-customer-1")
    client.force_login(user)
    assert client.get(f"/desk/intake/quarantine/{held.pk}/").status_code == 403
    assert client.post(f"/desk/intake/quarantine/{held.pk}/discard/", {"reason": "x"}).status_code == 403
