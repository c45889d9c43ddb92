"""POST /hooks/<code>/: chat and social-media tools, signed the Standard Webhooks way."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.test import Client
from standardwebhooks.webhooks import Webhook

from promisedesk.cases.actions import do_append_event
from promisedesk.cases.models import Case, CaseEvent, Customer
from promisedesk.intake.actions import do_create_source
from promisedesk.intake.models import WebhookSource
from promisedesk.notifications.events import case_link

pytestmark = pytest.mark.django_db

FIRST = {
    "type": "message",
    "conversation": "conv-1",
    "customer": {"external_ref": "u-42", "name": "Zhang Wei", "phone": "13900000000", "locale": "zh-CN"},
    "text": "你好，我家的宽带断了。",
}


@pytest.fixture
def source(service: Any, clock: Any) -> WebhookSource:
    return do_create_source(actor=None, now=clock.now, code="wechat", name="WeChat", default_service="install")


class Sender:
    """A chat tool: signs each body with the source's secret, as the standardwebhooks library does."""

    def __init__(self, source: WebhookSource, clock: Any):
        self.source, self.clock = source, clock
        self.client = Client(enforce_csrf_checks=True)  # webhooks must not need a CSRF token
        self.sent = 0

    def headers(self, body: str, webhook_id: str, at: Any = None, secret: str | None = None) -> dict[str, str]:
        # The library's sign() takes the datetime's wall time as UTC: give it UTC.
        moment = (at or self.clock.now).astimezone(UTC)
        signature = Webhook(secret or self.source.secret).sign(webhook_id, moment, body)
        return {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": signature,
        }

    def post(self, payload: Any, *, webhook_id: str | None = None, code: str = "wechat", **kwargs: Any) -> Any:
        self.sent += 1
        body = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        headers = kwargs.pop("headers", None) or self.headers(body, webhook_id or f"msg_{self.sent}", **kwargs)
        return self.client.post(f"/hooks/{code}/", data=body, content_type="application/json", headers=headers)


@pytest.fixture
def sender(source: WebhookSource, clock: Any) -> Sender:
    return Sender(source, clock)


def _error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    return body["error"]


def test_the_first_message_of_a_conversation_opens_a_case(sender, clock):
    response = sender.post(FIRST)

    assert response.status_code == 201, response.content
    case = Case.objects.select_related("customer").get()
    assert (case.external_ref, case.channel, case.service.code) == ("wechat:conv-1", "chat", "install")
    assert (case.customer.name, case.customer.external_ref, case.customer.locale) == (
        "Zhang Wei",
        "hook:wechat:u-42",
        "zh-Hans",
    )
    event = CaseEvent.objects.get(case=case, type="customer_request")
    assert event.note == FIRST["text"] and event.visible_to_customer
    assert event.data == {"channel": "chat", "source": "wechat", "conversation": "conv-1", "webhook_id": "msg_1"}
    assert response.json() == {
        "case": case.pk,
        "event": event.pk,
        "created": True,
        "duplicate": False,
        "link": case_link(case),
    }
    assert "Set-Cookie" not in response.headers and not response.cookies  # no session


def test_later_messages_of_the_conversation_are_replies(sender, clock):
    sender.post(FIRST)
    clock.advance(minutes=3)
    response = sender.post(FIRST | {"text": "还在吗？"})

    assert response.status_code == 200 and response.json()["created"] is False
    assert Case.objects.count() == 1 and Customer.objects.count() == 1
    reply = CaseEvent.objects.get(type="customer_replied")
    assert (reply.note, reply.at, reply.visible_to_customer) == ("还在吗？", clock.now, True)


def test_a_complaint_message_opens_a_complaint_and_its_replies_thread_into_it(sender, clock):
    from promisedesk.complaints.models import Complaint

    response = sender.post(FIRST | {"complaint": True, "text": "工程师迟到两小时，还弄脏了地毯。"})

    assert response.status_code == 201, response.content
    complaint = Complaint.objects.select_related("case").get()
    assert (complaint.case.kind, complaint.case.channel, complaint.case.external_ref) == (
        "complaint",
        "chat",
        "wechat:conv-1",
    )
    assert complaint.account == "工程师迟到两小时，还弄脏了地毯。" and response.json()["case"] == complaint.case_id
    clock.advance(minutes=3)
    sender.post(FIRST | {"text": "有人吗？"}, webhook_id="msg_2")
    assert CaseEvent.objects.get(type="customer_replied").case_id == complaint.case_id
    assert Case.objects.count() == 1


def test_an_event_payload_appends_that_event(sender, clock):
    sender.post(FIRST)
    response = sender.post(
        {"type": "event", "conversation": "conv-1", "event": "customer_rated", "note": "5 stars", "data": {"stars": 5}}
    )
    assert response.status_code == 200, response.content
    event = CaseEvent.objects.get(type="customer_rated")
    assert (event.note, event.data["stars"], event.data["source"]) == ("5 stars", 5, "wechat")


def test_a_redelivery_of_the_same_webhook_id_is_answered_not_repeated(sender, clock):
    first = sender.post(FIRST, webhook_id="msg_same")
    again = sender.post(FIRST, webhook_id="msg_same")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() | {"duplicate": True}
    assert CaseEvent.objects.filter(type__in=["customer_request", "customer_replied"]).count() == 1


def test_a_social_source_opens_social_cases_for_its_own_service(service, other_service, clock):
    social = do_create_source(
        actor=None, now=clock.now, code="weibo", name="Weibo", default_service="billing", channel="social"
    )
    response = Sender(social, clock).post(FIRST, code="weibo")
    assert response.status_code == 201
    case = Case.objects.get()
    assert (case.channel, case.service.code, case.external_ref) == ("social", "billing", "weibo:conv-1")


def test_a_message_may_name_its_service(sender, other_service, clock):
    assert sender.post(FIRST | {"service": "billing"}).status_code == 201
    assert Case.objects.get().service.code == "billing"


def test_a_customer_with_an_email_is_found_by_it(sender, customer, clock):
    sender.post(FIRST | {"customer": {"name": "Li", "email": "li@example.com"}})
    assert Case.objects.get().customer_id == customer.pk


# --- refused deliveries ------------------------------------------------------------------


def test_a_bad_signature_is_401(sender, clock):
    body = json.dumps(FIRST)
    headers = sender.headers(body, "msg_x", secret="whsec_" + "A" * 43 + "=")
    response = sender.post(body, headers=headers)
    assert response.status_code == 401 and _error(response)["code"] == "bad_signature"
    assert not Case.objects.exists()


def test_a_body_changed_after_signing_is_401(sender, clock):
    headers = sender.headers(json.dumps(FIRST), "msg_x")
    response = sender.post(FIRST | {"text": "changed"}, headers=headers)
    assert response.status_code == 401 and _error(response)["code"] == "bad_signature"


@pytest.mark.parametrize("signature", ["", "v1", "v1,not base64!", "v2,abc", "garbage without comma"])
def test_a_malformed_signature_header_is_401(sender, clock, signature):
    body = json.dumps(FIRST)
    headers = sender.headers(body, "msg_x") | {"webhook-signature": signature}
    response = sender.post(body, headers=headers)
    assert response.status_code == 401
    assert _error(response)["code"] in {"bad_signature", "missing_signature"}


@pytest.mark.parametrize("minutes", [-6, 6, -60 * 24])
def test_a_timestamp_outside_five_minutes_is_a_replay(sender, clock, minutes):
    response = sender.post(FIRST, at=clock.now + timedelta(minutes=minutes))
    error = _error(response)
    assert response.status_code == 401 and (error["code"], error["field"]) == ("stale_timestamp", "webhook-timestamp")
    assert not Case.objects.exists()


def test_a_timestamp_just_inside_five_minutes_is_accepted(sender, clock):
    assert sender.post(FIRST, at=clock.now - timedelta(minutes=4, seconds=59)).status_code == 201


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_401(sender, clock, missing):
    body = json.dumps(FIRST)
    headers = {k: v for k, v in sender.headers(body, "msg_x").items() if k != missing}
    response = sender.post(body, headers=headers)
    assert response.status_code == 401 and _error(response)["field"] == missing


def test_a_non_numeric_timestamp_is_401(sender, clock):
    body = json.dumps(FIRST)
    response = sender.post(body, headers=sender.headers(body, "msg_x") | {"webhook-timestamp": "yesterday"})
    assert response.status_code == 401 and _error(response)["code"] == "invalid_timestamp"


@pytest.mark.parametrize("stamp", ["999999999999", "253402300800", "99999999999"])
def test_a_timestamp_past_the_year_9999_is_401_not_500(sender, clock, stamp):
    body = json.dumps(FIRST)
    response = sender.post(body, headers=sender.headers(body, "msg_x") | {"webhook-timestamp": stamp})
    error = _error(response)
    assert response.status_code == 401 and error["field"] == "webhook-timestamp"
    assert error["code"] == ("invalid_timestamp" if int(stamp) > 253402300799 else "stale_timestamp")


@pytest.mark.parametrize(
    "stamp", ["0", "-1", "1e9", "1772413200.5", "１７７２４１３２００", "١٧٧٢٤١٣٢٠٠", "1772413200\n1", "9" * 40, "²"]
)
def test_no_timestamp_header_value_is_a_500(sender, clock, stamp):
    body = json.dumps(FIRST)
    response = sender.post(body, headers=sender.headers(body, "msg_x") | {"webhook-timestamp": stamp})
    assert response.status_code == 401 and _error(response)["field"] == "webhook-timestamp"
    assert not Case.objects.exists()


@pytest.mark.parametrize("webhook_id", ["\x7f", "a" * 256, "id\x00", "\u200e"])
def test_an_odd_webhook_id_is_refused_with_the_error_shape(sender, clock, webhook_id):
    body = json.dumps(FIRST)
    response = sender.post(body, headers=sender.headers(body, webhook_id))
    assert response.status_code == 400 and _error(response)["field"] == "webhook-id"


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity"])
def test_a_number_no_database_can_store_is_400(sender, clock, number):
    sender.post(FIRST)
    body = '{"type": "event", "conversation": "conv-1", "event": "rated", "data": {"score": NUMBER}}'
    body = body.replace("NUMBER", number)
    response = sender.post(body)
    assert response.status_code == 400 and _error(response)["code"] == "invalid_json"
    assert not CaseEvent.objects.filter(type="rated").exists()


def test_a_reply_in_the_chat_reopens_a_closed_case(sender, clock):
    sender.post(FIRST)
    case = Case.objects.get()
    do_append_event(case, actor=None, now=clock.now, type="closed")
    clock.advance(days=2)
    assert sender.post(FIRST | {"text": "又断了"}).status_code == 200
    case.refresh_from_db()
    assert case.stage == "delivery"
    reopened = CaseEvent.objects.get(case=case, type="reopened")
    assert (reopened.data, reopened.visible_to_customer, reopened.at) == ({"by": "customer"}, True, clock.now)


def test_a_reply_to_an_open_case_does_not_reopen_anything(sender, clock):
    sender.post(FIRST)
    sender.post(FIRST | {"text": "还在吗？"})
    assert not CaseEvent.objects.filter(type="reopened").exists()


def test_an_unknown_source_is_404(sender, clock):
    response = sender.post(FIRST, code="nosuch")
    assert response.status_code == 404 and _error(response)["code"] == "unknown_source"


def test_an_inactive_source_is_404(sender, source, clock):
    WebhookSource.objects.filter(pk=source.pk).update(active=False)
    assert sender.post(FIRST).status_code == 404


def test_malformed_json_is_400(sender, clock):
    response = sender.post('{"type": "message", ')
    assert response.status_code == 400 and _error(response)["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "greeting"}, "type"),
        ([1, 2, 3], None),
        (FIRST | {"text": ""}, "text"),
        (FIRST | {"text": "x" * 20_001}, "text"),
        (FIRST | {"conversation": "has space"}, "conversation"),
        (FIRST | {"customer": {"email": "not-an-address"}}, "customer.email"),
        ({"type": "event", "conversation": "conv-1", "event": "Not Snake"}, "event"),
    ],
)
def test_a_payload_of_the_wrong_shape_is_400_naming_the_field(sender, clock, payload, field):
    response = sender.post(payload)
    error = _error(response)
    assert response.status_code == 400 and (error["code"], error["field"]) == ("invalid_payload", field)
    assert not Case.objects.exists()


def test_an_event_for_an_unknown_conversation_is_404(sender, clock):
    response = sender.post({"type": "event", "conversation": "nobody", "event": "resolved"})
    assert response.status_code == 404 and _error(response)["code"] == "unknown_conversation"


def test_a_reserved_event_type_is_400(sender, clock):
    sender.post(FIRST)
    response = sender.post({"type": "event", "conversation": "conv-1", "event": "promise_breached"})
    assert response.status_code == 400 and _error(response)["code"] == "reserved_event_type"


def test_an_unknown_service_is_400(sender, clock):
    response = sender.post(FIRST | {"service": "nosuch"})
    assert response.status_code == 400 and _error(response)["code"] == "unknown_service"


def test_a_refused_delivery_can_be_retried_with_the_same_id(sender, other_service, clock):
    assert sender.post(FIRST | {"service": "nosuch"}, webhook_id="msg_retry").status_code == 400
    assert sender.post(FIRST, webhook_id="msg_retry").status_code == 201


def test_get_is_405_with_the_error_shape(sender, clock):
    response = Client().get("/hooks/wechat/")
    assert response.status_code == 405 and _error(response)["code"] == "method_not_allowed"


def test_script_in_a_message_is_stored_as_text(sender, clock):
    sender.post(FIRST | {"text": "<script>alert(1)</script>", "customer": {"name": "<b>x</b>", "phone": "1"}})
    assert CaseEvent.objects.get(type="customer_request").note == "<script>alert(1)</script>"
    assert Customer.objects.get().name == "<b>x</b>"
