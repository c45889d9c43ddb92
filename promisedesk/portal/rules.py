"""The portal's rules as pure functions: what a customer may send, attach and claim.

No queries here: the callers fetch, these decide.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings

from promisedesk.breaches.models import Source, Status
from promisedesk.commitments.models import State

if TYPE_CHECKING:
    from promisedesk.breaches.models import Breach
    from promisedesk.cases.models import CaseEvent
    from promisedesk.commitments.models import Commitment

# How much a customer may write in one go; a longer story fits in an attachment.
MAX_TEXT = 4000
MAX_CLAIM_TEXT = 2000
# How many forms one case accepts in a window, from every browser together (kept in the database,
# so it holds however many web processes run); a person writes a few, a script many.
PACE_COUNT = 10
PACE_WINDOW = timedelta(minutes=15)
# Per network address, across cases (django-ratelimit, in the cache).
IP_RATE = "60/h"
# 10 MiB unless the site says otherwise: a few phone photos or a scanned receipt.
DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024


def max_upload_bytes() -> int:
    return int(getattr(settings, "PROMISEDESK_PORTAL_MAX_UPLOAD", DEFAULT_MAX_UPLOAD))


@dataclass(frozen=True)
class FileType:
    """A type the page accepts: its content type and a test of the file's first bytes."""

    content_type: str
    magic: tuple[bytes, ...] = ()
    text: bool = False

    def matches(self, head: bytes) -> bool:
        if self.text:
            return b"\x00" not in head
        if self.content_type == "image/webp":
            return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
        if self.content_type == "image/heic":
            return head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis")
        return any(head.startswith(m) for m in self.magic)


# Photos, PDFs and plain text: what a customer needs to show us, and nothing a browser or an
# office program would run. The type is decided here from the name and checked against the
# content; what the browser claims is ignored.
FILE_TYPES: dict[str, FileType] = {
    ".pdf": FileType("application/pdf", (b"%PDF-",)),
    ".png": FileType("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": FileType("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": FileType("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": FileType("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": FileType("image/webp"),
    ".heic": FileType("image/heic"),
    ".txt": FileType("text/plain; charset=utf-8", text=True),
}
ACCEPT = ",".join(FILE_TYPES)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str) -> str:
    """What the customer typed, as plain text: newlines kept, control and direction-override
    characters removed (they can disguise what a message says), surrounding space trimmed.
    Nothing is HTML-escaped here: the text is stored as typed and escaped wherever it is shown."""
    text = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def safe_filename(name: str) -> str:
    """A filename fit to show and to offer for download: no folders, no control characters."""
    base = os.path.basename(name.replace("\\", "/"))
    base = _CONTROL.sub("", unicodedata.normalize("NFC", base)).strip().strip(".")
    base = re.sub(r'[<>:"/|?*]', "_", base)
    if len(base) > 120:
        stem, ext = os.path.splitext(base)
        base = stem[: 120 - len(ext)] + ext
    return base or "attachment"


def file_type(name: str, head: bytes) -> FileType | None:
    """The accepted type of an upload named name starting with head, or None to refuse it."""
    kind = FILE_TYPES.get(os.path.splitext(name)[1].lower())
    if kind is None or not kind.matches(head):
        return None
    return kind


def is_text_file(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data


# Why a promise cannot be claimed from the page; None when it can.
NOT_ON_CASE = "not_on_case"
NOT_IN_FORCE = "not_in_force"
ALREADY_RECORDED = "already_recorded"
CLAIM_REJECTED = "claim_rejected"
NOT_STARTED = "not_started"
NOT_DUE = "not_due"
ON_HOLD = "on_hold"
KEPT = "kept"


def has_clock(commitment: Commitment) -> bool:
    """A time promise (written with a target, or an oral promise with its due time)."""
    return commitment.target_us is not None or commitment.due_at is not None


def is_overdue(commitment: Commitment, now: datetime) -> bool:
    """Past its due time and not kept, whether or not the sweeper has recorded it yet."""
    return commitment.state == State.RUNNING and commitment.due_at is not None and commitment.due_at <= now


def claim_refusal(commitment: Commitment, breaches: list[Breach], now: datetime) -> str | None:
    """Whether the customer may claim commitment is broken; the reason code when not.

    A time promise can be claimed once its due time has passed without it being kept
    (a clock running late, or one the clock already found broken); a promise with no
    clock (quality, behaviour, "100% satisfied") whenever it is in force. A promise
    already recorded as broken shows that breach instead, and a claim the business
    looked into and rejected is not claimed again from the page: the customer replies,
    and a person reviews it.
    """
    if commitment.state == State.CANCELLED:
        return NOT_IN_FORCE
    if any(b.status != Status.REJECTED for b in breaches):
        return ALREADY_RECORDED
    if any(b.source == Source.CLAIM for b in breaches):
        return CLAIM_REJECTED
    if commitment.state == State.PENDING:
        return NOT_STARTED
    if commitment.state == State.MET:
        return KEPT
    if commitment.state == State.BREACHED:
        return None
    if not has_clock(commitment):
        return None
    if commitment.state == State.PAUSED:
        return ON_HOLD
    return None if is_overdue(commitment, now) else NOT_DUE


def customer_may_download(event: CaseEvent) -> bool:
    """Whether the files on event are the customer's to see and download: those on entries shown
    to them (their own messages, updates from staff), never those on internal notes or on
    promisedesk's own entries."""
    return event.visible_to_customer and not event.system and event.type != "internal_note"


def is_customers_own(event: CaseEvent) -> bool:
    """An entry the customer made: a reply or information from this page, a reply by email."""
    return event.type == "customer_replied" and event.actor_id is None and not event.system
