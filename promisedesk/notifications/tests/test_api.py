"""The outbox, webhook endpoints and templates through /api/v1, as integrators use them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from promisedesk.conftest import make_customer, make_service, open_case
from promisedesk.intake.threading import reply_address
from promisedesk.notifications.delivery import deliver_due
from promisedesk.notifications.models import Channel, NotificationTemplate, OutboxMessage, OutboxRetry, OutboxStatus
from promisedesk.notifications.templating import LANGUAGES, events

from .conftest import message, webhook_message

pytestmark = pytest.mark.django_db


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["code"] == code and set(body) == {"code", "message", "field"}
    return body


def _failed(channel: str, recipient: str, now: Any, key: str) -> OutboxMessage:
    return message(
        channel, recipient, now, key=key, status=OutboxStatus.FAILED, attempts=10, last_error="550 no such user"
    )


# --- the outbox ------------------------------------------------------------------------------------


def test_outbox_lists_messages_filtered_by_status_channel_event_and_case(api, clock) -> None:
    make_service(api)
    customer = make_customer(api)
    case = open_case(api, customer["id"], external_ref="A-1")
    _failed(Channel.EMAIL, "x@example.com", clock.now, "event:9")

    everything = api.get("/outbox").json()
    by_case = api.get("/outbox", case=case["id"]).json()
    emails = api.get("/outbox", channel="email", event="case_received").json()
    failed = api.get("/outbox", status="failed").json()

    assert everything["count"] == 3  # case received by email and SMS, and the failed one
    assert {m["channel"] for m in by_case["items"]} == {"email", "sms"} and by_case["count"] == 2
    assert [m["recipient"] for m in emails["items"]] == ["li@example.com"]
    assert [m["recipient"] for m in failed["items"]] == ["x@example.com"]
    assert failed["items"][0]["last_error"] == "550 no such user" and "body" not in failed["items"][0]


def test_outbox_rejects_an_unknown_status(api) -> None:
    _error(api.get("/outbox", status="lost"), 422, "invalid")


def test_outbox_list_query_count_does_not_grow_with_messages(api, clock, django_assert_max_num_queries) -> None:
    _failed(Channel.SMS, "1", clock.now, "k:0")
    api.get("/outbox")  # the token's first use is recorded, once
    with CaptureQueriesContext(connection) as one:
        assert api.get("/outbox").json()["count"] == 1
    for n in range(1, 30):
        _failed(Channel.SMS, str(n), clock.now, f"k:{n}")
    with django_assert_max_num_queries(len(one)):
        assert api.get("/outbox").json()["count"] == 30
    assert len(one) <= 3, [q["sql"] for q in one.captured_queries]  # token, count, page


def test_outbox_message_shows_headers_body_and_retries(api, clock) -> None:
    make_service(api)
    case = open_case(api, make_customer(api)["id"], external_ref="A-1")
    email = OutboxMessage.objects.get(channel=Channel.EMAIL)

    got = api.get(f"/outbox/{email.pk}").json()

    assert got["headers"]["Reply-To"] == reply_address(case["id"])
    assert got["headers"]["Message-ID"].startswith(f"<outbox.{email.pk}.")
    assert got["headers"]["Subject"].endswith("]") and got["body"] == email.body and got["retries"] == []
    _error(api.get("/outbox/999999"), 404, "not_found")


def test_retry_puts_a_failed_message_back_and_records_who_asked(api, staff, clock) -> None:
    failed = _failed(Channel.EMAIL, "x@example.com", clock.now, "k:1")

    response = api.post(f"/outbox/{failed.pk}/retry")

    assert response.status_code == 200, response.content
    got = response.json()
    assert (got["status"], got["attempts"]) == ("pending", 0)
    assert datetime.fromisoformat(got["next_attempt_at"]) == clock.now
    assert got["retries"] == [
        {
            "requested_by": "agent",
            "requested_at": got["retries"][0]["requested_at"],
            "previous_attempts": 10,
            "previous_error": "550 no such user",
        }
    ]
    assert datetime.fromisoformat(got["retries"][0]["requested_at"]) == clock.now
    # a second click finds nothing to retry
    _error(api.post(f"/outbox/{failed.pk}/retry"), 409, "not_failed")
    assert OutboxRetry.objects.get().requested_by == staff


def test_retry_now_sends_the_message_on_the_next_pass(api, receiver, endpoint, clock) -> None:
    dead = webhook_message(endpoint, clock.now, status=OutboxStatus.FAILED, attempts=3, last_error="503")
    assert api.post(f"/outbox/{dead.pk}/retry").status_code == 200
    assert deliver_due(clock.now).sent == 1
    assert OutboxMessage.objects.get(pk=dead.pk).status == "sent" and len(receiver.deliveries) == 1


def test_retry_of_a_pending_message_is_refused(api, clock) -> None:
    waiting = message(Channel.SMS, "1", clock.now)
    _error(api.post(f"/outbox/{waiting.pk}/retry"), 409, "not_failed")


# --- webhook endpoints --------------------------------------------------------------------------------


def test_only_managers_create_endpoints(api) -> None:
    body = _error(api.post("/webhook-endpoints", {"name": "crm", "url": "https://crm.example/hook"}), 403, "forbidden")
    assert "manager" in body["message"]


def test_manager_creates_an_endpoint_and_sees_its_secret_once(manager_api, api) -> None:
    response = manager_api.post(
        "/webhook-endpoints", {"name": "crm", "url": "https://crm.example/hook", "events": ["case.received"]}
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_") and created["active"] and created["events"] == ["case.received"]
    listed = api.get("/webhook-endpoints").json()
    assert listed["count"] == 1 and listed["items"][0]["secret"] is None


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"name": "x", "url": "ftp://files.example/"}, 400, "invalid_url", "url"),
        ({"name": "x", "url": "not a url"}, 400, "invalid_url", "url"),
        ({"name": "x", "url": "https://a.example/", "events": ["Case Received"]}, 400, "invalid_event", "events"),
        ({"name": "x", "url": "https://a.example/", "secret": "mine"}, 422, "unknown_field", "secret"),
        ({"name": "", "url": "https://a.example/"}, 422, "invalid", "name"),
    ],
)
def test_bad_endpoints_are_refused(manager_api, body, status, code, field) -> None:
    assert _error(manager_api.post("/webhook-endpoints", body), status, code)["field"] == field


def test_endpoint_names_are_unique(manager_api) -> None:
    body = {"name": "crm", "url": "https://crm.example/hook"}
    assert manager_api.post("/webhook-endpoints", body).status_code == 201
    _error(manager_api.post("/webhook-endpoints", body), 409, "duplicate")


def test_manager_deactivates_an_endpoint_and_rotates_its_secret(manager_api, api, endpoint) -> None:
    old = endpoint.secret
    _error(api.patch(f"/webhook-endpoints/{endpoint.pk}", {"active": False}), 403, "forbidden")

    off = manager_api.patch(f"/webhook-endpoints/{endpoint.pk}", {"active": False}).json()
    rotated = manager_api.patch(f"/webhook-endpoints/{endpoint.pk}", {"rotate_secret": True}).json()

    assert off["active"] is False and off["secret"] is None
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != old
    _error(manager_api.patch("/webhook-endpoints/424242", {"active": True}), 404, "not_found")


def test_send_test_delivers_a_signed_message_to_the_endpoint(manager_api, receiver, endpoint) -> None:
    response = manager_api.post(f"/webhook-endpoints/{endpoint.pk}/test")

    assert response.status_code == 200, response.content
    got = response.json()
    assert (got["status"], got["event"], got["attempts"]) == ("sent", "webhook.test", 1)
    [delivery] = receiver.deliveries
    assert delivery.json()["type"] == "webhook.test" and delivery.json()["data"]["requested_by"] == "boss"


def test_send_test_to_a_failing_endpoint_reports_the_error(manager_api, receiver, endpoint) -> None:
    from .servers import Reply

    receiver.script.append(Reply(404))
    got = manager_api.post(f"/webhook-endpoints/{endpoint.pk}/test").json()
    assert got["status"] == "failed" and "404" in got["last_error"]


# --- templates --------------------------------------------------------------------------------------


def test_templates_list_every_event_in_both_languages(api) -> None:
    got = api.get("/notification-templates").json()
    assert got["count"] == len(events()) * 2
    keys = {(t["event"], t["language"]) for t in got["items"]}
    assert {("case_received", lang) for lang in LANGUAGES} <= keys
    assert {("breach_apology", lang) for lang in LANGUAGES} <= keys
    received = next(t for t in got["items"] if t["event"] == "case_received")
    assert received["overridden"] is False and "blocktranslate" in received["subject"]


def test_templates_list_query_count_is_constant(api, manager, clock, django_assert_max_num_queries) -> None:
    with CaptureQueriesContext(connection) as none:
        api.get("/notification-templates")
    for event in events():
        for language in LANGUAGES:
            NotificationTemplate.objects.create(
                event=event, language=language, subject="s", body="b", updated_at=clock.now, updated_by=manager
            )
    with django_assert_max_num_queries(len(none)):
        got = api.get("/notification-templates").json()
    assert all(t["overridden"] and t["updated_by"] == "boss" for t in got["items"])


def test_manager_overrides_a_template_and_new_messages_use_it(manager_api, api, clock) -> None:
    wording = {
        "subject": "Got it: case {{ case.pk }}",
        "body": "Hello {{ case.customer.name }}, we are on it. {{ link }}",
    }
    response = manager_api.put("/notification-templates/case_received/en", wording)
    assert response.status_code == 200, response.content
    assert response.json()["overridden"] is True and response.json()["updated_by"] == "boss"

    make_service(api)
    english = open_case(api, make_customer(api, name="Jim O'Neil", locale="en")["id"], external_ref="E-1")
    chinese = open_case(api, make_customer(api, email="li2@example.com", locale="zh-Hans")["id"], external_ref="Z-1")

    sent = OutboxMessage.objects.get(case_id=english["id"], channel=Channel.EMAIL)
    assert sent.subject == f"Got it: case {english['id']}"
    assert sent.body.startswith("Hello Jim O'Neil, we are on it. http")  # plain text: nothing escaped
    other = OutboxMessage.objects.get(case_id=chinese["id"], channel=Channel.EMAIL)
    assert "Got it" not in other.subject  # the Chinese wording is still the built-in one


def test_template_that_does_not_parse_is_refused_and_nothing_saved(manager_api) -> None:
    body = _error(
        manager_api.put("/notification-templates/case_received/en", {"subject": "x", "body": "{% if case %}open"}),
        422,
        "template_syntax",
    )
    assert body["field"] == "body" and "endif" in body["message"]
    assert not NotificationTemplate.objects.exists()


@pytest.mark.parametrize(
    "source",
    [
        "{% include 'notifications/case_update.txt' %}",
        "{% debug %}",
        "{% load static %}{% static 'x' %}",
        "{% extends 'base.html' %}",
        "{% url 'desk:queue' %}",
        "{% csrf_token %}",
    ],
)
def test_template_may_not_reach_beyond_the_message(manager_api, source) -> None:
    response = manager_api.put("/notification-templates/case_update/en", {"subject": "x", "body": source})
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] in ("template_forbidden", "template_syntax")
    assert not NotificationTemplate.objects.exists()


def test_template_sees_no_secrets_and_calls_no_methods(manager_api, api, staff, clock) -> None:
    source = "[{{ case.created_by.password }}][{{ case.access_token }}][{{ case.customer.delete }}][{{ case.pk }}]"
    assert (
        manager_api.put("/notification-templates/case_received/en", {"subject": "s", "body": source}).status_code == 200
    )
    make_service(api)
    case = open_case(api, make_customer(api, locale="en")["id"], external_ref="E-1")
    assert OutboxMessage.objects.get(channel=Channel.EMAIL).body == f"[][][][{case['id']}]"


def test_a_template_that_fails_at_render_time_falls_back_to_the_built_in_wording(api, manager, clock) -> None:
    NotificationTemplate.objects.create(
        event="case_received", language="en", subject="s", body="{% include 'x' %}", updated_at=clock.now
    )
    make_service(api)
    open_case(api, make_customer(api, locale="en")["id"], external_ref="E-1")
    assert OutboxMessage.objects.get(channel=Channel.EMAIL).subject.startswith("We have received your request")


def test_reset_goes_back_to_the_built_in_wording(manager_api, api) -> None:
    manager_api.put("/notification-templates/case_update/zh-Hans", {"subject": "s", "body": "b"})
    _error(api.delete("/notification-templates/case_update/zh-Hans"), 403, "forbidden")

    response = manager_api.delete("/notification-templates/case_update/zh-Hans")

    assert response.status_code == 200 and response.json()["overridden"] is False
    assert not NotificationTemplate.objects.exists()


@pytest.mark.parametrize("path", ["/notification-templates/no_such_event/en", "/notification-templates/case_update/fr"])
def test_unknown_template_is_404(manager_api, path) -> None:
    _error(manager_api.put(path, {"subject": "s", "body": "b"}), 404, "not_found")


def test_preview_renders_against_a_made_up_case_in_the_language(api) -> None:
    got = api.post(
        "/notification-templates/case_update/zh-Hans/preview",
        {"subject": "{% load i18n %}{% translate 'Case' %} #{{ case.pk }}", "body": "{{ case.customer.name }}"},
    ).json()
    assert got == {"subject": "服务单 #1024", "body": "李雷"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_built_in_wording_previews_against_the_sample_case(api, language) -> None:
    for row in api.get("/notification-templates").json()["items"]:
        if row["language"] != language:
            continue
        response = api.post(
            f"/notification-templates/{row['event']}/{language}/preview",
            {"subject": row["subject"], "body": row["body"]},
        )
        assert response.status_code == 200, (row["event"], response.content)
        assert response.json()["subject"] and response.json()["body"], row["event"]


def test_endpoint_list_query_count_does_not_grow(api, clock, django_assert_max_num_queries) -> None:
    from promisedesk.notifications.actions import new_secret
    from promisedesk.notifications.models import WebhookEndpoint

    def add(n: int) -> None:
        WebhookEndpoint.objects.create(
            name=f"e{n}", url=f"https://e{n}.example/", secret=new_secret(), events=[], created_at=clock.now
        )

    add(0)
    api.get("/webhook-endpoints")  # the token's first use is recorded, once
    with CaptureQueriesContext(connection) as one:
        api.get("/webhook-endpoints")
    for n in range(1, 20):
        add(n)
    with django_assert_max_num_queries(len(one)):
        assert api.get("/webhook-endpoints").json()["count"] == 20
