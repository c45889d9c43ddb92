"""Writing to the outbox from actions: render in the customer's language, store once."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation

from promisedesk.cases.models import Customer

from .models import Channel, NotificationTemplate, OutboxMessage
from .templating import render_builtin, render_override

log = logging.getLogger("promisedesk.notifications")


def customer_channels(customer: Customer) -> list[tuple[str, str]]:
    """Where a customer can be reached: (channel, address) pairs."""
    out = []
    if customer.email:
        out.append((Channel.EMAIL.value, customer.email))
    if customer.phone:
        out.append((Channel.SMS.value, customer.phone))
    return out


def customer_language(customer: Customer) -> str:
    """The language a customer is written to in: their own, else Chinese."""
    return customer.locale or "zh-Hans"


def render_message(template: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of the message for event `template` in `language`, as plain text.

    A manager's NotificationTemplate for that event and language wins over the built-in
    wording; should it fail to render, the built-in wording is used (and the failure
    logged), so a bad edit can never stop the action that owes the message.
    """
    override = NotificationTemplate.objects.filter(event=template, language=language).first()
    with translation.override(language):
        if override is not None:
            try:
                return render_override(override.subject, override.body, context)
            except Exception:
                log.exception("the %s template for %s failed; the built-in wording is used", language, template)
        return render_builtin(template, context)


def staff_emails(
    addresses: Any,
    *,
    event_key: str,
    template: str,
    language: str,
    subject: str,
    body: str,
    send_at: datetime,
    now: datetime,
    case_id: int | None = None,
) -> list[OutboxMessage]:
    """Unsaved outbox rows of one rendered email to each distinct address, to insert with the change."""
    return [
        OutboxMessage(
            event_key=event_key,
            event=template,
            recipient=address,
            channel=Channel.EMAIL,
            language=language,
            subject=subject,
            body=body,
            case_id=case_id,
            next_attempt_at=send_at,
            created_at=now,
        )
        for address in dict.fromkeys(addresses)  # two people sharing one address get one email
    ]


def queue_for_customer(
    *, customer: Customer, case_id: int | None, event_key: str, template: str, context: dict[str, Any], now: datetime
) -> list[OutboxMessage]:
    """Queue a message to every channel of customer; a message already queued is left as it is."""
    language = customer_language(customer)
    subject, body = render_message(template, language, context)
    queued = []
    for channel, address in customer_channels(customer):
        try:
            with transaction.atomic():
                queued.append(
                    OutboxMessage.objects.create(
                        event_key=event_key,
                        event=template,
                        recipient=address,
                        channel=channel,
                        language=language,
                        subject=subject if channel == Channel.EMAIL else "",
                        body=body,
                        case_id=case_id,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        except IntegrityError:
            continue  # owed once: it is already in the outbox
    return queued


def queue_for_endpoints(
    *, event: str, event_key: str, payload: dict[str, Any], case_id: int | None, now: datetime
) -> list[OutboxMessage]:
    """Queue one signed POST of payload to every active webhook endpoint that wants event."""
    from .models import WebhookEndpoint

    body = json.dumps({"type": event, "timestamp": now.isoformat(), "data": payload}, ensure_ascii=False)
    queued = []
    for endpoint in WebhookEndpoint.objects.filter(active=True):
        if not endpoint.wants(event):
            continue
        try:
            with transaction.atomic():
                queued.append(
                    OutboxMessage.objects.create(
                        event_key=event_key,
                        event=event,
                        recipient=endpoint.recipient,
                        channel=Channel.WEBHOOK,
                        language="",
                        body=body,
                        case_id=case_id,
                        endpoint=endpoint,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        except IntegrityError:
            continue
    return queued
