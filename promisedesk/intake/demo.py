"""Intake in the demo: mailboxes, two chat/social sources, and a little mail (one of it held).

Idempotent: mailboxes and sources are looked up by address and code, mail by its
Message-ID and the web request by its fixed form token, so a second load changes
nothing. Skipped when the demo's services are not there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

from promisedesk.cases.models import Service

from .actions import do_create_mailbox, do_create_source, do_submit_request
from .mail import ingest_email
from .models import Mailbox, WebhookSource

MAILBOXES = [("*", "broadband-install"), ("hotel@promisedesk.localhost", "hotel-complaint")]
SOURCES = [
    ("wechat", "WeChat service account · 微信服务号", "chat", "hotel-stay"),
    ("weibo", "Weibo · 微博", "social", "hotel-complaint"),
]


def _mail(message_id: str, sender: str, to: str, subject: str, text: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"], message["Message-ID"] = sender, to, subject, message_id
    message.set_content(text)
    return message.as_bytes()


MAIL = [
    _mail(
        "<demo-intake-1@example.cn>",
        "赵敏 <zhao.min@example.cn>",
        "support@promisedesk.localhost",
        "宽带安装预约",
        "您好，我刚搬到浦东新区，想预约本周六上午安装宽带。",
    ),
    _mail(
        "<demo-intake-2@example.com>",
        "Grace Liu <grace@example.com>",
        "hotel@promisedesk.localhost",
        "Room 1208: the air conditioning is loud",
        "Could someone look at it before 10 pm tonight?",
    ),
    # A reply whose thread token was tampered with: held in the quarantine for staff.
    _mail(
        "<demo-intake-3@example.net>",
        "someone@example.net",
        "reply+1-00000000000000000000@promisedesk.localhost",
        "Re: your case [#1-00000000000000000000]",
        "Please send me the details of this case.",
    ),
]


def load(now: datetime) -> None:
    """Set up intake for the demo organisation as of `now`."""
    services = set(Service.objects.values_list("code", flat=True))
    for address, service in MAILBOXES:
        if service in services and not Mailbox.objects.filter(address=address).exists():
            do_create_mailbox(actor=None, now=now, address=address, service=service, note="demo")
    for code, name, channel, service in SOURCES:
        if service in services and not WebhookSource.objects.filter(code=code).exists():
            do_create_source(actor=None, now=now, code=code, name=name, default_service=service, channel=channel)
    if "broadband-install" not in services:
        return
    for n, raw in enumerate(MAIL):
        ingest_email(raw, now=now - timedelta(hours=3 - n), source="demo")
    do_submit_request(
        now=now - timedelta(minutes=30),
        token="demo-web-request-1",
        name="Chen Jie",
        email="chen.jie@example.com",
        phone="",
        service="broadband-install",
        need="The router light blinks red since yesterday evening; please send someone.",
        language="en",
    )
