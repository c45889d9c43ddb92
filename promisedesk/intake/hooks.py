"""Inbound webhooks from chat and social-media tools: verify, read, and map to a case or an event.

A source posts to ``/hooks/<code>/`` with Standard Webhooks headers (``webhook-id``,
``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256>``) under its own
``whsec_`` secret. The body is one of:

``{"type": "message", "conversation": "abc", "customer": {"external_ref", "name", "email", "phone", "locale"},
"text": "…", "service": "code"?, "complaint": false}``
    The first message of a conversation opens a case (external_ref ``<code>:<conversation>``,
    channel chat or social as the source says, the source's default service unless
    ``service`` names another) with the text as the customer's request — or, with
    ``"complaint": true``, a complaint with the text as the customer's account; later ones
    append ``customer_replied``.
``{"type": "event", "conversation": "abc", "event": "lower_snake_case", "note": "…", "data": {…}}``
    Appends that event to the conversation's case.

Each webhook-id is handled once: a redelivery answers what the first delivery made.
Fields a tool adds beyond these are ignored, so a tool's new field is not an outage.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticError
from standardwebhooks.webhooks import Webhook

from promisedesk.cases.actions import do_append_event
from promisedesk.cases.models import Case
from promisedesk.complaints.actions import do_open_complaint
from promisedesk.errors import DomainError
from promisedesk.notifications.events import case_link

from .actions import open_request, thread_reply
from .customers import customer_for, ref_for
from .keys import Outcome, claim
from .mailparse import clean_text
from .models import WebhookSource

TOLERANCE = timedelta(minutes=5)  # Standard Webhooks' window; anything older is a replay
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would also read other scripts' digits
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class Unauthorized(DomainError):
    status = 401


class HookModel(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class HookCustomer(HookModel):
    external_ref: str | None = Field(default=None, max_length=60, pattern=PRINTABLE)
    name: str = Field(default="", max_length=200, pattern=PRINTABLE)
    email: str | None = Field(default=None, max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+()\-. ]*$")
    locale: str | None = Field(default=None, max_length=20)


class MessageHook(HookModel):
    type: Literal["message"]
    conversation: str = Field(min_length=1, max_length=64, pattern=r"^[^\s\x00-\x1f\x7f]+$")
    customer: HookCustomer = Field(default_factory=HookCustomer)
    text: str = Field(min_length=1, max_length=20_000)
    service: str | None = Field(default=None, max_length=64)
    complaint: bool = False


class EventHook(HookModel):
    type: Literal["event"]
    conversation: str = Field(min_length=1, max_length=64, pattern=r"^[^\s\x00-\x1f\x7f]+$")
    event: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    note: str = Field(default="", max_length=5000)
    data: dict[str, Any] = Field(default_factory=dict)


Payload = Annotated[MessageHook | EventHook, Field(discriminator="type")]
_PAYLOAD: TypeAdapter[MessageHook | EventHook] = TypeAdapter(Payload)


def verify(source: WebhookSource, body: bytes, headers: Mapping[str, str], now: datetime) -> str:
    """The webhook-id of a delivery signed with source's secret within ±5 minutes of now; 401 otherwise."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        if not lowered.get(name, "").strip():
            raise Unauthorized("missing_signature", f"the {name} header is required", name)
    webhook_id, stamp_text = lowered["webhook-id"].strip(), lowered["webhook-timestamp"].strip()
    if len(webhook_id) > 255 or not webhook_id.isprintable():
        raise DomainError("invalid_webhook_id", "webhook-id must be at most 255 printable characters", "webhook-id")
    if not TIMESTAMP.fullmatch(stamp_text):
        raise Unauthorized(
            "invalid_timestamp", "webhook-timestamp must be whole seconds since 1970", "webhook-timestamp"
        )
    try:
        stamp = datetime.fromtimestamp(int(stamp_text), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:  # beyond the year 9999, or what the platform can hold
        raise Unauthorized(
            "invalid_timestamp", "webhook-timestamp is not a moment a clock can show", "webhook-timestamp"
        ) from exc
    if abs(now - stamp) > TOLERANCE:
        raise Unauthorized(
            "stale_timestamp",
            "webhook-timestamp is more than 5 minutes from now: a replayed delivery, or the sender's clock is wrong",
            "webhook-timestamp",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DomainError("invalid_json", "the body is not UTF-8 JSON", None) from exc
    # The library signs; comparing is ours, because its verify() reads the wall clock and
    # fails with a ValueError (not a verification error) on a signature without a comma.
    expected = base64.b64decode(Webhook(source.secret).sign(webhook_id, stamp, text).partition(",")[2])
    for candidate in lowered["webhook-signature"].split():
        version, _, value = candidate.partition(",")
        try:
            given = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        if version == "v1" and hmac.compare_digest(expected, given):
            return webhook_id
    raise Unauthorized("bad_signature", "no signature matches this source's secret", "webhook-signature")


def read_payload(body: bytes) -> MessageHook | EventHook:
    """The payload as one of the two documented shapes; 400 with the field at fault otherwise."""
    try:
        data = scrub(json.loads(body, parse_constant=_no_constant, parse_float=_finite))
    except ValueError as exc:
        raise DomainError("invalid_json", f"the body is not JSON: {exc}", None) from exc
    try:
        return _PAYLOAD.validate_python(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first.get("loc", ())]
        if loc and loc[0] in ("message", "event"):
            loc = loc[1:]  # the union member pydantic tried, not a field
        if first.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            loc = ["type"]
        field = ".".join(loc) or None
        raise DomainError("invalid_payload", f"{field or 'body'}: {first.get('msg', 'invalid')}", field) from exc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    # 1e400 reads as infinity, which no database's JSON column takes.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large a number")
    return value


def scrub(value: Any) -> Any:
    """The payload with every string (keys too, however deep) cleaned of control characters.

    A NUL is refused by PostgreSQL in text and in JSON, and the other controls only
    disguise what a message says; newlines and tabs stay.
    """
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [scrub(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(str(key)): scrub(item) for key, item in value.items()}
    return value


def receive(source: WebhookSource, payload: MessageHook | EventHook, webhook_id: str, now: datetime) -> dict[str, Any]:
    """Apply one verified delivery once; the answer names the case, the event and the customer's link."""
    delivery = claim(f"hook:{source.code}", webhook_id, now, lambda: _apply(source, payload, webhook_id, now))
    key = delivery.key
    case = key.case
    return {
        "case": key.case_id,
        "event": key.event_id,
        "created": key.created,
        "duplicate": delivery.duplicate,
        "link": case_link(case) if case is not None else None,
    }


def _apply(source: WebhookSource, payload: MessageHook | EventHook, webhook_id: str, now: datetime) -> Outcome:
    ref = f"{source.code}:{payload.conversation}"
    data: dict[str, Any] = {"channel": source.channel, "source": source.code, "conversation": payload.conversation}
    data["webhook_id"] = webhook_id
    case = Case.objects.select_related("customer", "service").filter(external_ref=ref).first()
    if isinstance(payload, EventHook):
        if case is None:
            raise DomainError(
                "unknown_conversation", f"no case for conversation {payload.conversation!r}", "conversation", 404
            )
        with transaction.atomic():
            event = do_append_event(
                case, actor=None, now=now, type=payload.event, note=payload.note, data={**payload.data, **data}
            )
        return Outcome(case=case, event=event)
    if case is not None:
        return thread_reply(case, now=now, text=payload.text, data=data)
    who = payload.customer
    customer = customer_for(
        now=now,
        name=who.name,
        email=who.email or "",
        phone=who.phone or "",
        locale=_locale(who.locale),
        ref=ref_for("hook", f"{source.code}:{who.external_ref or 'conversation:' + payload.conversation}"),
    )
    if payload.complaint:
        complaint, created = do_open_complaint(
            actor=None,
            now=now,
            account=payload.text,
            customer_id=customer.pk,
            channel=source.channel,
            service_code=payload.service or source.default_service.code,
            external_ref=ref,
        )
        return Outcome(case=complaint.case, created=created)
    return open_request(
        now=now,
        customer=customer,
        service_code=payload.service or source.default_service.code,
        channel=source.channel,
        text=payload.text,
        summary=payload.text[:200],
        data=data,
        external_ref=ref,
    )


def _locale(value: str | None) -> str | None:
    if not value:
        return None
    lowered = value.lower()
    if lowered.startswith("zh"):
        return "zh-Hans"
    return "en" if lowered.startswith("en") else None
