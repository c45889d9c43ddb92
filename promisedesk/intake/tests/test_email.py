"""ingest_email: the rules every mail channel shares (new case, threading, quarantine, files)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promisedesk.cases.actions import do_append_event, do_open_case
from promisedesk.cases.models import Attachment, Case, CaseEvent, Customer
from promisedesk.commitments.models import Commitment
from promisedesk.intake.actions import do_create_mailbox
from promisedesk.intake.mail import ingest_email
from promisedesk.intake.models import IntakeKey, QuarantinedMessage
from promisedesk.intake.threading import thread_token
from promisedesk.notifications.models import OutboxMessage

from .conftest import held_message, mail, reply_to

pytestmark = pytest.mark.django_db


def test_new_mail_opens_a_case_on_channel_email_for_a_new_customer(default_mailbox, clock):
    result = ingest_email(mail(), now=clock.now, source="smtp")

    assert (result.outcome, result.duplicate) == ("opened", False)
    case = Case.objects.select_related("customer").get(pk=result.case_id)
    assert (case.channel, case.service.code, case.summary) == ("email", "install", "My broadband is down")
    assert (case.customer.name, case.customer.email, case.customer.external_ref) == (
        "Li Lei",
        "li@example.com",
        "email:li@example.com",
    )
    event = CaseEvent.objects.get(pk=result.event_id)
    assert (event.type, event.note, event.visible_to_customer) == (
        "customer_request",
        "Since this morning nothing works.",
        True,
    )
    assert event.data["message_id"] == "m1@example.com" and event.data["source"] == "smtp"
    # the published promise applies, and the customer is told the case was received
    assert Commitment.objects.filter(case=case, promise_code="reply-4h").count() == 1
    assert OutboxMessage.objects.filter(case_id=case.pk, event="case_received", recipient="li@example.com").exists()


def test_mail_to_a_complaints_mailbox_opens_a_complaint_with_its_files(default_mailbox, clock):
    from promisedesk.complaints.models import Complaint

    do_create_mailbox(actor=None, now=clock.now, address="complaints@example.com", service="install", complaints=True)
    photo = ("carpet.jpg", "image/jpeg", b"\xff\xd8\xff mud")
    result = ingest_email(
        mail(to="complaints@example.com", text="The engineer left mud everywhere.", attachments=[photo]),
        now=clock.now,
        source="smtp",
    )

    complaint = Complaint.objects.select_related("case").get(case_id=result.case_id)
    assert (complaint.case.kind, complaint.case.channel) == ("complaint", "email")
    assert complaint.account == "The engineer left mud everywhere."
    assert Attachment.objects.get(case=complaint.case).filename == "carpet.jpg"
    # mail to the ordinary address is still a request
    other = ingest_email(mail(message_id="<m2@example.com>"), now=clock.now, source="smtp")
    assert Case.objects.get(pk=other.case_id).kind == "service"


def test_new_mail_from_a_known_address_goes_to_that_customer(default_mailbox, customer, clock):
    result = ingest_email(mail(sender="LI@Example.com"), now=clock.now)
    assert Case.objects.get(pk=result.case_id).customer_id == customer.pk
    assert Customer.objects.count() == 1


def test_the_same_message_delivered_twice_makes_one_case(default_mailbox, clock):
    first = ingest_email(mail(), now=clock.now, source="smtp")
    again = ingest_email(mail(), now=clock.now, source="maildir")

    assert again.duplicate and (again.case_id, again.event_id, again.outcome) == (
        first.case_id,
        first.event_id,
        "opened",
    )
    assert Case.objects.count() == 1 and CaseEvent.objects.filter(type="customer_request").count() == 1


def test_a_message_without_message_id_is_keyed_by_its_bytes(default_mailbox, clock):
    raw = mail(message_id=None)
    ingest_email(raw, now=clock.now)
    ingest_email(raw, now=clock.now)
    ingest_email(mail(message_id=None, text="Something else"), now=clock.now)

    assert Case.objects.count() == 2
    assert IntakeKey.objects.filter(key=f"sha256:{hashlib.sha256(raw).hexdigest()}").count() == 1


def test_the_same_message_stored_with_other_line_endings_is_a_duplicate(default_mailbox, clock):
    crlf = mail()
    ingest_email(crlf, now=clock.now, source="smtp")
    again = ingest_email(crlf.replace(b"\r\n", b"\n"), now=clock.now, source="maildir")
    assert again.duplicate and Case.objects.count() == 1


def test_a_message_id_reused_for_another_text_loses_nothing(default_mailbox, clock):
    ingest_email(mail(), now=clock.now)
    other = ingest_email(mail(text="A different request altogether."), now=clock.now)
    assert not other.duplicate and Case.objects.count() == 2


def test_someone_else_reusing_a_message_id_is_not_taken_for_a_duplicate(default_mailbox, clock):
    ingest_email(mail(), now=clock.now)
    other = ingest_email(mail(sender="mallory@example.net"), now=clock.now)
    assert not other.duplicate and Case.objects.count() == 2


def test_mailboxes_choose_the_service_by_address_then_domain_then_default(
    default_mailbox, other_service, clock, service
):
    do_create_mailbox(actor=None, now=clock.now, address="billing@example.com", service="billing")
    do_create_mailbox(actor=None, now=clock.now, address="*@money.example.com", service="billing")

    def service_of(to: str, n: int) -> str:
        result = ingest_email(mail(to=to, message_id=f"<route-{n}@example.com>"), now=clock.now)
        assert result.case_id is not None
        return Case.objects.get(pk=result.case_id).service.code

    assert service_of("Billing <billing@example.com>", 1) == "billing"
    assert service_of("billing+urgent@example.com", 2) == "billing"  # the +tag is not part of the mailbox
    assert service_of("anyone@money.example.com", 3) == "billing"
    assert service_of("support@example.com", 4) == "install"


def test_mail_for_no_mailbox_and_no_default_is_quarantined(service, clock):
    result = ingest_email(mail(), now=clock.now)
    held = QuarantinedMessage.objects.get(pk=result.quarantine_id)
    assert (result.outcome, held.reason, held.status) == ("quarantined", "no_mailbox", "held")
    assert bytes(held.raw) == mail() and not Case.objects.exists()


@pytest.mark.parametrize(
    "sender",
    [None, "", "not an address", "Li Lei <li@>", "<>"],
    ids=["no From", "empty", "no address", "no domain", "null sender"],
)
def test_mail_without_a_usable_sender_is_quarantined(default_mailbox, clock, sender):
    raw = mail(sender=sender)
    result = ingest_email(raw, now=clock.now, source="smtp")

    held = QuarantinedMessage.objects.get(pk=result.quarantine_id)
    assert (held.reason, held.source, held.sender) == ("no_sender", "smtp", "")
    assert bytes(held.raw) == raw and held.size == len(raw)
    assert "no sender address" in held.explanation()
    assert not Case.objects.exists()


def test_quarantined_mail_delivered_again_is_held_once(default_mailbox, clock):
    ingest_email(mail(sender=None), now=clock.now)
    again = ingest_email(mail(sender=None), now=clock.now)
    assert again.duplicate and again.outcome == "quarantined"
    assert QuarantinedMessage.objects.count() == 1


def test_an_absence_reply_is_quarantined_so_mail_never_loops(default_mailbox, clock):
    result = ingest_email(mail(headers={"Auto-Submitted": "auto-replied"}), now=clock.now)
    held = QuarantinedMessage.objects.get(pk=result.quarantine_id)
    assert (held.reason, held.context) == ("auto_submitted", {"value": "auto-replied"})
    assert not Case.objects.exists()


# --- threading -----------------------------------------------------------------------------


@pytest.fixture
def case(service, customer, clock) -> Case:
    opened, _ = do_open_case(actor=None, now=clock.now, customer_id=customer.pk, service_code="install")
    return opened


def test_a_reply_threads_into_its_case_by_the_reply_address(case, clock):
    clock.advance(hours=1)
    result = ingest_email(reply_to(case.pk, subject="Re: your case"), now=clock.now)

    assert (result.outcome, result.case_id) == ("threaded", case.pk)
    event = CaseEvent.objects.get(pk=result.event_id)
    assert (event.type, event.note, event.visible_to_customer, event.at) == (
        "customer_replied",
        "Thank you, tomorrow at 10 suits me.",
        True,
        clock.now,
    )
    assert Case.objects.count() == 1


def test_a_reply_by_email_reopens_a_closed_case(case, clock):
    do_append_event(case, actor=None, now=clock.now, type="closed")
    clock.advance(days=3)
    result = ingest_email(reply_to(case.pk), now=clock.now)

    assert (result.outcome, result.case_id) == ("threaded", case.pk)
    case.refresh_from_db()
    assert case.stage == "delivery"
    reopened = CaseEvent.objects.get(case=case, type="reopened")
    assert (reopened.data, reopened.visible_to_customer, reopened.actor) == ({"by": "customer"}, True, None)
    assert reopened.at == clock.now and reopened.pk > result.event_id  # after the reply it answers


def test_a_reply_to_an_open_case_records_no_reopening(case, clock):
    ingest_email(reply_to(case.pk), now=clock.now)
    assert not CaseEvent.objects.filter(case=case, type="reopened").exists()


def test_a_reply_threads_by_the_subject_tag_when_the_address_lost_its_tag(case, clock):
    result = ingest_email(reply_to(case.pk, to="reply@promisedesk.localhost"), now=clock.now)
    assert (result.outcome, result.case_id) == ("threaded", case.pk)


def test_a_reply_needs_no_mailbox(case, clock):
    # Threading comes before routing: no mailbox is configured in this test.
    assert ingest_email(reply_to(case.pk), now=clock.now).outcome == "threaded"


def test_a_forged_token_is_quarantined_never_threaded(case, clock):
    forged = f"{case.pk}-{'0' * 20}"
    result = ingest_email(reply_to(case.pk, to=f"reply+{forged}@promisedesk.localhost"), now=clock.now)

    held = QuarantinedMessage.objects.get(pk=result.quarantine_id)
    assert (held.reason, held.context["token"]) == ("forged_token", forged)
    assert forged in held.explanation()
    assert not CaseEvent.objects.filter(type="customer_replied").exists()


def test_a_forged_subject_tag_is_quarantined(case, clock):
    result = ingest_email(
        reply_to(case.pk, to="reply@promisedesk.localhost", subject=f"Re: [#{case.pk}-{'a' * 20}]"), now=clock.now
    )
    assert QuarantinedMessage.objects.get(pk=result.quarantine_id).context["where"] == "subject"


def test_a_reply_from_someone_other_than_the_customer_is_quarantined(case, clock):
    result = ingest_email(reply_to(case.pk, sender="mallory@example.net"), now=clock.now)

    held = QuarantinedMessage.objects.get(pk=result.quarantine_id)
    assert (held.reason, held.context) == ("other_customer", {"case": case.pk, "sender": "mallory@example.net"})
    assert not CaseEvent.objects.filter(type="customer_replied").exists()


def test_tokens_naming_two_cases_are_quarantined(case, customer, clock):
    second, _ = do_open_case(actor=None, now=clock.now, customer_id=customer.pk, service_code="install")
    raw = reply_to(case.pk, subject=f"Re: [#{thread_token(second.pk)}]")
    held = QuarantinedMessage.objects.get(pk=ingest_email(raw, now=clock.now).quarantine_id)
    assert (held.reason, held.context) == ("conflicting_tokens", {"cases": sorted([case.pk, second.pk])})


def test_a_genuine_token_for_a_deleted_case_is_quarantined(service, clock):
    raw = reply_to(999)
    held = QuarantinedMessage.objects.get(pk=ingest_email(raw, now=clock.now).quarantine_id)
    assert (held.reason, held.context) == ("unknown_case", {"case": 999})


def test_a_reply_the_case_refuses_is_quarantined_with_the_reason(case, clock):
    # The case's last event lies an hour ahead (imported from a faster clock): the reply cannot come before it.
    do_append_event(case, actor=None, now=clock.now, type="progress_update", at=clock.now)
    Case.objects.filter(pk=case.pk).update(last_event_at=clock.now.replace(hour=23))
    result = ingest_email(reply_to(case.pk), now=clock.now)
    held = QuarantinedMessage.objects.get(pk=result.quarantine_id)
    assert held.reason == "refused" and held.context["code"] == "in_future"


# --- bodies and files ----------------------------------------------------------------------


def test_attachments_are_stored_with_the_event_with_their_digest(default_mailbox, clock, media):
    pdf = b"%PDF-1.4 fake invoice" * 100
    raw = mail(attachments=[("invoice.pdf", "application/pdf", pdf), ("photo.jpg", "image/jpeg", b"\xff\xd8jpeg")])
    result = ingest_email(raw, now=clock.now)

    files = list(Attachment.objects.filter(case_id=result.case_id).order_by("filename"))
    assert [(a.filename, a.content_type, a.size) for a in files] == [
        ("invoice.pdf", "application/pdf", len(pdf)),
        ("photo.jpg", "image/jpeg", 6),
    ]
    assert files[0].sha256 == hashlib.sha256(pdf).hexdigest() and files[0].event_id == result.event_id
    assert files[0].file.read() == pdf
    assert files[0].file.path.startswith(str(media)) and files[0].file.name.endswith(f"/{files[0].sha256[:32]}.pdf")


def test_any_attachment_name_is_stored_safely_and_kept_as_given(default_mailbox, clock):
    raw = mail(attachments=[("！！！", "text/plain", b"a"), ("发票 2026.PDF", "application/pdf", b"b")])
    result = ingest_email(raw, now=clock.now)
    files = {a.filename: a.file.name for a in Attachment.objects.filter(case_id=result.case_id)}
    assert set(files) == {"！！！", "发票 2026.PDF"}
    assert files["发票 2026.PDF"].endswith(".pdf") and "!" not in files["！！！"]


def test_an_oversized_attachment_is_recorded_as_skipped(default_mailbox, clock, settings):
    settings.PROMISEDESK_INTAKE_MAX_ATTACHMENT_BYTES = 1000
    raw = mail(attachments=[("big.bin", "application/octet-stream", b"x" * 1001), ("ok.txt", "text/plain", b"ok")])
    result = ingest_email(raw, now=clock.now)

    assert [a.filename for a in Attachment.objects.filter(case_id=result.case_id)] == ["ok.txt"]
    skipped = CaseEvent.objects.get(pk=result.event_id).data["skipped_attachments"]
    assert skipped == [{"filename": "big.bin", "size": 1001, "reason": "too_large", "limit": 1000}]


def test_attachments_beyond_the_count_cap_are_recorded_as_skipped(default_mailbox, clock, settings):
    settings.PROMISEDESK_INTAKE_MAX_ATTACHMENTS = 1
    raw = mail(attachments=[("a.txt", "text/plain", b"a"), ("b.txt", "text/plain", b"b")])
    result = ingest_email(raw, now=clock.now)
    assert Attachment.objects.filter(case_id=result.case_id).count() == 1
    assert CaseEvent.objects.get(pk=result.event_id).data["skipped_attachments"][0]["reason"] == "too_many"


def test_html_only_mail_becomes_plain_text(default_mailbox, clock):
    html = (
        "<html><head><style>p{color:red}</style><script>alert('x')</script></head>"
        "<body><p>Hello &amp; welcome</p><ul><li>one</li><li>two</li></ul>"
        "<p>See <a href='https://example.com/x'>this</a></p><img src=x onerror=alert(1)></body></html>"
    )
    result = ingest_email(mail(text=None, html=html), now=clock.now)

    note = CaseEvent.objects.get(pk=result.event_id).note
    assert note == "Hello & welcome\n\n- one\n- two\n\nSee this <https://example.com/x>"
    assert "alert" not in note and "color" not in note


def test_a_text_too_long_for_a_note_is_kept_whole_as_a_file(default_mailbox, clock):
    text = "word " * 10_000
    result = ingest_email(mail(text=text), now=clock.now)
    event = CaseEvent.objects.get(pk=result.event_id)
    assert len(event.note) < len(text) and event.note.endswith("[…]")
    whole = Attachment.objects.get(event=event, filename="message.txt")
    assert whole.file.read().decode().strip() == text.strip()


def test_a_chinese_message_makes_a_chinese_speaking_customer(default_mailbox, clock):
    raw = mail(sender="王芳 <wang@example.cn>", subject="宽带坏了", text="今天早上开始就上不了网。")
    result = ingest_email(raw, now=clock.now)
    customer = Case.objects.get(pk=result.case_id).customer
    assert (customer.name, customer.locale) == ("王芳", "zh-Hans")
    assert ingest_email(mail(sender="ann@example.com", message_id="<en@x>"), now=clock.now).case_id
    assert Customer.objects.get(email="ann@example.com").locale == "en"


def test_a_message_that_is_not_email_at_all_is_quarantined(default_mailbox, clock):
    raw = b"\x00\x01\x02 garbage \xff\xfe"
    held = QuarantinedMessage.objects.get(pk=ingest_email(raw, now=clock.now).quarantine_id)
    assert held.reason == "no_sender" and bytes(held.raw) == raw


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    raw=st.one_of(
        st.binary(max_size=1500),
        st.builds(
            lambda head, body: head + b"\r\n\r\n" + body,
            st.sampled_from(
                [
                    b"From: a@example.com\r\nTo: s@example.com",
                    b"From: =?utf-8?b?broken?= <x@y.z>\r\nSubject: =?gb2312?B?zfjC5w==?=",
                    b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=zz",
                    b"From: a@example.com\r\nContent-Type: text/html; charset=utf-8",
                    b"From: <>\r\nAuto-Submitted: no\r\nMessage-ID: <" + b"x" * 300 + b">",
                ]
            ),
            st.binary(max_size=800),
        ),
    )
)
def test_any_bytes_become_a_case_or_a_held_message(default_mailbox, clock, raw):
    result = ingest_email(raw, now=clock.now)
    assert (result.case_id is None) != (result.quarantine_id is None)
    # A duplicate (same Message-ID, sender and body) was kept the first time it came.
    if result.quarantine_id is not None and not result.duplicate:
        assert bytes(held_message(result).raw) == raw
