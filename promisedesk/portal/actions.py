"""What a customer does from their case page: write to us (with a file), and claim a broken promise.

The customer is the actor (there is no user: the case link is the credential), so
every entry they make has `actor=None` and `data["by"] == "customer"`. Each action
runs in one transaction holding the case row, records the form's key under a unique
constraint first (a double submit returns the first result), and paces the case.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from promisedesk.breaches.actions import do_report_breach
from promisedesk.breaches.models import Breach, Source
from promisedesk.cases.actions import do_record_customer_reply
from promisedesk.cases.attachments import do_attach
from promisedesk.cases.models import Case, CaseEvent
from promisedesk.commitments.models import Commitment
from promisedesk.errors import DomainError
from promisedesk.notifications import events as notify

from . import rules
from .models import CustomerSubmission, SubmissionKind

FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
REFUSAL_MESSAGES = {
    rules.NOT_IN_FORCE: "that promise was withdrawn from the case",
    rules.ALREADY_RECORDED: "this promise is already recorded as broken on the case",
    rules.CLAIM_REJECTED: "a claim on this promise was looked into and rejected; reply to have it reviewed",
    rules.NOT_STARTED: "this promise has not started yet",
    rules.NOT_DUE: "this promise is not due yet",
    rules.ON_HOLD: "this promise is on hold",
    rules.KEPT: "this promise was kept",
}


def _check_key(key: str) -> None:
    if not FORM_KEY.match(key or ""):
        raise DomainError("invalid_form", "the form's key is missing or malformed", "key")


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update(no_key=True, of=("self",)).select_related("customer").get(pk=case.pk)


def _check_pace(case: Case, now: datetime) -> None:
    recent = CustomerSubmission.objects.filter(case=case, created_at__gt=now - rules.PACE_WINDOW).count()
    if recent >= rules.PACE_COUNT:
        raise DomainError("too_many_messages", "too many messages on this case in a short time", None, status=429)


def _read_upload(upload: UploadedFile) -> tuple[bytes, str, str]:
    """(content, filename to show, content type) of an acceptable upload; DomainError otherwise."""
    limit = rules.max_upload_bytes()
    if upload.size is not None and upload.size > limit:
        raise DomainError("file_too_large", f"a file may be at most {limit} bytes", "file", status=413)
    data = b"".join(upload.chunks())
    if len(data) > limit:
        raise DomainError("file_too_large", f"a file may be at most {limit} bytes", "file", status=413)
    name = rules.safe_filename(upload.name or "")
    kind = rules.file_type(name, data[:16])
    if kind is None or not data or (kind.text and not rules.is_text_file(data)):
        raise DomainError("file_type_not_allowed", "photos, PDFs and plain text files only", "file")
    return data, name, kind.content_type


def do_customer_message(
    case: Case,
    *,
    now: datetime,
    key: str,
    text: str,
    kind: str = SubmissionKind.REPLY,
    upload: UploadedFile | None = None,
) -> tuple[CaseEvent, bool]:
    """Record what the customer wrote (and the file they added) as a visible `customer_replied`
    entry; returns (event, created).

    A reply needs text; added information needs text or a file. The same form key returns
    the entry made the first time. Writing on a closed case reopens it (a `reopened` entry
    by the customer right after theirs), so someone looks at it again and the promises
    that start on a reopening run. Clocks react as to any event; the entry is dated now,
    or at the last entry when staff dated one a little ahead.
    """
    _check_key(key)
    if kind not in (SubmissionKind.REPLY, SubmissionKind.INFORMATION):
        raise DomainError("invalid", "a message is a reply or information", "kind")
    if kind == SubmissionKind.REPLY:
        upload = None
    body = rules.clean_text(text)
    if len(body) > rules.MAX_TEXT:
        raise DomainError("too_long", f"at most {rules.MAX_TEXT} characters", "text")
    content = _read_upload(upload) if upload is not None else None
    if not body and content is None:
        raise DomainError("empty_message", "write a message or attach a file", "text")
    try:
        with transaction.atomic():
            locked = _lock(case)
            done = CustomerSubmission.objects.filter(case=locked, key=key).select_related("event").first()
            if done is not None and done.event is not None:
                return done.event, False
            if done is not None:
                raise _key_used()
            _check_pace(locked, now)
            submission = CustomerSubmission.objects.create(case=locked, key=key, kind=kind, created_at=now)
            event = _append_message(locked, now=now, kind=kind, body=body, content=content)
            submission.event = event
            submission.save(update_fields=["event"])
            return event, True
    except IntegrityError:
        done = CustomerSubmission.objects.filter(case=case, key=key).select_related("event").first()
        if done is not None and done.event is not None:
            return done.event, False
        raise


def _key_used() -> DomainError:
    # The same form key sent with another of the page's forms: a forged or confused post, not a retry.
    return DomainError("key_used", "this form was already used for something else; reload the page", "key", status=409)


def _append_message(
    case: Case, *, now: datetime, kind: str, body: str, content: tuple[bytes, str, str] | None
) -> CaseEvent:
    data: dict[str, Any] = {"by": "customer", "via": "portal", "kind": kind}
    event = do_record_customer_reply(case, now=now, note=body, data=data)
    if content is not None:
        data_bytes, filename, content_type = content
        do_attach(case, now=now, filename=filename, content=data_bytes, content_type=content_type, event=event)
    return event


def do_customer_claim(
    case: Case, *, now: datetime, key: str, commitment_id: int, text: str = ""
) -> tuple[Breach, bool]:
    """Claim, from the case page, that a promise on the case was broken; returns (breach, created).

    The claim goes through `breaches.actions.do_report_breach` with source `claim` and
    an idempotency key made from the form's key, so a double submit is one claim. A
    promise not on this case, or one that cannot be claimed now (see
    `rules.claim_refusal`), is refused with the reason. A new claim is acknowledged to
    the customer (in the outbox, in the same transaction).
    """
    _check_key(key)
    description = rules.clean_text(text)
    if len(description) > rules.MAX_CLAIM_TEXT:
        raise DomainError("too_long", f"at most {rules.MAX_CLAIM_TEXT} characters", "text")
    idempotency_key = f"portal:{case.pk}:{key}"
    try:
        with transaction.atomic():
            locked = _lock(case)
            done = CustomerSubmission.objects.filter(case=locked, key=key).select_related("breach").first()
            if done is not None and done.breach is not None:
                return done.breach, False
            if done is not None:
                raise _key_used()
            commitment = _claimable(locked, commitment_id, now)
            _check_pace(locked, now)
            submission = CustomerSubmission.objects.create(
                case=locked, key=key, kind=SubmissionKind.CLAIM, created_at=now
            )
            breach, created = do_report_breach(
                actor=None,
                now=now,
                case=locked,
                source=Source.CLAIM,
                description=description,
                commitment_id=commitment.pk,
                idempotency_key=idempotency_key,
            )
            if created:
                notify.claim_received(locked, breach, now)
            submission.breach = breach
            submission.save(update_fields=["breach"])
            return breach, created
    except IntegrityError:
        existing = Breach.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing, False
        raise


def _claimable(case: Case, commitment_id: int, now: datetime) -> Commitment:
    commitment = (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("promise_version")
        .filter(case=case, pk=commitment_id)
        .first()
    )
    if commitment is None:
        raise DomainError("promise_not_applicable", "that promise does not apply to this case", "commitment")
    refusal = rules.claim_refusal(commitment, list(commitment.breaches.all()), now)
    if refusal is not None:
        status = 409 if refusal in (rules.ALREADY_RECORDED, rules.CLAIM_REJECTED) else 400
        raise DomainError(refusal, REFUSAL_MESSAGES[refusal], "commitment", status=status)
    return commitment


def do_customer_complaint(
    case: Case, *, now: datetime, key: str, text: str, remedy_wanted: str, remedy_detail: str = ""
) -> tuple[Any, bool]:
    """Complain, from the case page, about that case; returns (complaint, created).

    Opened through `complaints.actions.do_open_complaint` on the web channel, about this case
    (so it is the same customer's), with the recovery promises attached. The form's key is
    recorded first under the unique (case, key) constraint and makes the complaint's
    external_ref, so a double submit returns the first complaint; the case's pace applies.
    """
    from promisedesk.complaints.actions import do_open_complaint
    from promisedesk.complaints.models import Complaint

    from .complaints import may_complain

    _check_key(key)
    body = rules.clean_text(text)
    detail = rules.clean_text(remedy_detail)
    if not body:
        raise DomainError("empty_message", "say what happened", "text")
    if len(body) > rules.MAX_TEXT or len(detail) > rules.MAX_CLAIM_TEXT:
        raise DomainError("too_long", f"at most {rules.MAX_TEXT} characters", "text")
    if not may_complain(case):
        raise DomainError("not_complainable", "write to us on this page instead", "text")
    reference = f"portal-{case.pk}-{key}"
    try:
        with transaction.atomic():
            locked = _lock(case)
            done = CustomerSubmission.objects.filter(case=locked, key=key).first()
            if done is not None:
                existing = Complaint.objects.filter(case__external_ref=reference).first()
                if done.kind != SubmissionKind.COMPLAINT or existing is None:
                    raise _key_used()
                return existing, False
            _check_pace(locked, now)
            CustomerSubmission.objects.create(case=locked, key=key, kind=SubmissionKind.COMPLAINT, created_at=now)
            return do_open_complaint(
                actor=None,
                now=now,
                account=body,
                about_case_id=locked.pk,
                channel="web",
                remedy_wanted=remedy_wanted,
                remedy_detail=detail,
                external_ref=reference,
            )
    except IntegrityError:
        existing = Complaint.objects.filter(case__external_ref=reference).first()
        if existing is not None:
            return existing, False
        raise
