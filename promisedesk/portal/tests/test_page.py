"""The customer's case page: what it shows, to whom, in which language and time zone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from promisedesk.breaches.actions import do_report_breach, do_verify_breach
from promisedesk.cases.actions import do_append_event
from promisedesk.cases.models import Case, StageLabel
from promisedesk.commitments.models import Commitment
from promisedesk.conftest import make_promise

from .conftest import Portal, link

pytestmark = pytest.mark.django_db


def text_of(response: Any) -> str:
    """The page's visible text, roughly: tags out, whitespace squeezed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_case_page_shows_status_service_and_promise_due_in_the_customers_zone(
    portal: Portal, client: Client, clock: Any
) -> None:
    # given a customer in London; the promise is due at 14:00 in Shanghai, 06:00 in London
    customer = portal.customer_like(name="Ann", timezone="Europe/London", locale="en")
    case = portal.case(customer)
    clock.advance(hours=1)
    # when
    response = client.get(link(case))
    # then
    assert response.status_code == 200
    page = text_of(response)
    assert f"Your case #{case.pk}" in page
    assert "Install" in page and "need identification" in page
    assert "We reply within 4 working hours." in page
    assert "Due by 2026-03-02 06:00" in page
    assert "Times are in Europe/London time." in page
    assert "Time left 4:00:00" in page
    assert 'data-due="2026-03-02T06:00:00+00:00"' in response.content.decode()
    assert "a voucher worth 20.00 CNY" in page


def test_case_page_answers_a_plain_404_for_an_unknown_token(portal: Portal, client: Client) -> None:
    case = portal.case()
    for token in ("x" * 43, case.access_token[:-1] + ("A" if case.access_token[-1] != "A" else "B"), "short", "%00"):
        response = client.get(f"/c/{token}/")
        assert response.status_code == 404
        assert response.content == b"Not found."
        assert response["Referrer-Policy"] == "no-referrer"


def test_case_page_is_private_never_cached_indexed_or_leaked_as_referrer(portal: Portal, client: Client) -> None:
    response = client.get(link(portal.case()))
    # no other site is told the link; "no-referrer" would make the page's own posts fail CSRF (Origin: null)
    assert response["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"


def test_case_page_speaks_the_customers_language_with_a_switch(portal: Portal, client: Client) -> None:
    customer = portal.customer_like(name="王芳", locale="zh-Hans")
    case = portal.case(customer)
    chinese = client.get(link(case), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="zh-hans">' in chinese.content.decode()
    assert chinese["Content-Language"] == "zh-hans"
    page = text_of(chinese)
    assert f"您的服务单 #{case.pk}" in page and "我们对您的承诺" in page and "4个工作小时内答复。" in page
    assert "需求识别" in page and "剩余时间" in page
    assert 'href="?lang=en"' in chinese.content.decode()
    english = text_of(client.get(link(case, lang="en")))
    assert f"Your case #{case.pk}" in english and "We reply within 4 working hours." in english


def test_case_page_never_shows_another_cases_data(portal: Portal, client: Client, clock: Any) -> None:
    mine = portal.case()
    other_customer = portal.customer_like(name="Zhang Wei", email="zhang@example.com")
    theirs = portal.case(other_customer, summary="Zhang's router")
    do_append_event(theirs, actor=None, now=clock.now, type="progress_update", note="Zhang's parcel left the depot")
    response = client.get(link(mine))
    body = response.content.decode()
    assert "Zhang" not in body and theirs.access_token not in body
    assert f"#{theirs.pk}" not in text_of(response)


def test_case_page_hides_internal_notes_and_system_entries(
    portal: Portal, client: Client, staff: Any, clock: Any
) -> None:
    case = portal.case()
    do_append_event(case, actor=staff, now=clock.now, type="internal_note", note="Customer sounds annoyed, VIP")
    do_append_event(
        case, actor=staff, now=clock.now, type="progress_update", note="Hidden progress", visible_to_customer=False
    )
    do_append_event(case, actor=staff, now=clock.now, type="progress_update", note="The engineer is on the way")
    do_report_breach(
        actor=staff,
        now=clock.now,
        case=case,
        source="report",
        description="Staff-only suspicion",
        promise_code="reply-4h",
    )
    page = text_of(client.get(link(case)))
    assert "The engineer is on the way" in page
    for secret in ("annoyed", "Hidden progress", "Staff-only suspicion", "internal_note", "breach reported"):
        assert secret not in page, secret


def test_case_page_shows_an_oral_promise_with_its_countdown(
    portal: Portal, client: Client, staff: Any, clock: Any
) -> None:
    from datetime import timedelta

    from promisedesk.cases.actions import do_record_oral_commitment

    case = portal.case()
    do_record_oral_commitment(
        case,
        actor=staff,
        now=clock.now,
        statement="Open the pool at 6 and call you back",
        owner=None,
        target=timedelta(minutes=30),
    )
    response = client.get(link(case))
    page = text_of(response)
    assert "Open the pool at 6 and call you back" in page
    assert "Promised to you by our staff" in page
    assert "Due by 2026-03-02 09:30" in page and "Time left 0:30:00" in page


def test_case_page_shows_paused_kept_and_broken_promises_plainly(portal: Portal, client: Client, clock: Any) -> None:
    api = portal.api
    make_promise(
        api,
        code="visit-2d",
        title="Visit",
        statement={"en": "We visit within 2 working days.", "zh-Hans": "两个工作日内上门。"},
        standard={
            "start_on": "case_opened",
            "stop_on": ["arrived"],
            "pause_on": ["customer_waiting"],
            "resume_on": ["customer_replied"],
            "target": "PT16H",
            "calendar": portal.calendar["id"],
        },
    )
    make_promise(
        api,
        code="call-1h",
        title="Call",
        statement={"en": "We call you within an hour.", "zh-Hans": "一小时内致电。"},
        standard={"start_on": "case_opened", "stop_on": ["first_response"], "target": "PT1H"},
    )
    case = portal.case()
    clock.advance(minutes=30)
    api.post(f"/cases/{case.pk}/events", {"type": "customer_waiting"})
    clock.advance(minutes=20)
    api.post(f"/cases/{case.pk}/events", {"type": "first_response"})  # the call and the reply, both at 09:50
    page = text_of(client.get(link(case)))
    assert re.search(r"We visit within 2 working days\. On hold 15 h 30 min of working time left", page)
    assert re.search(r"We call you within an hour\. Kept 2026-03-02 09:50", page)
    clock.advance(hours=5)  # 14:50
    make_promise(
        api,
        code="cb-15m",
        title="cb",
        statement={"en": "Call back in 15 minutes."},
        standard={"start_on": "case_opened", "stop_on": ["delivered"], "target": "PT15M"},
    )
    late = portal.case()
    clock.advance(minutes=20)
    page = text_of(client.get(link(late)))
    assert re.search(r"Call back in 15 minutes\. Not kept by its due time 2026-03-02 15:05 .*Overdue by 0:05:00", page)
    from promisedesk.commitments.sweeper import sweep

    sweep(clock.now)
    page = text_of(client.get(link(late)))
    assert re.search(r"Call back in 15 minutes\. Not kept was due by 2026-03-02 15:05", page)
    assert "Found by our own clock" in page and "Confirmed: we did not keep this promise" in page


def test_case_page_shows_claims_and_compensations_with_their_status(
    portal: Portal, client: Client, staff: Any, clock: Any
) -> None:
    from promisedesk.breaches.models import RootCause
    from promisedesk.breaches.tests.conftest import allow

    RootCause.objects.create(code="staffing", name_en="Not enough staff", name_zh="人手不足")
    allow("automatic", "10")  # 2 × 68 waits for a person
    make_promise(
        portal.api,
        code="courtesy",
        kind="behaviour",
        title="Courtesy",
        statement={"en": "Our crew are polite.", "zh-Hans": "我们的乘务员礼貌待客。"},
        standard={},
        liability={"kind": "cash", "multiple_of_price": "2", "verification_required": True, "automatic": True},
    )
    case = portal.case()
    breach, _ = do_report_breach(
        actor=None, now=clock.now, case=case, source="claim", description="The driver shouted", promise_code="courtesy"
    )
    page = text_of(client.get(link(case)))
    assert "Claims and compensation" in page
    assert re.search(
        r"Our crew are polite\. Your claim · 2026-03-02 09:00 The driver shouted We are looking into it", page
    )
    do_verify_breach(breach, actor=staff, now=clock.now, verdict="verified", root_cause="staffing", note="dashcam")
    page = text_of(client.get(link(case)))
    assert "Confirmed: we did not keep this promise" in page
    assert "cash · 136.00 CNY — being prepared" in page
    assert "dashcam" not in page  # the verdict's note is the staff's, not the customer's


def test_case_page_shows_a_rejected_claim_with_its_reason(
    portal: Portal, client: Client, staff: Any, clock: Any
) -> None:
    make_promise(
        portal.api,
        code="courtesy",
        kind="behaviour",
        standard={},
        statement={"en": "Our crew are polite."},
        liability={"kind": "voucher", "amount": "10", "currency": "CNY", "verification_required": True},
    )
    case = portal.case()
    breach, _ = do_report_breach(
        actor=None, now=clock.now, case=case, source="claim", description="Rude", promise_code="courtesy"
    )
    do_verify_breach(breach, actor=staff, now=clock.now, verdict="rejected", note="The recording shows a polite driver")
    page = text_of(client.get(link(case)))
    assert "Not accepted Our reason: The recording shows a polite driver" in page
    assert "We looked into your claim on this promise and did not accept it." in page


def test_case_page_shows_the_appointment_window_and_its_moves(portal: Portal, client: Client, clock: Any) -> None:
    case = portal.case(appointment={"start": "2026-03-03T09:00:00+08:00", "end": "2026-03-03T12:00:00+08:00"})
    portal.api.post(
        f"/cases/{case.pk}/events",
        {
            "type": "appointment_scheduled",
            "data": {
                "start": "2026-03-04T14:00:00+08:00",
                "end": "2026-03-04T16:00:00+08:00",
                "reason": "Engineer ill",
            },
        },
    )
    page = text_of(client.get(link(case)))
    assert "Appointment 2026-03-04 14:00–16:00" in page
    assert "Appointment moved" in page and "2026-03-03 09:00–12:00 → 2026-03-04 14:00–16:00" in page
    assert "Why: Engineer ill" in page
    assert "Appointment booked" in page


def test_case_page_names_the_stage_with_the_organisations_label_when_there_is_one(
    portal: Portal, client: Client
) -> None:
    case = portal.case()
    label = StageLabel.objects.create(stage="need_identification", label_en="Getting ready (en)")
    assert "Getting ready (en)" in text_of(client.get(link(case)))
    label.delete()
    assert "need identification" in text_of(client.get(link(case)))


def test_case_page_query_count_is_fixed(
    portal: Portal, client: Client, staff: Any, clock: Any, django_assert_max_num_queries: Any
) -> None:
    case = portal.case()
    client.get(link(case))  # warm up: the session and the content types
    with django_assert_max_num_queries(8) as few:
        client.get(link(case))
    small = len(few)
    for n in range(15):
        do_append_event(case, actor=staff, now=clock.now, type="progress_update", note=f"step {n}")
    for n in range(3):
        make_promise(portal.api, code=f"extra-{n}", kind="behaviour", standard={}, statement={"en": f"Extra {n}"})
    bigger = portal.case()
    for n in range(15):
        do_append_event(bigger, actor=staff, now=clock.now, type="progress_update", note=f"step {n}")
    assert Commitment.objects.filter(case=bigger).count() == 4
    with django_assert_max_num_queries(small):
        client.get(link(bigger))


def test_case_page_refuses_other_methods(portal: Portal, client: Client) -> None:
    case: Case = portal.case()
    assert client.post(link(case)).status_code == 405
    assert client.get(f"/c/{case.access_token}/reply/").status_code == 405
