"""Intake's part of the demo loads once: a second load changes nothing."""

from __future__ import annotations

import pytest

from promisedesk.cases.actions import do_create_service
from promisedesk.cases.models import Case
from promisedesk.intake import demo
from promisedesk.intake.models import IntakeKey, Mailbox, QuarantinedMessage, WebhookSource

pytestmark = pytest.mark.django_db


def test_the_demo_sets_up_intake_once(clock):
    for code in ("broadband-install", "hotel-stay", "hotel-complaint"):
        do_create_service(code=code, name=code, price=None, currency="CNY")
    demo.load(clock.now)
    demo.load(clock.now)

    assert sorted(Mailbox.objects.values_list("address", flat=True)) == ["*", "hotel@promisedesk.localhost"]
    assert sorted(WebhookSource.objects.values_list("code", "channel")) == [("wechat", "chat"), ("weibo", "social")]
    assert sorted(Case.objects.values_list("channel", "service__code")) == [
        ("email", "broadband-install"),
        ("email", "hotel-complaint"),
        ("web", "broadband-install"),
    ]
    assert list(QuarantinedMessage.objects.values_list("reason", flat=True)) == ["forged_token"]
    assert IntakeKey.objects.count() == 4


def test_the_demo_skips_intake_without_its_services(db, clock):
    demo.load(clock.now)
    assert not Mailbox.objects.exists() and not Case.objects.exists()
