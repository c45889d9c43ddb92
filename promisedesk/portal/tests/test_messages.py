"""The messages customers get about their case: what they say, in which language and zone, and only once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from promisedesk.cases.actions import do_append_event
from promisedesk.cases.models import Case, CaseEvent
from promisedesk.conftest import make_calendar, make_customer, make_promise, make_service
from promisedesk.notifications import events
from promisedesk.notifications.models import OutboxMessage, WebhookEndpoint

from .conftest import Portal

pytestmark = pytest.mark.django_db


def to_customer(case: Case, **filters: Any) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(case=case, **filters).exclude(channel="webhook").order_by("id"))


def email(case: Case, template: str) -> OutboxMessage:
    return OutboxMessage.objects.get(case=case, event=template, channel="email")


def test_case_received_lists_every_promise_due_in_the_customers_zone_with_the_link(portal: Portal) -> None:
    make_promise(
        portal.api,
        code="visit-1d",
        statement={"en": "We visit within one working day.", "zh-Hans": "一个工作日内上门。"},
        standard={
            "start_on": "case_opened",
            "stop_on": ["arrived"],
            "target": "PT8H",
            "calendar": portal.calendar["id"],
        },
    )
    customer = portal.customer_like(name="Ann", timezone="America/New_York", locale="en")
    case = portal.case(customer)
    message = email(case, "case_received")
    assert message.subject == f"We have received your request (case #{case.pk})"
    assert message.language == "en" and message.recipient == "li@example.com"
    # 14:00 and 18:00 in Shanghai are 01:00 and 05:00 in New York
    assert "- We reply within 4 working hours. (by 2026-03-02 01:00)" in message.body
    assert "- We visit within one working day. (by 2026-03-02 05:00)" in message.body
    assert "Times are in America/New_York time." in message.body
    assert message.body.endswith(f"claim a broken promise here: http://127.0.0.1:8000/c/{case.access_token}/")


def test_case_received_in_chinese_with_the_appointment(portal: Portal) -> None:
    customer = portal.customer_like(name="王芳", locale="zh-Hans")
    case = portal.case(customer, appointment={"start": "2026-03-03T09:00:00+08:00", "end": "2026-03-03T12:00:00+08:00"})
    message = email(case, "case_received")
    assert message.language == "zh-Hans"
    assert message.subject == f"我们已收到您的请求（服务单 #{case.pk}）"
    assert "尊敬的 王芳：" in message.body
    assert "您的预约时间：2026-03-03 09:00–12:00。" in message.body
    assert "- 4个工作小时内答复。 （截止 2026-03-02 14:00）" in message.body
    assert "所列时间均为 Asia/Shanghai 时间。" in message.body
    assert events.case_link(case) in message.body


def test_messages_are_plain_text_never_html_escaped(portal: Portal, staff: Any, clock: Any) -> None:
    customer = portal.customer_like(name="O'Brien & <Sons>", locale="en")
    case = portal.case(customer)
    assert "Dear O'Brien & <Sons>," in email(case, "case_received").body
    do_append_event(case, actor=staff, now=clock.now, type="progress_update", note='Parts "A & B" ordered')
    assert 'Parts "A & B" ordered' in email(case, "case_update").body


def test_sms_carries_the_same_short_body_with_the_link(portal: Portal) -> None:
    case = portal.case()
    sms = OutboxMessage.objects.get(case=case, event="case_received", channel="sms")
    assert sms.recipient == "13800000000" and sms.subject == ""
    assert sms.body == email(case, "case_received").body
    assert events.case_link(case) in sms.body and len(sms.body) < 400


def test_progress_update_is_told_once_per_channel(portal: Portal, staff: Any, clock: Any) -> None:
    case = portal.case()
    clock.advance(hours=1)
    event = do_append_event(case, actor=staff, now=clock.now, type="progress_update", note="Parts ordered")
    messages = to_customer(case, event_key=f"event:{event.pk}")
    assert sorted(m.channel for m in messages) == ["email", "sms"]
    body = messages[0].body
    assert f"News on your case #{case.pk} (2026-03-02 10:00):" in body and "Parts ordered" in body
    assert body.endswith(f"reply to us here: {events.case_link(case)}")
    events.event_recorded(case, event, clock.now)  # told again (a retried action): nothing more is queued
    assert len(to_customer(case, event_key=f"event:{event.pk}")) == 2


def test_internal_notes_and_hidden_entries_are_not_told_to_the_customer(portal: Portal, staff: Any, clock: Any) -> None:
    case = portal.case()
    do_append_event(case, actor=staff, now=clock.now, type="internal_note", note="VIP, be careful")
    do_append_event(case, actor=staff, now=clock.now, type="assigned", note="to the night team")
    do_append_event(case, actor=staff, now=clock.now, type="progress_update", note="hidden", visible_to_customer=False)
    assert [m.event for m in to_customer(case)] == ["case_received", "case_received"]


def test_a_visible_note_from_staff_is_a_message(portal: Portal, staff: Any, clock: Any) -> None:
    case = portal.case()
    do_append_event(
        case, actor=staff, now=clock.now, type="first_response", note="We are on it", visible_to_customer=True
    )
    assert "We are on it" in email(case, "case_update").body


def test_arrival_and_other_stage_moves_name_the_status(portal: Portal, staff: Any, clock: Any) -> None:
    customer = portal.customer_like(name="王芳", locale="zh-Hans")
    case = portal.case(customer)
    do_append_event(case, actor=staff, now=clock.now, type="arrived")
    body = email(case, "case_update").body
    assert "我们的工作人员已到达。" in body and "当前状态：服务交付" in body


def test_appointment_booked_then_moved_with_the_reason(portal: Portal, clock: Any) -> None:
    case = portal.case()
    window = {"start": "2026-03-03T09:00:00+08:00", "end": "2026-03-03T12:00:00+08:00"}
    portal.api.post(f"/cases/{case.pk}/events", {"type": "appointment_scheduled", "data": window})
    booked = email(case, "appointment_changed")
    assert booked.subject == f"Your appointment is booked (case #{case.pk})"
    assert f"Your appointment for case #{case.pk} is booked: 2026-03-03 09:00–12:00." in booked.body
    assert events.case_link(case) in booked.body
    clock.advance(hours=2)
    moved = {"start": "2026-03-04T22:00:00+08:00", "end": "2026-03-05T01:00:00+08:00", "reason": "The engineer is ill"}
    portal.api.post(f"/cases/{case.pk}/events", {"type": "appointment_scheduled", "data": moved})
    message = OutboxMessage.objects.filter(case=case, event="appointment_changed", channel="email").order_by("-id")[0]
    assert message.subject == f"Your appointment has moved (case #{case.pk})"
    assert "Was: 2026-03-03 09:00–12:00" in message.body
    assert "Now: 2026-03-04 22:00 – 2026-03-05 01:00" in message.body
    assert "Why: The engineer is ill" in message.body


def test_appointment_times_are_in_the_customers_zone(portal: Portal) -> None:
    customer = portal.customer_like(name="Ann", timezone="Europe/London", locale="en")
    case = portal.case(customer)
    portal.api.post(
        f"/cases/{case.pk}/events",
        {
            "type": "appointment_scheduled",
            "data": {"start": "2026-03-03T09:00:00+08:00", "end": "2026-03-03T12:00:00+08:00"},
        },
    )
    body = email(case, "appointment_changed").body
    assert "is booked: 2026-03-03 01:00–04:00." in body and "Times are in Europe/London time." in body


def test_a_customer_in_an_unknown_zone_gets_the_sites(portal: Portal) -> None:
    customer = portal.customer_like(name="Ann", locale="en")
    from promisedesk.cases.models import Customer

    Customer.objects.filter(pk=customer["id"]).update(timezone="Mars/Olympus")
    case = portal.case(customer)
    assert "Times are in Asia/Shanghai time." in email(case, "case_received").body


def test_customer_reply_is_not_messaged_back_but_goes_to_webhooks(portal: Portal, client: Client, clock: Any) -> None:
    WebhookEndpoint.objects.create(
        name="crm", url="http://127.0.0.1:9/hook", secret="whsec_" + "A" * 32, created_at=clock.now
    )
    case = portal.case()
    client.post(f"/c/{case.access_token}/reply/", {"key": uuid.uuid4().hex, "text": "Thanks"})
    reply = CaseEvent.objects.get(case=case, type="customer_replied")
    assert not to_customer(case, event_key=f"event:{reply.pk}")
    hook = OutboxMessage.objects.get(event_key=f"event:{reply.pk}", channel="webhook")
    assert hook.event == "case.customer_replied" and '"type": "customer_replied"' in hook.body


def test_claim_acknowledgement_goes_to_webhooks_as_well(portal: Portal, client: Client, clock: Any) -> None:
    from promisedesk.commitments.models import Commitment

    WebhookEndpoint.objects.create(
        name="crm", url="http://127.0.0.1:9/hook", secret="whsec_" + "A" * 32, created_at=clock.now
    )
    case = portal.case()
    clock.advance(hours=6)
    commitment = Commitment.objects.get(case=case)
    client.post(f"/c/{case.access_token}/claim/", {"key": uuid.uuid4().hex, "commitment": commitment.pk})
    ack = email(case, "claim_received")
    assert ack.subject == f"We have received your claim (case #{case.pk})"
    assert "“We reply within 4 working hours.”" in ack.body
    assert "We accept it. We will tell you what you receive as soon as it is settled." in ack.body
    assert events.case_link(case) in ack.body
    assert OutboxMessage.objects.filter(event="case.claim_received", channel="webhook").count() == 1


def test_every_customer_message_carries_the_case_link(portal: Portal, client: Client, staff: Any, clock: Any) -> None:
    case = portal.case(appointment={"start": "2026-03-03T09:00:00+08:00", "end": "2026-03-03T12:00:00+08:00"})
    clock.advance(hours=6)
    claim = {"key": uuid.uuid4().hex, "commitment": case.commitments.get().pk}
    assert client.post(f"/c/{case.access_token}/claim/", claim).status_code == 303
    for kind in ("progress_update", "arrived", "delivered", "resolved", "closed", "reopened"):
        do_append_event(case, actor=staff, now=clock.now, type=kind, note=f"{kind} note")
    portal.api.post(
        f"/cases/{case.pk}/events",
        {
            "type": "appointment_scheduled",
            "data": {"start": "2026-03-05T09:00:00+08:00", "end": "2026-03-05T10:00:00+08:00"},
        },
    )
    portal_templates = {"case_received", "case_update", "appointment_changed", "claim_received"}
    messages = [m for m in to_customer(case) if m.event in portal_templates]
    assert {m.event for m in messages} == portal_templates
    assert len([m for m in messages if m.event == "case_update"]) == 12
    for message in messages:
        assert events.case_link(case) in message.body, message.event


def test_a_stage_change_names_the_stage_and_sub_status_in_the_organisations_words(
    portal: Portal, client: Client, staff: Any, clock: Any
) -> None:
    from promisedesk.cases.actions import do_change_stage, do_set_stage_label

    do_set_stage_label(
        actor=staff,
        now=clock.now,
        stage="delivery",
        label_en="Installation",
        label_zh_hans="安装",
        substatuses=[{"code": "waiting_parts", "label_en": "waiting for parts", "label_zh_hans": "等待配件"}],
    )
    case = portal.case()
    event = do_change_stage(case, actor=staff, now=clock.now, stage="delivery", substatus="waiting_parts")
    assert event is not None
    body = email(case, "case_update").body
    assert "Status: Installation · waiting for parts" in body
    page = client.get(f"/c/{case.access_token}/").content.decode()
    assert "Status changed" in page and "Installation · waiting for parts" in page


def test_a_booking_moved_by_staff_is_told_with_its_reason_once(portal: Portal, staff: Any, clock: Any) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from promisedesk.cases.actions import do_book_appointment

    shanghai = ZoneInfo("Asia/Shanghai")
    case = portal.case(appointment={"start": "2026-03-03T09:00:00+08:00", "end": "2026-03-03T12:00:00+08:00"})
    do_book_appointment(
        case,
        actor=staff,
        now=clock.now,
        start=datetime(2026, 3, 3, 14, tzinfo=shanghai),
        end=datetime(2026, 3, 3, 16, tzinfo=shanghai),
        reason="The van broke down",
    )
    body = email(case, "appointment_changed").body
    assert "Was: 2026-03-03 09:00–12:00" in body and "Now: 2026-03-03 14:00–16:00" in body
    assert body.count("The van broke down") == 1


def test_an_imported_case_from_long_ago_sends_the_customer_nothing(api: Any, clock: Any) -> None:
    # given the promises and customer of an office
    make_calendar(api)
    make_service(api)
    customer = make_customer(api)
    # when a case from two months ago is imported, with its history
    opened = (clock.now - timedelta(days=60)).isoformat()
    response = api.post(
        "/cases", {"external_ref": "legacy-42", "customer": customer["id"], "service": "install", "opened_at": opened}
    )
    assert response.status_code == 201, response.content
    case_id = response.json()["id"]
    api.post(f"/cases/{case_id}/events", {"type": "progress_update", "at": opened, "note": "done long ago"})
    # then the customer is not told old news; a case opened today still is
    assert not OutboxMessage.objects.filter(case_id=case_id).exclude(channel="webhook").exists()
    fresh = api.post("/cases", {"customer": customer["id"], "service": "install"}).json()
    assert OutboxMessage.objects.filter(case_id=fresh["id"], event_key=f"case:{fresh['id']}:received").count() == 2
