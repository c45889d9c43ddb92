"""Intake over HTTP: webhook sources, mailboxes and the quarantine (staff bearer tokens).

Any staff member reads sources and mailboxes and decides about quarantined messages;
only managers change sources (and see or rotate their secrets) and mailboxes.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import AwareDatetime, Field

from promisedesk.actors import actor_of
from promisedesk.cases.api import list_of
from promisedesk.errors import DomainError, NotFound
from promisedesk.notifications.access import require_manager
from promisedesk.schemas import Input, page

from .actions import (
    do_create_mailbox,
    do_create_source,
    do_delete_mailbox,
    do_discard_message,
    do_release_message,
    do_rotate_secret,
    do_update_mailbox,
    do_update_source,
)
from .mailparse import parse_mail
from .models import HookChannel, Mailbox, QuarantinedMessage, QuarantineStatus, Reason, WebhookSource

router = Router(tags=["intake"])

SourceCode = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
ServiceCode = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
Text = r"^[^\x00]*$"


class SourceIn(Input):
    code: str = SourceCode
    name: str = Field(min_length=1, max_length=200, pattern=Text)
    channel: HookChannel = HookChannel.CHAT
    default_service: str = ServiceCode
    active: bool = True


class SourcePatch(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=Text)
    channel: HookChannel | None = None
    default_service: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    active: bool | None = None


class SourceOut(Schema):
    code: str
    name: str
    channel: str
    default_service: str
    active: bool
    url: str
    created_at: AwareDatetime


class SourceWithSecret(SourceOut):
    secret: str


class MailboxIn(Input):
    address: str = Field(min_length=1, max_length=254, pattern=r"^[^\s\x00]+$")
    service: str = ServiceCode
    note: str = Field(default="", max_length=200, pattern=Text)
    complaints: bool = False


class MailboxPatch(Input):
    service: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    note: str | None = Field(default=None, max_length=200, pattern=Text)
    complaints: bool | None = None


class MailboxOut(Schema):
    id: int
    address: str
    service: str
    note: str
    complaints: bool


class QuarantinedOut(Schema):
    id: int
    source: str
    reason: str
    message: str
    status: str
    sender: str
    subject: str
    message_id: str
    recipients: list[str]
    size: int
    received_at: AwareDatetime
    case: int | None
    decided_at: AwareDatetime | None
    decided_by: str | None
    decision_note: str


class AttachmentOut(Schema):
    filename: str
    content_type: str
    size: int


class QuarantinedDetail(QuarantinedOut):
    text: str
    attachments: list[AttachmentOut]


class ReleaseIn(Input):
    case: int | None = Field(default=None, ge=1, description="thread into this case")
    service: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    customer: int | None = Field(default=None, ge=1, description="for a new case; default: the sender")
    note: str = Field(default="", max_length=2000, pattern=Text)


class DiscardIn(Input):
    reason: str = Field(min_length=1, max_length=2000, pattern=Text)


class ErrorBody(Schema):
    code: str
    message: str
    field: str | None


class ErrorOut(Schema):
    error: ErrorBody


def render_source(source: WebhookSource, secret: bool = False) -> dict[str, Any]:
    out = {
        "code": source.code,
        "name": source.name,
        "channel": source.channel,
        "default_service": source.default_service.code,
        "active": source.active,
        "url": f"/hooks/{source.code}/",
        "created_at": source.created_at,
    }
    return out | {"secret": source.secret} if secret else out


def render_mailbox(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "id": mailbox.pk,
        "address": mailbox.address,
        "service": mailbox.service.code,
        "note": mailbox.note,
        "complaints": mailbox.complaints,
    }


def render_quarantined(message: QuarantinedMessage) -> dict[str, Any]:
    return {
        "id": message.pk,
        "source": message.source,
        "reason": message.reason,
        "message": message.explanation(),
        "status": message.status,
        "sender": message.sender,
        "subject": message.subject,
        "message_id": message.message_id,
        "recipients": message.recipients,
        "size": message.size,
        "received_at": message.received_at,
        "case": message.case_id,
        "decided_at": message.decided_at,
        "decided_by": message.decided_by.get_username() if message.decided_by else None,
        "decision_note": message.decision_note,
    }


def _source(code: str) -> WebhookSource:
    found = WebhookSource.objects.select_related("default_service").filter(code=code).first()
    if found is None:
        raise NotFound(f"webhook source {code!r}")
    return found


@router.get("/intake/sources", response=list_of(SourceOut))
def list_sources(request: HttpRequest, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Webhook sources; their secrets are shown only when made or rotated."""
    return page(WebhookSource.objects.select_related("default_service"), limit, offset, render_source)


@router.post("/intake/sources", response={201: SourceWithSecret, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut})
def create_source(request: HttpRequest, payload: SourceIn) -> Status:
    """Register a chat or social-media tool (managers); the answer carries its `whsec_` secret, shown this once."""
    require_manager(request.user)
    source = do_create_source(actor=actor_of(request), now=timezone.now(), **payload.dict())
    return Status(201, render_source(_source(source.code), secret=True))


@router.get("/intake/sources/{code}", response=SourceOut)
def get_source(request: HttpRequest, code: str) -> dict[str, Any]:
    return render_source(_source(code))


@router.patch("/intake/sources/{code}", response={200: SourceOut, 403: ErrorOut})
def update_source(request: HttpRequest, code: str, payload: SourcePatch) -> dict[str, Any]:
    """Change a source (managers)."""
    require_manager(request.user)
    do_update_source(code, actor=actor_of(request), now=timezone.now(), **payload.dict(exclude_unset=True))
    return render_source(_source(code))


@router.post("/intake/sources/{code}/secret", response={200: SourceWithSecret, 403: ErrorOut})
def rotate_secret(request: HttpRequest, code: str) -> dict[str, Any]:
    """A new secret for the source (managers); the old one stops working at once."""
    require_manager(request.user)
    do_rotate_secret(code, actor=actor_of(request), now=timezone.now())
    return render_source(_source(code), secret=True)


@router.get("/intake/mailboxes", response=list_of(MailboxOut))
def list_mailboxes(request: HttpRequest, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Which service new mail to each address goes to; `*@domain` and `*` (the default) too."""
    return page(Mailbox.objects.select_related("service"), limit, offset, render_mailbox)


@router.post("/intake/mailboxes", response={201: MailboxOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut})
def create_mailbox(request: HttpRequest, payload: MailboxIn) -> Status:
    """Route new mail to an address into a service (managers)."""
    require_manager(request.user)
    mailbox = do_create_mailbox(actor=actor_of(request), now=timezone.now(), **payload.dict())
    return Status(201, render_mailbox(mailbox))


@router.patch("/intake/mailboxes/{mailbox_id}", response={200: MailboxOut, 403: ErrorOut})
def update_mailbox(request: HttpRequest, mailbox_id: int, payload: MailboxPatch) -> dict[str, Any]:
    """Change a mailbox's service or note (managers)."""
    require_manager(request.user)
    changes = payload.dict(exclude_unset=True)
    mailbox = do_update_mailbox(mailbox_id, actor=actor_of(request), now=timezone.now(), **changes)
    return render_mailbox(mailbox)


@router.delete("/intake/mailboxes/{mailbox_id}", response={204: None, 403: ErrorOut, 404: ErrorOut})
def delete_mailbox(request: HttpRequest, mailbox_id: int) -> Status:
    """Stop routing mail by this mailbox (managers)."""
    require_manager(request.user)
    do_delete_mailbox(mailbox_id, actor=actor_of(request), now=timezone.now())
    return Status(204, None)


@router.get("/intake/quarantine", response=list_of(QuarantinedOut))
def list_quarantine(
    request: HttpRequest,
    status: QuarantineStatus | None = None,
    reason: Reason | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Messages held by intake, newest first; `status=held` for those waiting for a decision."""
    rows = QuarantinedMessage.objects.defer("raw").select_related("decided_by")
    if status is not None:
        rows = rows.filter(status=status)
    if reason is not None:
        rows = rows.filter(reason=reason)
    return page(rows, limit, offset, render_quarantined)


def _held(message_id: int) -> QuarantinedMessage:
    found = QuarantinedMessage.objects.select_related("decided_by").filter(pk=message_id).first()
    if found is None:
        raise NotFound(f"quarantined message {message_id}")
    return found


@router.get("/intake/quarantine/{message_id}", response=QuarantinedDetail)
def get_quarantined(request: HttpRequest, message_id: int) -> dict[str, Any]:
    """One held message with its text and the files it carries."""
    message = _held(message_id)
    parsed = parse_mail(bytes(message.raw), message.recipients)
    files = [
        {"filename": p.filename, "content_type": p.content_type, "size": len(p.payload)} for p in parsed.attachments
    ]
    return render_quarantined(message) | {"text": parsed.text, "attachments": files}


@router.post("/intake/quarantine/{message_id}/release", response={200: QuarantinedOut, 400: ErrorOut, 409: ErrorOut})
def release(request: HttpRequest, message_id: int, payload: ReleaseIn) -> dict[str, Any]:
    """Thread the message into `case`, or open a new case (`service`, `customer`; defaults: mailbox, sender)."""
    if payload.case is not None and (payload.service is not None or payload.customer is not None):
        raise DomainError("invalid", "give either a case, or a service and customer for a new case", "case")
    do_release_message(
        message_id,
        actor=actor_of(request),
        now=timezone.now(),
        case_id=payload.case,
        service_code=payload.service,
        customer_id=payload.customer,
        note=payload.note,
    )
    return render_quarantined(_held(message_id))


@router.post("/intake/quarantine/{message_id}/discard", response={200: QuarantinedOut, 400: ErrorOut, 409: ErrorOut})
def discard(request: HttpRequest, message_id: int, payload: DiscardIn) -> dict[str, Any]:
    """Decide the message goes into no case; it is kept, with the reason."""
    do_discard_message(message_id, actor=actor_of(request), now=timezone.now(), reason=payload.reason)
    return render_quarantined(_held(message_id))
