"""Intake over the HTTP API: webhook sources, mailboxes, and decisions about the quarantine."""

from __future__ import annotations

import pytest

from promisedesk.cases.models import Attachment, Case, CaseEvent
from promisedesk.intake.mail import ingest_email
from promisedesk.intake.models import Mailbox, QuarantinedMessage, WebhookSource

from .conftest import held_message, mail

pytestmark = pytest.mark.django_db


def _error(response):
    body = response.json()
    assert set(body["error"]) == {"code", "message", "field"}, body
    return body["error"]


# --- webhook sources ---------------------------------------------------------------------


def test_creating_a_source_shows_its_secret_once(manager_api, service):
    response = manager_api.post("/intake/sources", {"code": "wechat", "name": "WeChat", "default_service": "install"})

    assert response.status_code == 201, response.content
    made = response.json()
    assert made["secret"].startswith("whsec_") and made["url"] == "/hooks/wechat/"
    assert (made["channel"], made["active"], made["default_service"]) == ("chat", True, "install")
    listed = manager_api.get("/intake/sources").json()
    assert listed["count"] == 1 and "secret" not in listed["items"][0]
    assert "secret" not in manager_api.get("/intake/sources/wechat").json()


def test_a_source_for_an_unknown_service_is_400(manager_api, service):
    response = manager_api.post("/intake/sources", {"code": "wechat", "name": "WeChat", "default_service": "nosuch"})
    assert response.status_code == 400 and _error(response)["field"] == "default_service"


def test_a_duplicate_source_code_is_409(manager_api, service):
    body = {"code": "wechat", "name": "WeChat", "default_service": "install"}
    manager_api.post("/intake/sources", body)
    assert manager_api.post("/intake/sources", body).status_code == 409


@pytest.mark.parametrize("code", ["WeChat", "we chat", "-x", "x" * 33, ""])
def test_a_source_code_must_be_lower_case_letters_and_digits(manager_api, service, code):
    response = manager_api.post("/intake/sources", {"code": code, "name": "X", "default_service": "install"})
    assert response.status_code == 422 and _error(response)["field"] == "code"


def test_a_source_can_be_changed_and_its_secret_rotated(manager_api, service, other_service):
    old = manager_api.post("/intake/sources", {"code": "weibo", "name": "Weibo", "default_service": "install"}).json()
    changed = manager_api.patch(
        "/intake/sources/weibo", {"channel": "social", "default_service": "billing", "active": False}
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["channel"], changed.json()["default_service"], changed.json()["active"]) == (
        "social",
        "billing",
        False,
    )
    rotated = manager_api.post("/intake/sources/weibo/secret").json()
    assert rotated["secret"] != old["secret"] and WebhookSource.objects.get().secret == rotated["secret"]
    assert manager_api.patch("/intake/sources/nosuch", {"active": True}).status_code == 404


def test_listing_sources_takes_two_queries(manager_api, service, django_assert_num_queries):
    for n in range(3):
        manager_api.post("/intake/sources", {"code": f"s{n}", "name": f"S{n}", "default_service": "install"})
    with django_assert_num_queries(3):  # the token, the count, the page with its services
        assert manager_api.get("/intake/sources").json()["count"] == 3


def test_only_managers_set_up_sources(api, manager_api, service):
    body = {"code": "wechat", "name": "WeChat", "default_service": "install"}
    refused = api.post("/intake/sources", body)
    assert refused.status_code == 403 and _error(refused)["code"] == "forbidden"
    assert not WebhookSource.objects.exists()
    secret = manager_api.post("/intake/sources", body).json()["secret"]
    for response in (
        api.patch("/intake/sources/wechat", {"active": False}),
        api.post("/intake/sources/wechat/secret"),
    ):
        assert response.status_code == 403 and _error(response)["code"] == "forbidden"
    source = WebhookSource.objects.get()
    assert (source.active, source.secret) == (True, secret)
    assert api.get("/intake/sources/wechat").status_code == 200  # reading stays open to staff


# --- mailboxes ---------------------------------------------------------------------------


def test_only_managers_change_mailboxes(api, manager_api, service):
    refused = api.post("/intake/mailboxes", {"address": "*", "service": "install"})
    assert refused.status_code == 403 and _error(refused)["code"] == "forbidden"
    assert not Mailbox.objects.exists()
    made = manager_api.post("/intake/mailboxes", {"address": "*", "service": "install", "note": "x"}).json()
    patched = api.patch(f"/intake/mailboxes/{made['id']}", {"note": "changed"})
    deleted = api.client.delete(f"/api/v1/intake/mailboxes/{made['id']}", **api.headers)
    assert (patched.status_code, deleted.status_code) == (403, 403)
    assert _error(patched)["code"] == _error(deleted)["code"] == "forbidden"
    assert Mailbox.objects.get().note == "x"
    assert api.get("/intake/mailboxes").json()["count"] == 1


def test_mailboxes_map_addresses_to_services(manager_api, service, other_service):
    made = manager_api.post(
        "/intake/mailboxes", {"address": "Billing@Example.com", "service": "billing", "note": "money"}
    )
    assert made.status_code == 201, made.content
    assert made.json() | {"id": 0} == {
        "id": 0,
        "address": "billing@example.com",
        "service": "billing",
        "note": "money",
        "complaints": False,
    }
    assert manager_api.post("/intake/mailboxes", {"address": "*", "service": "install"}).status_code == 201
    assert (
        manager_api.post("/intake/mailboxes", {"address": "*@shop.example.com", "service": "install"}).status_code
        == 201
    )
    listed = manager_api.get("/intake/mailboxes").json()
    assert [m["address"] for m in listed["items"]] == ["*", "*@shop.example.com", "billing@example.com"]


def test_a_mailbox_can_be_changed_and_removed(manager_api, service, other_service):
    made = manager_api.post("/intake/mailboxes", {"address": "*", "service": "install"}).json()
    changed = manager_api.patch(f"/intake/mailboxes/{made['id']}", {"service": "billing"})
    assert changed.status_code == 200 and changed.json()["service"] == "billing"
    for_complaints = manager_api.patch(f"/intake/mailboxes/{made['id']}", {"complaints": True}).json()
    assert for_complaints["complaints"] is True and Mailbox.objects.get().complaints
    deleted = manager_api.client.delete(f"/api/v1/intake/mailboxes/{made['id']}", **manager_api.headers)
    assert deleted.status_code == 204 and not Mailbox.objects.exists()
    assert manager_api.client.delete(f"/api/v1/intake/mailboxes/{made['id']}", **manager_api.headers).status_code == 404


@pytest.mark.parametrize("address", ["no-at-sign", "a@b@c", "*x@example.com", "a@*.com", "two words@x.com"])
def test_a_mailbox_address_must_be_an_address_a_domain_or_star(manager_api, service, address):
    response = manager_api.post("/intake/mailboxes", {"address": address, "service": "install"})
    assert response.status_code in (400, 422) and _error(response)["field"] == "address"


def test_a_duplicate_mailbox_is_409(manager_api, service):
    manager_api.post("/intake/mailboxes", {"address": "*", "service": "install"})
    assert manager_api.post("/intake/mailboxes", {"address": "*", "service": "install"}).status_code == 409


def test_listing_mailboxes_takes_three_queries(manager_api, service, django_assert_num_queries):
    for n in range(3):
        manager_api.post("/intake/mailboxes", {"address": f"m{n}@example.com", "service": "install"})
    with django_assert_num_queries(3):
        assert manager_api.get("/intake/mailboxes").json()["count"] == 3


# --- the quarantine ----------------------------------------------------------------------


@pytest.fixture
def held(service, clock) -> QuarantinedMessage:
    """Mail nobody routed (no mailbox), with a file: held for staff."""
    raw = mail(attachments=[("photo.jpg", "image/jpeg", b"\xff\xd8photo")])
    return held_message(ingest_email(raw, now=clock.now, source="smtp"))


def test_quarantine_lists_held_messages_with_the_reason(api, held):
    listed = api.get("/intake/quarantine", status="held").json()
    assert listed["count"] == 1
    item = listed["items"][0]
    assert (item["id"], item["reason"], item["status"], item["sender"], item["subject"]) == (
        held.pk,
        "no_mailbox",
        "held",
        "li@example.com",
        "My broadband is down",
    )
    assert "no default (*) mailbox" in item["message"]
    assert api.get("/intake/quarantine", status="released").json()["count"] == 0


def test_quarantine_list_takes_three_queries(api, service, clock, django_assert_num_queries):
    for n in range(4):
        ingest_email(mail(message_id=f"<q{n}@x>"), now=clock.now)
    api.get("/intake/quarantine")  # the token's first use of the hour is recorded: not part of the list
    with django_assert_num_queries(3):
        assert api.get("/intake/quarantine").json()["count"] == 4


def test_a_held_message_shows_its_text_and_files(api, held):
    detail = api.get(f"/intake/quarantine/{held.pk}").json()
    assert detail["text"] == "Since this morning nothing works."
    assert detail["attachments"] == [{"filename": "photo.jpg", "content_type": "image/jpeg", "size": 7}]


def test_releasing_opens_a_case_for_the_sender(api, held, staff):
    response = api.post(f"/intake/quarantine/{held.pk}/release", {"service": "install", "note": "routed by hand"})

    assert response.status_code == 200, response.content
    body = response.json()
    case = Case.objects.select_related("customer").get(pk=body["case"])
    assert (body["status"], body["decided_by"], body["decision_note"]) == ("released", "agent", "routed by hand")
    assert (case.channel, case.customer.email, case.service.code) == ("email", "li@example.com", "install")
    event = CaseEvent.objects.get(case=case, type="customer_request")
    assert event.data["released"] == held.pk and event.note == "Since this morning nothing works."
    assert Attachment.objects.get(case=case).filename == "photo.jpg"


def test_releasing_into_a_case_threads_the_message(api, held, customer):
    case = api.post("/cases", {"customer": customer.pk, "service": "install"}).json()
    response = api.post(f"/intake/quarantine/{held.pk}/release", {"case": case["id"]})
    assert response.status_code == 200 and response.json()["case"] == case["id"]
    assert CaseEvent.objects.get(case_id=case["id"], type="customer_replied").note.startswith("Since this morning")


def test_releasing_into_a_closed_case_reopens_it(api, held, customer):
    case = api.post("/cases", {"customer": customer.pk, "service": "install"}).json()
    assert api.post(f"/cases/{case['id']}/events", {"type": "closed"}).status_code == 201
    assert api.post(f"/intake/quarantine/{held.pk}/release", {"case": case["id"]}).status_code == 200
    assert Case.objects.get(pk=case["id"]).stage == "delivery"
    assert CaseEvent.objects.get(case_id=case["id"], type="reopened").data == {"by": "customer"}


def test_a_message_is_released_once(api, held):
    api.post(f"/intake/quarantine/{held.pk}/release", {"service": "install"})
    again = api.post(f"/intake/quarantine/{held.pk}/release", {"service": "install"})
    assert again.status_code == 409 and _error(again)["code"] == "already_decided"
    assert Case.objects.count() == 1


def test_releasing_mail_without_a_sender_needs_a_customer(api, service, customer, clock):
    held = ingest_email(mail(sender=None), now=clock.now).quarantine_id
    response = api.post(f"/intake/quarantine/{held}/release", {"service": "install"})
    assert response.status_code == 400 and _error(response)["code"] == "missing_customer"
    ok = api.post(f"/intake/quarantine/{held}/release", {"service": "install", "customer": customer.pk})
    assert ok.status_code == 200 and Case.objects.get().customer_id == customer.pk


def test_releasing_new_mail_without_a_service_uses_the_mailbox(api, manager_api, held, other_service, clock):
    manager_api.post("/intake/mailboxes", {"address": "support@example.com", "service": "billing"})
    assert api.post(f"/intake/quarantine/{held.pk}/release", {}).status_code == 200
    assert Case.objects.get().service.code == "billing"


def test_release_refuses_a_case_together_with_a_service(api, held):
    response = api.post(f"/intake/quarantine/{held.pk}/release", {"case": 1, "service": "install"})
    assert response.status_code == 400 and _error(response)["field"] == "case"


def test_release_into_a_missing_case_is_404(api, held):
    response = api.post(f"/intake/quarantine/{held.pk}/release", {"case": 4242})
    assert response.status_code == 404
    assert QuarantinedMessage.objects.get(pk=held.pk).status == "held"


def test_discarding_keeps_the_message_with_the_reason(api, held):
    response = api.post(f"/intake/quarantine/{held.pk}/discard", {"reason": "spam"})
    assert response.status_code == 200
    kept = QuarantinedMessage.objects.get(pk=held.pk)
    assert (kept.status, kept.decision_note, bytes(kept.raw)) == ("discarded", "spam", bytes(held.raw))
    assert api.post(f"/intake/quarantine/{held.pk}/discard", {"reason": "again"}).status_code == 409


def test_discarding_needs_a_reason(api, held):
    assert api.post(f"/intake/quarantine/{held.pk}/discard", {"reason": ""}).status_code == 422
    assert api.post(f"/intake/quarantine/{held.pk}/discard", {"reason": "   "}).status_code == 400


def test_unknown_messages_are_404(api, service):
    assert api.get("/intake/quarantine/999").status_code == 404
    assert api.post("/intake/quarantine/999/discard", {"reason": "x"}).status_code == 404


def test_intake_api_needs_a_staff_token(anonymous_api, service):
    for path in ("/intake/sources", "/intake/mailboxes", "/intake/quarantine"):
        assert anonymous_api.get(path).status_code == 401
