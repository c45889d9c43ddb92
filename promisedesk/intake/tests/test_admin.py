"""Intake's set-up in the admin: mailboxes and webhook sources go through the intake actions."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from promisedesk.intake.mail import ingest_email
from promisedesk.intake.models import Mailbox, WebhookSource

from .conftest import mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(django_user_model: Any, clock: Any) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("boss", password="pw-boss-1234"))
    return client


@pytest.mark.parametrize(
    "path", ["intake/mailbox", "intake/webhooksource", "intake/intakekey", "intake/quarantinedmessage"]
)
def test_intake_changelists_render(boss, default_mailbox, clock, path):
    ingest_email(mail(sender=None), now=clock.now)
    ingest_email(mail(message_id="<ok@x>"), now=clock.now)
    assert boss.get(f"/admin/{path}/").status_code == 200
    assert boss.get(f"/admin/{path}/?q=x").status_code == 200


def test_a_mailbox_added_in_the_admin_is_normalised(boss, service):
    response = boss.post("/admin/intake/mailbox/add/", {"address": "Support@Example.COM", "service": service.pk})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Mailbox.objects.get().address == "support@example.com"


def test_a_bad_mailbox_address_is_a_form_error_in_the_admin(boss, service):
    response = boss.post("/admin/intake/mailbox/add/", {"address": "a@*.com", "service": service.pk})
    assert response.status_code == 200 and b"Give an address, *@domain, or * for any other." in response.content
    assert not Mailbox.objects.exists()


def test_a_source_added_in_the_admin_shows_its_secret_once(boss, service):
    body = {"code": "wechat", "name": "WeChat", "channel": "chat", "default_service": service.pk, "active": "on"}
    response = boss.post("/admin/intake/webhooksource/add/", body, follow=True)
    source = WebhookSource.objects.get()
    assert source.secret.startswith("whsec_") and source.secret in response.content.decode()
    assert source.secret not in boss.get(f"/admin/intake/webhooksource/{source.pk}/change/").content.decode()


def test_quarantined_messages_cannot_be_changed_in_the_admin(boss, service, clock):
    held = ingest_email(mail(), now=clock.now).quarantine_id
    assert boss.get("/admin/intake/quarantinedmessage/add/").status_code == 403
    page = boss.get(f"/admin/intake/quarantinedmessage/{held}/change/")
    assert page.status_code == 200 and b'name="reason"' not in page.content
