"""The outbox, webhook endpoints and message templates over HTTP.

Any staff token reads them and may retry a failed message; changing templates and
endpoints is for managers (403 `forbidden` otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from promisedesk.actors import actor_of
from promisedesk.errors import DomainError, NotFound
from promisedesk.schemas import MAX_OFFSET, MAX_PAGE, Input, page

from . import actions, selectors
from .access import require_manager
from .models import Channel, OutboxMessage, OutboxStatus, WebhookEndpoint
from .templating import MAX_SUBJECT_SOURCE
from .transports import headers_of

router = Router(tags=["notifications"])


class OutboxOut(Schema):
    id: int
    event_key: str
    event: str
    channel: str
    recipient: str
    language: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    claimed_until: datetime | None
    last_error: str
    provider_ref: str
    case: int | None
    endpoint: int | None
    created_at: datetime
    sent_at: datetime | None


class RetryOut(Schema):
    requested_by: str | None
    requested_at: datetime
    previous_attempts: int
    previous_error: str


class OutboxDetailOut(OutboxOut):
    body: str
    headers: dict[str, str]
    retries: list[RetryOut]


class OutboxList(Schema):
    items: list[OutboxOut]
    count: int


class EndpointIn(Input):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=500)
    events: list[str] = Field(default_factory=list, max_length=50)


class EndpointPatch(Input):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    url: str | None = Field(default=None, min_length=1, max_length=500)
    events: list[str] | None = Field(default=None, max_length=50)
    active: bool | None = None
    rotate_secret: bool = False


class EndpointOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    secret: str | None = Field(default=None, description="only in the answer to a creation or a rotate_secret")


class EndpointList(Schema):
    items: list[EndpointOut]
    count: int


class TemplateIn(Input):
    subject: str = Field(default="", max_length=MAX_SUBJECT_SOURCE)
    body: str = Field(min_length=1, max_length=actions.MAX_BODY)


class TemplateOut(Schema):
    event: str
    language: str
    subject: str
    body: str
    overridden: bool
    updated_at: datetime | None
    updated_by: str | None


class TemplateList(Schema):
    items: list[TemplateOut]
    count: int


class PreviewOut(Schema):
    subject: str
    body: str


def render_message_row(m: OutboxMessage) -> dict[str, Any]:
    fields = OutboxOut.model_fields
    return {name: getattr(m, name) for name in fields if name not in ("case", "endpoint", "recipient")} | {
        "recipient": m.address,  # a webhook's URL, as ever (the row itself names its endpoint)
        "case": m.case_id,
        "endpoint": m.endpoint_id,
    }


def render_message_detail(m: OutboxMessage) -> dict[str, Any]:
    retries = [
        {
            "requested_by": r.requested_by.get_username() if r.requested_by else None,
            "requested_at": r.requested_at,
            "previous_attempts": r.previous_attempts,
            "previous_error": r.previous_error,
        }
        for r in m.retries.all()
    ]
    return render_message_row(m) | {"body": m.body, "headers": headers_of(m), "retries": retries}


def render_endpoint(e: WebhookEndpoint, *, secret: bool = False) -> dict[str, Any]:
    shown = {"id": e.pk, "name": e.name, "url": e.url, "events": e.events, "active": e.active}
    return shown | {"created_at": e.created_at, "secret": e.secret if secret else None}


# --- the outbox ------------------------------------------------------------------------------------


@router.get("/outbox", response=OutboxList)
def list_outbox(
    request: HttpRequest,
    status: OutboxStatus | None = None,
    channel: Channel | None = None,
    event: str | None = None,
    case: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Newest first; `status=failed` is the dead-letter queue."""
    query = selectors.outbox(status=status, channel=channel, event=event, case=case)
    return page(query, limit, offset, render_message_row)


@router.get("/outbox/{message_id}", response=OutboxDetailOut)
def read_message(request: HttpRequest, message_id: int) -> dict[str, Any]:
    return render_message_detail(selectors.message(message_id))


@router.post("/outbox/{message_id}/retry", response=OutboxDetailOut)
def retry_message(request: HttpRequest, message_id: int) -> dict[str, Any]:
    """Send a failed message again at once (409 `not_failed` for any other)."""
    actions.do_retry(selectors.message(message_id), actor=actor_of(request), now=timezone.now())
    return render_message_detail(selectors.message(message_id))


# --- webhook endpoints ------------------------------------------------------------------------------


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    found = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if found is None:
        raise NotFound(f"webhook endpoint {endpoint_id}")
    return found


@router.get("/webhook-endpoints", response=EndpointList)
def list_endpoints(request: HttpRequest, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    return page(WebhookEndpoint.objects.order_by("name"), limit, offset, render_endpoint)


@router.post("/webhook-endpoints", response={201: EndpointOut})
def create_endpoint(request: HttpRequest, payload: EndpointIn) -> Status:
    """A new endpoint; the answer carries its signing secret (`whsec_…`), shown only here."""
    require_manager(request.user)
    endpoint = actions.do_create_endpoint(**payload.model_dump(), actor=actor_of(request), now=timezone.now())
    return Status(201, render_endpoint(endpoint, secret=True))


@router.patch("/webhook-endpoints/{endpoint_id}", response=EndpointOut)
def update_endpoint(request: HttpRequest, endpoint_id: int, payload: EndpointPatch) -> dict[str, Any]:
    """Rename, move, choose events, (de)activate; `rotate_secret: true` answers with a new secret."""
    require_manager(request.user)
    changes = payload.model_dump(exclude_unset=True)
    rotate = bool(changes.pop("rotate_secret", False))
    endpoint = actions.do_update_endpoint(
        _endpoint(endpoint_id), actor=actor_of(request), now=timezone.now(), rotate_secret=rotate, **changes
    )
    return render_endpoint(endpoint, secret=rotate)


@router.post("/webhook-endpoints/{endpoint_id}/test", response=OutboxDetailOut)
def test_endpoint(request: HttpRequest, endpoint_id: int) -> dict[str, Any]:
    """Send a signed `webhook.test` message now; the answer is the message with its outcome."""
    require_manager(request.user)
    message = actions.do_send_test(_endpoint(endpoint_id), actor=actor_of(request), now=timezone.now())
    return render_message_detail(selectors.message(message.pk))


# --- templates ---------------------------------------------------------------------------------------


@router.get("/notification-templates", response=TemplateList)
def list_templates(request: HttpRequest, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Every event's wording in every language: a manager's override, or the built-in template."""
    if not 0 <= limit <= MAX_PAGE or not 0 <= offset <= MAX_OFFSET:
        raise DomainError("invalid", f"limit must be 0 to {MAX_PAGE} and offset 0 to {MAX_OFFSET}", "limit")
    rows = selectors.templates()
    return {"items": rows[offset : offset + limit], "count": len(rows)}


@router.put("/notification-templates/{event}/{language}", response=TemplateOut)
def save_template(request: HttpRequest, event: str, language: str, payload: TemplateIn) -> dict[str, Any]:
    """Override the wording (Django template language); 422 `template_syntax` and nothing saved
    when it does not parse, `template_forbidden` for a tag templates may not use."""
    require_manager(request.user)
    actions.do_save_template(
        event=event, language=language, **payload.model_dump(), actor=actor_of(request), now=timezone.now()
    )
    return selectors.template(event, language)


@router.delete("/notification-templates/{event}/{language}", response=TemplateOut)
def reset_template(request: HttpRequest, event: str, language: str) -> dict[str, Any]:
    """Back to the built-in wording; the answer shows it."""
    require_manager(request.user)
    actions.do_reset_template(event=event, language=language, actor=actor_of(request), now=timezone.now())
    return selectors.template(event, language)


@router.post("/notification-templates/{event}/{language}/preview", response=PreviewOut)
def preview_template(request: HttpRequest, event: str, language: str, payload: TemplateIn) -> dict[str, Any]:
    """Render a wording against a made-up case, without saving it."""
    subject, body = actions.preview_template(event=event, language=language, **payload.model_dump())
    return {"subject": subject, "body": body}
