"""Intake's state changes: requests into cases, the quarantine, and intake's own configuration.

Every function takes the actor (None for a customer or a machine) and `now`, runs in
one transaction, and records what happened on the case timeline through the case
actions. Files are written to storage before their rows; a transaction that rolls
back leaves an unreferenced file behind, never a row without its file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from promisedesk.cases.actions import do_append_event, do_open_case, do_record_customer_reply
from promisedesk.cases.models import Attachment, Case, CaseEvent, Customer, Service
from promisedesk.complaints.actions import do_open_complaint
from promisedesk.errors import Conflict, DomainError, NotFound

from . import conf
from .customers import customer_for, find_or_create_customer
from .keys import Delivery, Outcome, claim
from .mailparse import Part, parse_mail
from .models import (
    HookChannel,
    Mailbox,
    QuarantinedMessage,
    QuarantineStatus,
    Reason,
    WebhookSource,
    new_webhook_secret,
)

REQUEST_EVENT = "customer_request"  # the customer's own words that opened a case, shown to them
REPLY_EVENT = "customer_replied"
NOTE_LIMIT = 20_000
SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


# --- requests into cases -------------------------------------------------------------------


def split_attachments(parts: Sequence[Part]) -> tuple[list[Part], list[dict[str, Any]]]:
    """(kept, skipped): files over the size cap or beyond the count cap are listed, not stored."""
    kept: list[Part] = []
    skipped: list[dict[str, Any]] = []
    limit, count = conf.max_attachment_bytes(), conf.max_attachments()
    for part in parts:
        size = len(part.payload)
        if size > limit:
            skipped.append({"filename": part.filename, "size": size, "reason": "too_large", "limit": limit})
        elif len(kept) >= count:
            skipped.append({"filename": part.filename, "size": size, "reason": "too_many", "limit": count})
        else:
            kept.append(part)
    return kept, skipped


def store_attachments(case: Case, event: CaseEvent, parts: Sequence[Part], now: datetime) -> list[Attachment]:
    """Store files with the event that brought them, with their SHA-256 and size."""
    stored = []
    for part in parts:
        digest = hashlib.sha256(part.payload).hexdigest()
        attachment = Attachment(
            case=case,
            event=event,
            filename=part.filename[:255],
            content_type=part.content_type[:100] or "application/octet-stream",
            size=len(part.payload),
            sha256=digest,
            uploaded_at=now,
        )
        # Stored under its digest: the sender's name for it may be anything, and is kept in `filename`.
        suffix = PurePosixPath(part.filename).suffix
        stored_name = digest[:32] + (suffix.lower() if SAFE_SUFFIX.match(suffix) else "")
        attachment.file.save(stored_name, ContentFile(part.payload), save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _note(text: str) -> tuple[str, Part | None]:
    """The note for the timeline, and the whole text as a file when it is too long for a note."""
    if len(text) <= NOTE_LIMIT:
        return text, None
    return text[:NOTE_LIMIT] + "\n[…]", Part("message.txt", "text/plain", text.encode())


def open_request(
    *,
    now: datetime,
    customer: Customer,
    service_code: str,
    channel: str,
    text: str,
    summary: str,
    data: dict[str, Any],
    external_ref: str | None = None,
    attachments: Sequence[Part] = (),
) -> Outcome:
    """Open a case for what the customer asked, with their words as the first customer-visible event.

    With an external_ref that already names a case (a conversation's second
    message arriving with its first), the words are appended to that case instead.
    """
    with transaction.atomic():
        case, created = do_open_case(
            actor=None,
            now=now,
            customer_id=customer.pk,
            service_code=service_code,
            external_ref=external_ref,
            channel=channel,
            summary=" ".join(summary.split())[:500],
        )
        event = _record_words(case, now, REQUEST_EVENT if created else REPLY_EVENT, text, data, attachments)
        return Outcome(case=case, event=event, created=created)


def open_complaint(
    *,
    now: datetime,
    customer: Customer,
    service_code: str,
    channel: str,
    text: str,
    data: dict[str, Any],
    attachments: Sequence[Part] = (),
) -> Outcome:
    """Open a complaint with the customer's words as its account, and their message (with its files) on it."""
    with transaction.atomic():
        complaint, created = do_open_complaint(
            actor=None, now=now, account=text, customer_id=customer.pk, channel=channel, service_code=service_code
        )
        event = _record_words(complaint.case, now, REQUEST_EVENT, text, data, attachments)
        return Outcome(case=complaint.case, event=event, created=created)


def thread_reply(
    case: Case, *, now: datetime, text: str, data: dict[str, Any], attachments: Sequence[Part] = ()
) -> Outcome:
    """Append the customer's reply to their case, visible to them, with its files."""
    with transaction.atomic():
        return Outcome(case=case, event=_record_words(case, now, REPLY_EVENT, text, data, attachments))


def _record_words(
    case: Case, now: datetime, type: str, text: str, data: dict[str, Any], attachments: Sequence[Part]
) -> CaseEvent:
    note, whole = _note(text)
    kept, skipped = split_attachments([*attachments, *([whole] if whole else [])])
    if skipped:
        data = {**data, "skipped_attachments": skipped}
    if type == REPLY_EVENT:
        event = do_record_customer_reply(case, now=now, note=note, data=data)
    else:
        # A case's last event may lie a moment ahead of this clock (another machine's); the words come after it.
        at = max(now, case.last_event_at)
        event = do_append_event(
            case, actor=None, now=now, at=at, type=type, note=note, data=data, visible_to_customer=True
        )
    store_attachments(case, event, kept, now)
    return event


def do_submit_request(
    *,
    now: datetime,
    token: str,
    name: str,
    email: str,
    phone: str,
    service: str,
    need: str,
    language: str,
    admit: Callable[[], None] | None = None,
    complaint: bool = False,
) -> Delivery:
    """A customer's web-form request: a case on channel `web`, once per rendering of the form (`token`).

    With `complaint` the customer is complaining: a complaint (a recovery case with the
    recovery promises) is opened instead, their words kept verbatim as its account.

    The delivery's outcome says whether the request made its customer as well as its
    case: only then may the page show the case's link to whoever sent the form.

    `admit` runs only when the request is new (not a double submit of the same
    rendering), inside the transaction: it may refuse with a DomainError, e.g.
    because the address sent too many requests, and then nothing is recorded.
    """

    def work() -> Outcome:
        if admit is not None:
            admit()
        customer, made = find_or_create_customer(now=now, name=name, email=email, phone=phone, locale=language)
        if complaint:
            opened, _created = do_open_complaint(
                actor=None, now=now, account=need, customer_id=customer.pk, channel="web", service_code=service
            )
            return Outcome(case=opened.case, created=True, customer_created=made)
        data = {"channel": "web", "language": language}
        outcome = open_request(
            now=now, customer=customer, service_code=service, channel="web", text=need, summary=need[:200], data=data
        )
        outcome.customer_created = made
        return outcome

    return claim("web", token, now, work)


# --- the quarantine ------------------------------------------------------------------------


def hold_message(
    *,
    now: datetime,
    raw: bytes,
    source: str,
    reason: Reason,
    context: dict[str, Any] | None = None,
    sender: str = "",
    subject: str = "",
    message_id: str = "",
    recipients: Sequence[str] = (),
) -> QuarantinedMessage:
    """Keep a message whole, with why it did not go into a case by itself."""
    return QuarantinedMessage.objects.create(
        source=source[:100],
        reason=reason,
        context=context or {},
        raw=raw,
        size=len(raw),
        sender=sender[:254],
        subject=subject[:500],
        message_id=message_id[:255],
        recipients=list(recipients),
        received_at=now,
    )


def _lock_held(message_id: int) -> QuarantinedMessage:
    found = QuarantinedMessage.objects.select_for_update().filter(pk=message_id).first()
    if found is None:
        raise NotFound(f"quarantined message {message_id}")
    if found.status != QuarantineStatus.HELD:
        raise Conflict("already_decided", f"the message was {found.status} already", "status")
    return found


def do_release_message(
    message_id: int,
    *,
    actor: User | None,
    now: datetime,
    case_id: int | None = None,
    service_code: str | None = None,
    customer_id: int | None = None,
    note: str = "",
) -> QuarantinedMessage:
    """Put a held message into a case: thread it into `case_id`, or open a new case.

    A new case needs a service (the mailbox mapping's when not given) and a
    customer: `customer_id`, else the message's sender, found or created. The
    message is released once; a second decision is a conflict.
    """
    if case_id is not None and (service_code is not None or customer_id is not None):
        raise DomainError("invalid", "give a case to thread into, or a service and customer for a new case", "case")
    with transaction.atomic():
        message = _lock_held(message_id)
        parsed = parse_mail(bytes(message.raw), message.recipients)
        data = {"channel": "email", "message_id": parsed.message_id, "subject": parsed.subject, "released": message.pk}
        if case_id is not None:
            case = Case.objects.filter(pk=case_id).first()
            if case is None:
                raise NotFound(f"case {case_id}", "case")
            outcome = thread_reply(case, now=now, text=parsed.text, data=data, attachments=parsed.attachments)
        else:
            customer = _release_customer(customer_id, parsed.sender, parsed.sender_name, parsed.language, now)
            service = service_code or _mailbox_service(parsed.recipients)
            if service is None:
                raise DomainError("missing_service", "choose the service for the new case", "service")
            outcome = open_request(
                now=now,
                customer=customer,
                service_code=service,
                channel="email",
                text=parsed.text,
                summary=parsed.subject or parsed.text[:200],
                data=data,
                attachments=parsed.attachments,
            )
        message.status, message.decided_at, message.decided_by = QuarantineStatus.RELEASED, now, actor
        message.decision_note, message.case, message.event = note.strip(), outcome.case, outcome.event
        message.save(update_fields=["status", "decided_at", "decided_by", "decision_note", "case", "event"])
        return message


def _release_customer(customer_id: int | None, sender: str, name: str, language: str, now: datetime) -> Customer:
    if customer_id is not None:
        found = Customer.objects.filter(pk=customer_id).first()
        if found is None:
            raise NotFound(f"customer {customer_id}", "customer")
        return found
    if not sender:
        raise DomainError("missing_customer", "the message has no sender: choose the customer", "customer")
    return customer_for(now=now, name=name, email=sender, locale=language)


def _mailbox_service(recipients: Sequence[str]) -> str | None:
    found = mailbox_for(recipients)
    return found.service.code if found is not None else None


def mailbox_for(recipients: Sequence[str]) -> Mailbox | None:
    """The mailbox for the first recipient that has one (address, without +tag, *@domain), else the default (*)."""
    from .mailparse import plain_address

    candidates: list[str] = []
    for address in recipients:
        plain = plain_address(address)
        # support+billing@ may have a mailbox of its own; otherwise support@ is asked, then the domain.
        candidates += [address.strip().lower(), plain, "*@" + plain.rpartition("@")[2]]
    found = {m.address: m for m in Mailbox.objects.select_related("service").filter(address__in=[*candidates, "*"])}
    for candidate in [*candidates, "*"]:
        if candidate in found:
            return found[candidate]
    return None


def do_discard_message(message_id: int, *, actor: User | None, now: datetime, reason: str) -> QuarantinedMessage:
    """Decide a held message goes into no case, with the reason; the message itself is kept."""
    reason = reason.strip()
    if not reason:
        raise DomainError("missing_reason", "say why the message is discarded", "reason")
    with transaction.atomic():
        message = _lock_held(message_id)
        message.status, message.decided_at, message.decided_by = QuarantineStatus.DISCARDED, now, actor
        message.decision_note = reason[:2000]
        message.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        return message


# --- configuration: mailboxes and webhook sources -----------------------------------------


def _service(code: str, field: str = "service") -> Service:
    found = Service.objects.filter(code=code).first()
    if found is None:
        raise DomainError("unknown_service", f"there is no service with code {code!r}", field)
    return found


def _mailbox_address(address: str) -> str:
    address = address.strip().lower()
    local, at, domain = address.rpartition("@")
    valid = address == "*" or (at and domain and "*" not in domain and (local == "*" or "*" not in local))
    if not valid or any(ch.isspace() for ch in address) or "@" in local:
        raise DomainError("invalid_address", "an address, *@domain, or * for any other", "address")
    return address


def do_create_mailbox(
    *, actor: User | None, now: datetime, address: str, service: str, note: str = "", complaints: bool = False
) -> Mailbox:
    """Send new mail to `address` into cases of `service` (complaints, for a complaints mailbox)."""
    address = _mailbox_address(address)
    found = _service(service)
    try:
        with transaction.atomic():
            return Mailbox.objects.create(
                address=address, service=found, note=note.strip(), complaints=complaints, created_at=now
            )
    except IntegrityError as exc:
        raise Conflict("duplicate", f"the mailbox {address!r} exists already", "address") from exc


def do_update_mailbox(
    mailbox_id: int,
    *,
    actor: User | None,
    now: datetime,
    service: str | None = None,
    note: str | None = None,
    complaints: bool | None = None,
) -> Mailbox:
    """Change a mailbox's service, note or whether it takes complaints."""
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().filter(pk=mailbox_id).first()
        if mailbox is None:
            raise NotFound(f"mailbox {mailbox_id}")
        fields: list[str] = []
        if service is not None:
            mailbox.service, fields = _service(service), [*fields, "service"]
        if note is not None:
            mailbox.note, fields = note.strip(), [*fields, "note"]
        if complaints is not None:
            mailbox.complaints, fields = complaints, [*fields, "complaints"]
        if fields:
            mailbox.save(update_fields=fields)
        return mailbox


def do_delete_mailbox(mailbox_id: int, *, actor: User | None, now: datetime) -> None:
    """Stop routing mail by this mailbox (cases it made keep their service)."""
    deleted, _ = Mailbox.objects.filter(pk=mailbox_id).delete()
    if not deleted:
        raise NotFound(f"mailbox {mailbox_id}")


def do_create_source(
    *,
    actor: User | None,
    now: datetime,
    code: str,
    name: str,
    default_service: str,
    channel: str = HookChannel.CHAT,
    active: bool = True,
) -> WebhookSource:
    """Register a chat or social-media tool; its secret is made here and shown to the caller once."""
    service = _service(default_service, "default_service")
    try:
        with transaction.atomic():
            return WebhookSource.objects.create(
                code=code, name=name.strip(), channel=channel, default_service=service, active=active, created_at=now
            )
    except IntegrityError as exc:
        raise Conflict("duplicate", f"a webhook source {code!r} exists already", "code") from exc


def _lock_source(code: str) -> WebhookSource:
    found = WebhookSource.objects.select_for_update().filter(code=code).first()
    if found is None:
        raise NotFound(f"webhook source {code!r}")
    return found


def do_update_source(code: str, *, actor: User | None, now: datetime, **changes: Any) -> WebhookSource:
    """Change a source's name, channel, default service or whether it is active."""
    with transaction.atomic():
        source = _lock_source(code)
        fields: list[str] = []
        for name, value in changes.items():
            if value is None:
                continue
            if name == "default_service":
                value = _service(value, "default_service")
            setattr(source, name, value.strip() if isinstance(value, str) else value)
            fields.append(name)
        if fields:
            source.save(update_fields=fields)
        return source


def do_rotate_secret(code: str, *, actor: User | None, now: datetime) -> WebhookSource:
    """Give a source a new secret; the old one stops working at once."""
    with transaction.atomic():
        source = _lock_source(code)
        source.secret = new_webhook_secret()
        source.save(update_fields=["secret"])
        return source
