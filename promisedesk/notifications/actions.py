"""Every change to notifications that a person asks for: retry a failed message, edit or reset a
template, manage webhook endpoints and send them a test. (The outbox itself is written by the
actions that owe messages, through outbox.py, and emptied by delivery.py.)"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import translation

from promisedesk.errors import Conflict, DomainError, NotFound

from .delivery import deliver_message
from .models import Channel, NotificationTemplate, OutboxMessage, OutboxRetry, OutboxStatus, WebhookEndpoint
from .samples import sample_context
from .templating import LANGUAGES, MAX_SUBJECT_SOURCE, compile_override, events, render_override

EVENT_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
MAX_EVENTS = 50
MAX_BODY = 20_000
TEST_EVENT = "webhook.test"


# --- the dead-letter queue ---------------------------------------------------------------------


def do_retry(message: OutboxMessage, *, actor: User | None, now: datetime) -> OutboxMessage:
    """Put a failed message back in the outbox to go at once, with a fresh round of attempts.

    Who asked, when, and the attempts and error it had are kept in an OutboxRetry row.
    Only a failed message can be retried (409 otherwise), so two clicks retry it once.
    """
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().filter(pk=message.pk).first()
        if locked is None:
            raise NotFound("the message")
        if locked.status != OutboxStatus.FAILED:
            raise Conflict("not_failed", f"only a failed message can be retried; this one is {locked.status}")
        OutboxRetry.objects.create(
            message=locked,
            requested_by=actor,
            requested_at=now,
            previous_attempts=locked.attempts,
            previous_error=locked.last_error,
        )
        locked.status, locked.next_attempt_at, locked.attempts, locked.claimed_until = (
            OutboxStatus.PENDING,
            now,
            0,
            None,
        )
        locked.save(update_fields=["status", "next_attempt_at", "attempts", "claimed_until"])
        return locked


# --- templates -----------------------------------------------------------------------------------


def check_template_key(event: str, language: str) -> None:
    """404 unless event has a built-in template and language is one messages are written in."""
    if event not in events():
        raise NotFound(f"the template for event {event!r}", "event")
    if language not in LANGUAGES:
        raise DomainError("not_found", f"messages are written in {' and '.join(LANGUAGES)}", "language", status=404)


def preview_template(*, event: str, language: str, subject: str, body: str) -> tuple[str, str]:
    """(subject, body) of an edited template rendered against the sample context; 422 when it
    does not parse, uses a forbidden tag or fails to render."""
    check_template_key(event, language)
    if len(subject) > MAX_SUBJECT_SOURCE:
        raise DomainError(
            "too_long", f"the subject template is longer than {MAX_SUBJECT_SOURCE} characters", "subject", status=422
        )
    if not body.strip() or len(body) > MAX_BODY:
        raise DomainError("invalid", f"the body must have 1 to {MAX_BODY} characters", "body", status=422)
    compile_override(subject, "subject")
    compile_override(body, "body")
    with translation.override(language):
        try:
            return render_override(subject, body, sample_context(language))
        except DomainError:
            raise
        except Exception as exc:  # a filter given nonsense, say: refused like a syntax error
            raise DomainError("template_render", f"the template fails to render: {exc}", "body", status=422) from exc


def do_save_template(
    *, event: str, language: str, subject: str, body: str, actor: User | None, now: datetime
) -> NotificationTemplate:
    """Make subject and body the wording of event in language, from the next message on.
    Nothing is saved unless both parse, use only allowed tags and render (422 otherwise)."""
    preview_template(event=event, language=language, subject=subject, body=body)
    try:
        with transaction.atomic():
            template, _ = NotificationTemplate.objects.update_or_create(
                event=event,
                language=language,
                defaults={"subject": subject, "body": body, "updated_at": now, "updated_by": actor},
            )
    except IntegrityError as exc:  # two managers saved the first override at the same moment
        raise Conflict("conflict", "the template was just saved by someone else; try again") from exc
    return template


def do_reset_template(*, event: str, language: str, actor: User | None, now: datetime) -> None:
    """Go back to the built-in wording of event in language (nothing to do if already built-in)."""
    check_template_key(event, language)
    with transaction.atomic():
        NotificationTemplate.objects.filter(event=event, language=language).delete()


# --- webhook endpoints -----------------------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _clean_url(url: str) -> str:
    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise DomainError("invalid_url", "the URL must be an http:// or https:// address", "url") from exc
    if len(url) > 500:
        raise DomainError("too_long", "the URL is longer than 500 characters", "url")
    return url


def _clean_events(names: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    if len(cleaned) > MAX_EVENTS:
        raise DomainError("invalid", f"at most {MAX_EVENTS} events", "events")
    for name in cleaned:
        if len(name) > 64 or not EVENT_NAME.match(name):
            raise DomainError("invalid_event", f"{name!r} is not an event name such as case.received", "events")
    return cleaned


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise DomainError("invalid", "the name must have 1 to 100 characters", "name")
    return name


def do_create_endpoint(*, name: str, url: str, events: list[str], actor: User | None, now: datetime) -> WebhookEndpoint:
    """A new active endpoint with a freshly generated signing secret; names are unique (409)."""
    fields = {"name": _clean_name(name), "url": _clean_url(url), "events": _clean_events(events)}
    try:
        with transaction.atomic():
            return WebhookEndpoint.objects.create(**fields, secret=new_secret(), active=True, created_at=now)
    except IntegrityError as exc:
        raise Conflict("duplicate", f"an endpoint named {fields['name']!r} exists", "name") from exc


def do_update_endpoint(
    endpoint: WebhookEndpoint, *, actor: User | None, now: datetime, rotate_secret: bool = False, **changes: Any
) -> WebhookEndpoint:
    """Change name, url, events or active (deactivate: nothing more is queued for it, and what is
    queued fails rather than goes); rotate_secret gives it a new signing secret."""
    cleaners: dict[str, Callable[[Any], Any]] = {
        "name": _clean_name,
        "url": _clean_url,
        "events": _clean_events,
        "active": bool,
    }
    unknown = set(changes) - set(cleaners)
    if unknown:
        raise DomainError("unknown_field", f"cannot change {', '.join(sorted(unknown))}", sorted(unknown)[0])
    cleaned = {key: cleaners[key](value) for key, value in changes.items() if value is not None}
    if rotate_secret:
        cleaned["secret"] = new_secret()
    try:
        with transaction.atomic():
            locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
            for key, value in cleaned.items():
                setattr(locked, key, value)
            if cleaned:
                locked.save(update_fields=list(cleaned))
    except IntegrityError as exc:
        raise Conflict("duplicate", f"an endpoint named {cleaned.get('name')!r} exists", "name") from exc
    return locked


def do_send_test(endpoint: WebhookEndpoint, *, actor: User | None, now: datetime) -> OutboxMessage:
    """Queue a signed `webhook.test` message to endpoint and try it at once (not in a transaction:
    it waits for the receiver). Returns the message with the outcome; a failure retries as any would."""
    if not endpoint.active:
        raise Conflict("inactive", "the endpoint is deactivated; activate it to send a test")
    payload = {"endpoint": endpoint.name, "requested_by": actor.get_username() if actor else None}
    body = json.dumps({"type": TEST_EVENT, "timestamp": now.isoformat(), "data": payload}, ensure_ascii=False)
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                event_key=f"test:{endpoint.pk}:{now.isoformat()}",
                event=TEST_EVENT,
                recipient=endpoint.recipient,
                channel=Channel.WEBHOOK,
                language="",
                body=body,
                endpoint=endpoint,
                next_attempt_at=now,
                created_at=now,
            )
    except IntegrityError as exc:
        raise Conflict("duplicate", "a test was sent to this endpoint at this very instant") from exc
    deliver_message(message.pk, now)
    message.refresh_from_db()
    return message
