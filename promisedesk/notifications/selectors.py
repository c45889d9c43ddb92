"""Reads shared by the API and the desk: the outbox with its filters, one message, the templates."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from promisedesk.errors import NotFound

from .models import NotificationTemplate, OutboxMessage, OutboxRetry
from .templating import LANGUAGES, builtin_source, events


def outbox(
    *, status: str | None = None, channel: str | None = None, event: str | None = None, case: int | None = None
) -> QuerySet[OutboxMessage]:
    """Messages newest first, narrowed by whichever filters are given."""
    # with the endpoint: a webhook row shows its endpoint's URL (OutboxMessage.address)
    query = OutboxMessage.objects.select_related("endpoint").order_by("-created_at", "-id")
    if status:
        query = query.filter(status=status)
    if channel:
        query = query.filter(channel=channel)
    if event:
        query = query.filter(event=event)
    if case is not None:
        query = query.filter(case_id=case)
    return query


def message(message_id: int) -> OutboxMessage:
    """One message with its endpoint and the retries asked for it; 404 when there is none."""
    retries = Prefetch("retries", queryset=OutboxRetry.objects.select_related("requested_by"))
    found = OutboxMessage.objects.select_related("endpoint").prefetch_related(retries).filter(pk=message_id).first()
    if found is None:
        raise NotFound(f"outbox message {message_id}")
    return found


def templates() -> list[dict[str, Any]]:
    """Every event in every language: the override when there is one, else the built-in source."""
    overrides = {(t.event, t.language): t for t in NotificationTemplate.objects.select_related("updated_by").order_by()}
    return [
        _template_row(event, language, overrides.get((event, language))) for event in events() for language in LANGUAGES
    ]


def template(event: str, language: str) -> dict[str, Any]:
    """One event's wording in one language, as templates() shows it."""
    override = NotificationTemplate.objects.select_related("updated_by").filter(event=event, language=language).first()
    return _template_row(event, language, override)


def _template_row(event: str, language: str, override: NotificationTemplate | None) -> dict[str, Any]:
    if override is None:
        subject, body = builtin_source(event)
        return {
            "event": event,
            "language": language,
            "subject": subject,
            "body": body,
            "overridden": False,
            "updated_at": None,
            "updated_by": None,
        }
    return {
        "event": event,
        "language": language,
        "subject": override.subject,
        "body": override.body,
        "overridden": True,
        "updated_at": override.updated_at,
        "updated_by": override.updated_by.get_username() if override.updated_by else None,
    }
