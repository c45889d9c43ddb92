"""What the customer does from their page: reply, add information with a file, claim a broken promise."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from promisedesk.breaches.models import Breach
from promisedesk.cases.actions import do_append_event
from promisedesk.cases.models import Attachment, Case, CaseEvent
from promisedesk.commitments.models import Commitment
from promisedesk.conftest import make_promise
from promisedesk.notifications.models import OutboxMessage
from promisedesk.portal import rules
from promisedesk.portal.models import CustomerSubmission

from .conftest import Portal, link
from .test_page import text_of

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def key() -> str:
    return uuid.uuid4().hex


def post(client: Client, case: Case, what: str, **data: Any) -> Any:
    return client.post(f"/c/{case.access_token}/{what}/", {"key": key(), "lang": "en", **data})


def customer_entries(case: Case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, type="customer_replied").order_by("id"))


# --- reply -----------------------------------------------------------------------------------------


def test_reply_records_a_visible_entry_by_the_customer(portal: Portal, client: Client, clock: Any) -> None:
    case = portal.case()
    response = post(client, case, "reply", text="Please come after 18:00")
    assert response.status_code == 303
    assert response["Location"] == f"/c/{case.access_token}/?lang=en&done=reply#updates"
    assert response["Referrer-Policy"] == "no-referrer" and "no-store" in response["Cache-Control"]
    (entry,) = customer_entries(case)
    assert entry.visible_to_customer and entry.actor is None and not entry.system
    assert entry.note == "Please come after 18:00"
    assert entry.data == {"by": "customer", "via": "portal", "kind": "reply"}
    page = text_of(client.get(response["Location"]))
    assert "Thank you. Your message is on your case" in page
    assert re.search(r"You wrote 2026-03-02 09:00 Please come after 18:00", page)


def test_reply_sent_twice_with_the_same_form_is_one_entry(portal: Portal, client: Client) -> None:
    case = portal.case()
    form = {"key": key(), "text": "Hello?"}
    first = client.post(f"/c/{case.access_token}/reply/", form)
    second = client.post(f"/c/{case.access_token}/reply/", form)
    assert first.status_code == second.status_code == 303
    assert len(customer_entries(case)) == 1
    assert CustomerSubmission.objects.filter(case=case).count() == 1


def test_reply_with_script_is_stored_as_typed_and_shown_escaped(portal: Portal, client: Client, staff: Any) -> None:
    case = portal.case()
    typed = '<script>alert("x")</script><img src=x onerror=alert(1)> & more'
    post(client, case, "reply", text=typed)
    assert customer_entries(case)[0].note == typed  # stored as typed, escaped wherever it is shown
    body = client.get(link(case)).content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; more" in body
    desk = Client()
    desk.force_login(staff)
    staff_page = desk.get(f"/desk/cases/{case.pk}/").content.decode()
    assert "<script>alert" not in staff_page and "&lt;script&gt;alert" in staff_page


def test_reply_drops_control_and_direction_override_characters(portal: Portal, client: Client) -> None:
    case = portal.case()
    post(client, case, "reply", text="  pay\u202e001 ok\x07\r\nbye  ")
    assert customer_entries(case)[0].note == "pay001 ok\nbye"


def test_reply_without_the_csrf_token_is_refused(portal: Portal) -> None:
    case = portal.case()
    strict = Client(enforce_csrf_checks=True)
    assert post(strict, case, "reply", text="hi").status_code == 403
    assert post(strict, case, "information", text="hi").status_code == 403
    assert post(strict, case, "claim", commitment="1").status_code == 403
    assert not customer_entries(case)


def test_reply_with_the_pages_csrf_token_goes_through(portal: Portal) -> None:
    case = portal.case()
    strict = Client(enforce_csrf_checks=True)
    page = strict.get(link(case)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    response = post(strict, case, "reply", text="hi", csrfmiddlewaretoken=token.group(1))
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "This field is required."),
        ("   ", "Write a message, or attach a file."),
        ("x" * 4001, "Ensure this value has at most 4000 characters"),
        ("\u202e\x07", "Write a message, or attach a file."),
    ],
)
def test_reply_shows_what_is_wrong_and_keeps_nothing(portal: Portal, client: Client, text: str, message: str) -> None:
    case = portal.case()
    response = post(client, case, "reply", text=text)
    assert response.status_code == 400
    assert message in text_of(response)
    assert not customer_entries(case) and not CustomerSubmission.objects.exists()


def test_reply_on_a_closed_case_reopens_it(portal: Portal, client: Client, clock: Any) -> None:
    case = portal.case()
    portal.api.post(f"/cases/{case.pk}/events", {"type": "closed"})
    assert "This case is closed. Writing to us reopens it." in text_of(client.get(link(case)))
    clock.advance(days=3)
    post(client, case, "reply", text="The router broke again")
    case.refresh_from_db()
    assert case.stage == "delivery"
    reopened = CaseEvent.objects.get(case=case, type="reopened")
    assert reopened.data == {"by": "customer"} and reopened.visible_to_customer and reopened.actor is None
    assert "Case reopened" in text_of(client.get(link(case)))
    # what the customer did themselves is not messaged back to them
    assert not OutboxMessage.objects.filter(case=case, event_key=f"event:{reopened.pk}").exclude(channel="webhook")


def test_reply_resumes_a_clock_paused_while_waiting_for_the_customer(
    portal: Portal, client: Client, clock: Any
) -> None:
    make_promise(
        portal.api,
        code="fix-8h",
        statement={"en": "Fixed within 8 working hours."},
        standard={
            "start_on": "case_opened",
            "stop_on": ["resolved"],
            "pause_on": ["customer_waiting"],
            "resume_on": ["customer_replied"],
            "target": "PT8H",
            "calendar": portal.calendar["id"],
        },
    )
    case = portal.case()
    clock.advance(hours=1)
    portal.api.post(f"/cases/{case.pk}/events", {"type": "customer_waiting"})
    clock.advance(hours=2)
    post(client, case, "reply", text="Here is the serial number")
    commitment = Commitment.objects.get(case=case, promise_code="fix-8h")
    assert commitment.state == "running"
    assert "Due by 2026-03-03 11:00" in text_of(client.get(link(case)))  # 1 h used, 7 h from 12:00 (lunch 12-13)


def test_reply_is_paced_per_case(portal: Portal, client: Client, clock: Any) -> None:
    case = portal.case()
    for n in range(rules.PACE_COUNT):
        assert post(client, case, "reply", text=f"message {n}").status_code == 303
    refused = post(client, case, "reply", text="one too many")
    assert refused.status_code == 429
    assert "Please wait a few minutes" in text_of(refused)
    clock.advance(minutes=16)
    assert post(client, case, "reply", text="later").status_code == 303
    assert len(customer_entries(case)) == rules.PACE_COUNT + 1


def test_posts_are_limited_per_address(portal: Portal, client: Client, monkeypatch: Any) -> None:
    monkeypatch.setattr(rules, "IP_RATE", "2/h")
    first, second = portal.case(), portal.case()
    assert post(client, first, "reply", text="a").status_code == 303
    assert post(client, second, "reply", text="b").status_code == 303
    assert post(client, first, "reply", text="c").status_code == 429
    other_address = Client(REMOTE_ADDR="10.0.0.9")
    assert post(other_address, first, "reply", text="d").status_code == 303


def test_forms_on_an_unknown_token_are_404(portal: Portal, client: Client) -> None:
    for what in ("reply", "information", "claim"):
        response = client.post(f"/c/{'x' * 43}/{what}/", {"key": key(), "text": "hi", "commitment": "1"})
        assert response.status_code == 404 and response.content == b"Not found."


# --- add information ---------------------------------------------------------------------------------


def test_information_with_a_photo_is_stored_and_downloadable_by_its_customer(
    portal: Portal, client: Client, media: Any
) -> None:
    case = portal.case()
    photo = SimpleUploadedFile("客厅 router.PNG", PNG, content_type="text/html")  # the browser's word is ignored
    response = post(client, case, "information", text="The light is red", file=photo)
    assert response.status_code == 303 and response["Location"].endswith("done=information#updates")
    (entry,) = customer_entries(case)
    assert entry.data["kind"] == "information" and entry.note == "The light is red"
    (attachment,) = Attachment.objects.filter(case=case)
    assert attachment.event == entry and attachment.filename == "客厅 router.PNG"
    assert attachment.content_type == "image/png" and attachment.size == len(PNG)
    assert attachment.sha256 == hashlib.sha256(PNG).hexdigest()
    assert "客厅" not in attachment.file.name and attachment.file.name.endswith(".png")
    page = client.get(link(case))
    assert f'href="/c/{case.access_token}/files/{attachment.pk}/"' in page.content.decode()
    assert re.search(r"You added information .* The light is red 客厅 router\.PNG", text_of(page))

    download = client.get(f"/c/{case.access_token}/files/{attachment.pk}/")
    assert download.status_code == 200
    assert download.getvalue() == PNG
    assert download["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E5%AE%A2%E5%8E%85%20router.PNG" in download["Content-Disposition"]
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Referrer-Policy"] == "no-referrer" and "no-store" in download["Cache-Control"]


def test_information_may_be_a_file_alone(portal: Portal, client: Client) -> None:
    case = portal.case()
    post(client, case, "information", file=SimpleUploadedFile("receipt.pdf", PDF))
    assert customer_entries(case)[0].note == "" and Attachment.objects.get(case=case).content_type == "application/pdf"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("drawing.svg", b"<svg onload=alert(1)></svg>"),
        ("setup.exe", b"MZ\x90\x00"),
        ("photo.png", b"<html><script>alert(1)</script></html>"),  # the name lies about the content
        ("notes.txt", b"\xff\xfe\x00\x00binary"),
        ("noextension", PNG),
        ("empty.png", b""),
    ],
)
def test_information_refuses_files_that_are_not_photos_pdfs_or_text(
    portal: Portal, client: Client, name: str, content: bytes
) -> None:
    case = portal.case()
    response = post(client, case, "information", text="see file", file=SimpleUploadedFile(name, content))
    assert response.status_code == 400
    assert "That kind of file is not accepted" in text_of(response)
    assert "see file" in response.content.decode()  # what was typed is kept for another try
    assert not Attachment.objects.exists() and not customer_entries(case)


def test_information_refuses_a_file_over_the_size_limit(portal: Portal, client: Client, settings: Any) -> None:
    settings.PROMISEDESK_PORTAL_MAX_UPLOAD = 1000
    case = portal.case()
    response = post(client, case, "information", text="big", file=SimpleUploadedFile("big.png", PNG + b"\x00" * 2000))
    assert response.status_code == 413
    assert "The file is too large: at most 1 KB." in text_of(response)
    assert not Attachment.objects.exists() and not customer_entries(case)
    assert post(client, case, "information", file=SimpleUploadedFile("ok.png", PNG)).status_code == 303


def test_information_refuses_a_body_announced_too_large_without_reading_it(
    portal: Portal, client: Client, settings: Any
) -> None:
    settings.PROMISEDESK_PORTAL_MAX_UPLOAD = 1000
    case = portal.case()
    response = client.generic(
        "POST",
        f"/c/{case.access_token}/information/",
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(10**9),
    )
    assert response.status_code == 413
    assert "The file is too large" in text_of(response)
    assert not hasattr(response.wsgi_request, "_post")  # the body was never parsed


def test_attachments_are_only_downloadable_through_their_own_case(
    portal: Portal, client: Client, staff: Any, clock: Any
) -> None:
    mine, theirs = portal.case(), portal.case()
    post(client, theirs, "information", file=SimpleUploadedFile("their.png", PNG))
    their_file = Attachment.objects.get(case=theirs)
    assert client.get(f"/c/{mine.access_token}/files/{their_file.pk}/").status_code == 404
    assert client.get(f"/c/{theirs.access_token}/files/{their_file.pk}/").status_code == 200
    # a file staff keep on an internal note is not the customer's to download
    note = do_append_event(mine, actor=staff, now=clock.now, type="internal_note", note="scan of the contract")
    from django.core.files.base import ContentFile

    internal = Attachment(
        case=mine,
        event=note,
        filename="contract.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        uploaded_at=clock.now,
    )
    internal.file.save("contract.pdf", ContentFile(PDF), save=True)
    assert client.get(f"/c/{mine.access_token}/files/{internal.pk}/").status_code == 404
    assert "contract.pdf" not in client.get(link(mine)).content.decode()
    assert client.get(f"/c/{mine.access_token}/files/{2**70}/").status_code == 404


# --- claims ------------------------------------------------------------------------------------------


def reply_promise(case: Case) -> Commitment:
    return Commitment.objects.get(case=case, promise_code="reply-4h")


def test_claim_on_a_promise_past_its_due_time_is_one_claim_and_acknowledged(
    portal: Portal, client: Client, clock: Any
) -> None:
    case = portal.case()
    clock.advance(hours=6)  # 15:00: the 4-hour reply was due at 14:00
    page = client.get(link(case))
    assert "Claim: this promise was not kept" in text_of(page)
    form = {"key": key(), "commitment": str(reply_promise(case).pk), "text": "Nobody called"}
    first = client.post(f"/c/{case.access_token}/claim/", form)
    again = client.post(f"/c/{case.access_token}/claim/", form)
    assert first.status_code == again.status_code == 303
    assert first["Location"].endswith("done=claim#claims")
    (breach,) = Breach.objects.filter(case=case)
    assert breach.source == "claim" and breach.description == "Nobody called"
    assert breach.idempotency_key and breach.idempotency_key.startswith(f"portal:{case.pk}:")
    acks = OutboxMessage.objects.filter(event_key=f"breach:{breach.pk}:claim_received")
    assert sorted(acks.values_list("channel", flat=True)) == ["email", "sms"]
    after = text_of(client.get(first["Location"]))
    assert "We have received your claim" in after
    assert re.search(r"We reply within 4 working hours\. Your claim · 2026-03-02 15:00 Nobody called", after)
    assert "Claim: this promise was not kept" not in after  # claimed once, shown with its status instead


def test_claim_on_a_promise_not_yet_due_is_refused_with_the_reason(portal: Portal, client: Client) -> None:
    case = portal.case()
    response = post(client, case, "claim", commitment=str(reply_promise(case).pk))
    assert response.status_code == 400
    assert "This promise is not due yet. If it is not kept by its due time, you can claim it." in text_of(response)
    assert not Breach.objects.exists()


def test_claim_on_a_promise_of_another_case_is_refused(portal: Portal, client: Client, clock: Any) -> None:
    mine, theirs = portal.case(), portal.case()
    clock.advance(hours=6)
    response = post(client, mine, "claim", commitment=str(reply_promise(theirs).pk))
    assert response.status_code == 400
    assert "That promise does not apply to your case, so it cannot be claimed." in text_of(response)
    response = post(client, mine, "claim", commitment=str(2**70))
    assert response.status_code == 400
    assert not Breach.objects.exists()


def test_claim_on_a_kept_promise_is_refused(portal: Portal, client: Client, clock: Any) -> None:
    case = portal.case()
    portal.api.post(f"/cases/{case.pk}/events", {"type": "first_response"})
    clock.advance(hours=6)
    response = post(client, case, "claim", commitment=str(reply_promise(case).pk))
    assert response.status_code == 400
    assert "We kept this promise on time, so there is nothing to claim." in text_of(response)


def test_claim_on_a_quality_promise_may_be_made_at_once_and_waits_for_a_check(portal: Portal, client: Client) -> None:
    make_promise(
        portal.api,
        code="satisfied",
        kind="quality",
        statement={"en": "100% satisfied or your money back."},
        standard={},
        liability={"kind": "refund", "percent_of_price": "100", "verification_required": True, "automatic": False},
    )
    case = portal.case()
    satisfied = Commitment.objects.get(case=case, promise_code="satisfied")
    page = text_of(client.get(link(case)))
    assert "If we do not keep it: a refund worth 68.00 CNY (once we have checked what happened)" in page
    assert post(client, case, "claim", commitment=str(satisfied.pk), text="Still noisy").status_code == 303
    breach = Breach.objects.get(case=case)
    assert breach.status == "suspected"
    ack = OutboxMessage.objects.get(event_key=f"breach:{breach.pk}:claim_received", channel="email")
    assert "We will check what happened and tell you the outcome." in ack.body
    assert "We are looking into it" in text_of(client.get(link(case)))


def test_claim_made_again_after_a_rejection_is_refused(portal: Portal, client: Client, staff: Any, clock: Any) -> None:
    from promisedesk.breaches.actions import do_verify_breach

    make_promise(
        portal.api,
        code="courtesy",
        kind="behaviour",
        standard={},
        statement={"en": "Polite crew."},
        liability={"kind": "voucher", "amount": "10", "currency": "CNY", "verification_required": True},
    )
    case = portal.case()
    courtesy = Commitment.objects.get(case=case, promise_code="courtesy")
    post(client, case, "claim", commitment=str(courtesy.pk), text="Rude")
    do_verify_breach(Breach.objects.get(case=case), actor=staff, now=clock.now, verdict="rejected", note="Polite")
    response = post(client, case, "claim", commitment=str(courtesy.pk), text="Rude!")
    assert response.status_code == 409
    assert "did not accept it" in text_of(response)
    assert Breach.objects.filter(case=case).count() == 1


def test_claim_already_recorded_by_the_clock_is_refused(portal: Portal, client: Client, clock: Any) -> None:
    from promisedesk.commitments.sweeper import sweep

    case = portal.case()
    clock.advance(hours=6)
    sweep(clock.now)
    response = post(client, case, "claim", commitment=str(reply_promise(case).pk))
    assert response.status_code == 409
    assert "already recorded as not kept" in text_of(response)
    assert Breach.objects.filter(case=case).count() == 1


def test_files_staff_send_with_an_update_are_downloadable_those_on_internal_notes_not(
    portal: Portal, client: Client, staff: Any, clock: Any
) -> None:
    from promisedesk.cases.actions import do_add_note

    case = portal.case()
    quote = SimpleUploadedFile("quote.pdf", PDF, content_type="application/pdf")
    do_add_note(case, actor=staff, now=clock.now, text="Here is our quote", to_customer=True, uploads=[quote])
    secret = SimpleUploadedFile("notes.pdf", PDF, content_type="application/pdf")
    do_add_note(case, actor=staff, now=clock.now, text="Margin is thin", to_customer=False, uploads=[secret])
    shared = Attachment.objects.get(case=case, filename="quote.pdf")
    internal = Attachment.objects.get(case=case, filename="notes.pdf")
    page = client.get(link(case)).content.decode()
    assert "quote.pdf" in page and "notes.pdf" not in page and "Margin is thin" not in page
    assert client.get(f"/c/{case.access_token}/files/{shared.pk}/").status_code == 200
    assert client.get(f"/c/{case.access_token}/files/{internal.pk}/").status_code == 404


def test_a_refused_form_answers_in_the_language_the_page_was_in(portal: Portal, client: Client) -> None:
    case = portal.case(portal.customer_like(name="王芳", locale="zh-Hans"))
    chinese = client.post(f"/c/{case.access_token}/reply/", {"key": key(), "text": ""})
    assert chinese.status_code == 400 and "这个字段是必填项。" in text_of(chinese)
    english = client.post(f"/c/{case.access_token}/reply/", {"key": key(), "text": "", "lang": "en"})
    assert english.status_code == 400 and "This field is required." in text_of(english)
    assert '<input type="hidden" name="lang" value="en">' in english.content.decode()


def test_one_form_key_used_for_a_reply_and_then_a_claim_is_refused_not_a_server_error(
    portal: Portal, client: Client, clock: Any
) -> None:
    # given a reply sent with a key
    case = portal.case()
    clock.advance(hours=6)
    used = key()
    assert client.post(f"/c/{case.access_token}/reply/", {"key": used, "text": "Hello"}).status_code == 303
    # when the same key comes with the claim form
    response = client.post(f"/c/{case.access_token}/claim/", {"key": used, "commitment": str(reply_promise(case).pk)})
    # then it is refused and no claim is recorded
    assert response.status_code == 409
    assert not Breach.objects.filter(case=case, source="claim").exists()  # the clock's own breach stands
