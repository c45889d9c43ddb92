"""Files that come with a case: stored under MEDIA_ROOT (never served from there), handed out by views
that check who is asking, always as a download."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from django.core.files.base import ContentFile
from django.db import transaction

from promisedesk.errors import DomainError

from .models import Attachment, Case, CaseEvent

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5
CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")
EXTENSION = re.compile(r"^\.[a-z0-9]{1,10}$")


class Upload(Protocol):
    """What Django's UploadedFile offers and an attachment needs."""

    name: str | None
    size: int | None
    content_type: str | None

    def chunks(self, chunk_size: int | None = None) -> Iterable[bytes]: ...


def clean_filename(name: str | None) -> str:
    """The name shown and offered on download: no folders, no control characters, at most 255 characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not base:
        return "attachment"
    stem, ext = os.path.splitext(base)
    return (stem[: 255 - len(ext[:16])] + ext[:16]) if len(base) > 255 else base


def content_type_of(filename: str, declared: str | None) -> str:
    """The file's type: what the sender declared when it is a well-formed type, else guessed from the name."""
    declared = (declared or "").split(";")[0].strip().lower()
    if CONTENT_TYPE.match(declared) and declared != "application/octet-stream":
        return declared
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def read_upload(upload: Upload) -> bytes:
    """The whole upload, refused when it is larger than an attachment may be."""
    if upload.size is not None and upload.size > MAX_ATTACHMENT_BYTES:
        raise _too_large()
    content = bytearray()
    for chunk in upload.chunks():
        content += chunk
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise _too_large()
    return bytes(content)


def _too_large() -> DomainError:
    return DomainError("too_large", f"an attachment may be at most {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB", "file")


def do_attach(
    case: Case,
    *,
    now: datetime,
    filename: str | None,
    content: bytes,
    content_type: str | None = None,
    event: CaseEvent | None = None,
) -> Attachment:
    """Store content as a file of case (and of the event it came with); returns the attachment.

    The stored name is made from the content's digest, never from what the sender called it,
    so a name cannot climb out of the media folder or collide with another file.
    """
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise _too_large()
    shown = clean_filename(filename)
    digest = hashlib.sha256(content).hexdigest()
    ext = os.path.splitext(shown)[1].lower()
    stored = digest[:32] + (ext if EXTENSION.match(ext) else "")
    with transaction.atomic():
        attachment = Attachment(
            case=case,
            event=event,
            filename=shown,
            content_type=content_type_of(shown, content_type),
            size=len(content),
            sha256=digest,
            uploaded_at=now,
        )
        attachment.file.save(stored, ContentFile(content), save=False)
        attachment.save()
    return attachment


def do_attach_uploads(
    case: Case, *, now: datetime, uploads: list[Any], event: CaseEvent | None = None
) -> list[Attachment]:
    """Attach uploaded files (Django UploadedFile) to case and event; refused when there are too many."""
    if len(uploads) > MAX_ATTACHMENTS:
        raise DomainError("too_many_files", f"at most {MAX_ATTACHMENTS} files at a time", "file")
    contents = [read_upload(upload) for upload in uploads]  # every file checked before any is stored
    return [
        do_attach(case, now=now, filename=upload.name, content=content, content_type=upload.content_type, event=event)
        for upload, content in zip(uploads, contents, strict=True)
    ]
