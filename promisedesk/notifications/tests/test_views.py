"""The outbox on the desk: list and filters, message detail, dead letters with "retry now",
templates for managers, webhook endpoints for managers."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from promisedesk.notifications.models import (
    Channel,
    NotificationTemplate,
    OutboxMessage,
    OutboxRetry,
    OutboxStatus,
    WebhookEndpoint,
)

from .conftest import message, webhook_message

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _failed(now: Any, n: int = 1, **fields: Any) -> OutboxMessage:
    values = {"status": OutboxStatus.FAILED, "attempts": 10, "last_error": "550 <no such user>"} | fields
    return message(Channel.EMAIL, f"user{n}@example.com", now, key=f"event:{n}", **values)


# --- who may see what ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/desk/outbox/", "/desk/outbox/failed/", "/desk/outbox/templates/"])
def test_outbox_pages_send_anonymous_visitors_to_log_in(client: Client, db, path) -> None:
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "path", ["/desk/outbox/endpoints/", "/desk/outbox/templates/case_update/en/", "/desk/outbox/endpoints/1/"]
)
def test_manager_pages_are_forbidden_to_other_staff(desk: Client, path) -> None:
    assert desk.get(path).status_code == 403


# --- the outbox list ---------------------------------------------------------------------------------


def test_outbox_lists_messages_and_filters_them(desk: Client, clock) -> None:
    message(Channel.SMS, "13800000000", clock.now, key="event:1")
    _failed(clock.now, 2)

    everything = desk.get("/desk/outbox/").content.decode()
    failed = desk.get("/desk/outbox/", {"status": "failed"}).content.decode()
    sms = desk.get("/desk/outbox/", {"channel": "sms", "case": "abc"})

    assert "13800000000" in everything and "user2@example.com" in everything
    assert "user2@example.com" in failed and "13800000000" not in failed
    assert "550 &lt;no such user&gt;" in failed  # escaped
    assert sms.status_code == 200 and "13800000000" in sms.content.decode()
    assert "user2@example.com" not in sms.content.decode() and "were left out" in sms.content.decode()


def test_outbox_list_query_count_does_not_grow_with_messages(
    desk: Client, clock, django_assert_max_num_queries
) -> None:
    _failed(clock.now, 0)
    with CaptureQueriesContext(connection) as one:
        desk.get("/desk/outbox/")
    for n in range(1, 40):
        _failed(clock.now, n)
    with django_assert_max_num_queries(len(one)):
        page = desk.get("/desk/outbox/").content.decode()
    assert "user39@example.com" in page and len(one) <= 8


def test_dead_letters_query_count_does_not_grow(desk: Client, clock, django_assert_max_num_queries) -> None:
    _failed(clock.now, 0)
    with CaptureQueriesContext(connection) as one:
        desk.get("/desk/outbox/failed/")
    for n in range(1, 40):
        _failed(clock.now, n)
    with django_assert_max_num_queries(len(one)):
        assert "user39@example.com" in desk.get("/desk/outbox/failed/").content.decode()


def test_outbox_in_chinese(desk: Client, clock) -> None:
    _failed(clock.now)
    page = desk.get("/desk/outbox/failed/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for text in ("发件箱", "投递失败", "立即重试", "模板", "最近错误"):
        assert text in page, text


# --- one message --------------------------------------------------------------------------------------


def test_message_page_shows_headers_body_attempts_and_error(desk: Client, receiver, endpoint, clock) -> None:
    sent = webhook_message(endpoint, clock.now, body='{"note": "<script>alert(1)</script>"}', attempts=2)
    page = desk.get(f"/desk/outbox/{sent.pk}/").content.decode()
    assert f"msg_{sent.delivery_key}" in page and "webhook-id" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert desk.get("/desk/outbox/424242/").status_code == 404


# --- retry now -----------------------------------------------------------------------------------------


def test_retry_now_from_the_dead_letter_queue(desk: Client, staff, clock) -> None:
    dead = _failed(clock.now)

    response = desk.post(f"/desk/outbox/{dead.pk}/retry/", headers=HTMX)

    assert response.status_code == 200
    assert "Queued again." in response.content.decode() and f'id="failed-{dead.pk}"' in response.content.decode()
    again = OutboxMessage.objects.get(pk=dead.pk)
    assert (again.status, again.attempts, again.next_attempt_at) == ("pending", 0, clock.now)
    retry = OutboxRetry.objects.get()
    assert (retry.requested_by, retry.previous_attempts, retry.previous_error) == (staff, 10, "550 <no such user>")

    twice = desk.post(f"/desk/outbox/{dead.pk}/retry/", headers=HTMX)
    assert twice.status_code == 409 and "not in the dead-letter queue" in twice.content.decode()
    assert OutboxRetry.objects.count() == 1


def test_retry_now_without_htmx_goes_back(desk: Client, clock) -> None:
    dead = _failed(clock.now)
    response = desk.post(f"/desk/outbox/{dead.pk}/retry/", {"next": "message"})
    assert response.status_code == 302 and response["Location"] == f"/desk/outbox/{dead.pk}/"


# --- templates ---------------------------------------------------------------------------------------------


def test_staff_see_the_templates_and_managers_may_edit_them(desk: Client, manager_desk: Client) -> None:
    staff_page = desk.get("/desk/outbox/templates/").content.decode()
    manager_page = manager_desk.get("/desk/outbox/templates/").content.decode()
    assert "case_received" in staff_page and "/desk/outbox/templates/case_received/en/" not in staff_page
    assert "/desk/outbox/templates/case_received/zh-Hans/" in manager_page


def test_manager_saves_a_template(manager_desk: Client, manager) -> None:
    url = "/desk/outbox/templates/case_update/en/"
    response = manager_desk.post(url, {"subject": "News on #{{ case.pk }}", "body": "Hi {{ case.customer.name }}"})
    assert response.status_code == 302 and response["Location"] == url + "?saved=1"
    saved = NotificationTemplate.objects.get()
    assert (saved.event, saved.language, saved.updated_by) == ("case_update", "en", manager)
    assert "Saved" in manager_desk.get(url + "?saved=1").content.decode()


def test_template_with_a_syntax_error_is_422_and_not_saved(manager_desk: Client) -> None:
    response = manager_desk.post("/desk/outbox/templates/case_update/en/", {"subject": "x", "body": "{% for x %}"})
    assert response.status_code == 422
    assert "The template cannot be used" in response.content.decode() and "for" in response.content.decode()
    assert not NotificationTemplate.objects.exists()


def test_template_preview_and_reset(manager_desk: Client, clock, manager) -> None:
    preview = manager_desk.post(
        "/desk/outbox/templates/case_update/en/preview/",
        {"subject": "#{{ case.pk }}", "body": "Dear {{ case.customer.name }} <b>"},
        headers=HTMX,
    )
    assert preview.status_code == 200 and "#1024" in preview.content.decode()
    assert "Dear Li Lei &lt;b&gt;" in preview.content.decode()  # plain text, shown escaped on the page

    bad = manager_desk.post("/desk/outbox/templates/case_update/en/preview/", {"body": "{% debug %}"}, headers=HTMX)
    assert bad.status_code == 422 and "debug" in bad.content.decode()

    NotificationTemplate.objects.create(event="case_update", language="en", subject="s", body="b", updated_at=clock.now)
    reset = manager_desk.post("/desk/outbox/templates/case_update/en/reset/")
    assert reset.status_code == 302 and not NotificationTemplate.objects.exists()


def test_unknown_template_page_is_404(manager_desk: Client) -> None:
    assert manager_desk.get("/desk/outbox/templates/nothing/en/").status_code == 404
    assert manager_desk.get("/desk/outbox/templates/case_update/de/").status_code == 404


# --- webhook endpoints ----------------------------------------------------------------------------------


def test_manager_adds_an_endpoint_and_sees_its_secret_once(manager_desk: Client) -> None:
    response = manager_desk.post(
        "/desk/outbox/endpoints/",
        {"name": "crm", "url": "https://crm.example/hook", "events": ["case.received"], "other_events": "case.x_y"},
    )
    assert response.status_code == 200
    created = WebhookEndpoint.objects.get()
    assert created.events == ["case.received", "case.x_y"] and created.active
    assert created.secret in response.content.decode()
    assert created.secret not in manager_desk.get("/desk/outbox/endpoints/").content.decode()


def test_bad_endpoint_form_is_422(manager_desk: Client) -> None:
    response = manager_desk.post("/desk/outbox/endpoints/", {"name": "crm", "url": "javascript:alert(1)"})
    assert response.status_code == 422 and "http:// or https://" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_manager_deactivates_an_endpoint(manager_desk: Client, endpoint) -> None:
    response = manager_desk.post(f"/desk/outbox/endpoints/{endpoint.pk}/", {"name": "crm", "url": endpoint.url})
    assert response.status_code == 200 and "Saved." in response.content.decode()
    assert WebhookEndpoint.objects.get().active is False


def test_send_test_from_the_desk(manager_desk: Client, receiver, endpoint) -> None:
    response = manager_desk.post(f"/desk/outbox/endpoints/{endpoint.pk}/test/", headers=HTMX)
    assert response.status_code == 200 and "was delivered" in response.content.decode()
    assert [d.json()["type"] for d in receiver.deliveries] == ["webhook.test"]
