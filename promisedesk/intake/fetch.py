"""Pollers that read mail someone else received: a maildir, or an IMAP folder.

Both hand each message to ingest_email and mark it done only after it was recorded,
so a crash in between means the message is read again next time, and the
idempotency key makes that second reading harmless. A message whose recording
raises is quarantined whole (`processing_failed`) and the poll goes on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction

from .actions import hold_message
from .mail import MailResult, ingest_email
from .mailparse import parse_mail
from .models import Reason

logger = logging.getLogger(__name__)

MAILDIR_DONE_FLAGS = ":2,S"  # maildir "info": seen


@dataclass
class FetchSummary:
    """How many messages a poll read, and what became of them."""

    read: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    failed: int = 0  # neither recorded nor quarantined: left where they are for the next poll

    def add(self, result: MailResult) -> None:
        self.read += 1
        self.outcomes[result.outcome] = self.outcomes.get(result.outcome, 0) + 1
        self.duplicates += result.duplicate

    def line(self) -> str:
        parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items())) or "nothing new"
        failed = f", {self.failed} failed and left for the next poll" if self.failed else ""
        return f"fetchmail: {self.read} read: {parts} ({self.duplicates} seen before){failed}"


def ingest_or_hold(raw: bytes, *, now: datetime, source: str) -> MailResult | None:
    """ingest_email, but a message that makes it raise is quarantined (`processing_failed`) whole.

    One bad message must not stop a poll and be read again, and fail again, before every
    other message each time. When even the quarantine cannot take it (the database is
    down), None: the caller leaves the message where it is for the next poll.
    """
    try:
        return ingest_email(raw, now=now, source=source)
    except Exception as exc:
        logger.exception("intake: recording a message from %s failed; quarantining it", source)
        error = type(exc).__name__
    try:
        parsed = parse_mail(raw)
        with transaction.atomic():
            held = hold_message(
                now=now,
                raw=raw,
                source=source,
                reason=Reason.PROCESSING_FAILED,
                context={"error": error},
                sender=parsed.sender,
                subject=parsed.subject,
                message_id=parsed.message_id,
                recipients=parsed.recipients,
            )
    except Exception:
        logger.exception("intake: a message from %s could not be quarantined either; left for the next poll", source)
        return None
    return MailResult(
        outcome="quarantined",
        case_id=None,
        event_id=None,
        quarantine_id=held.pk,
        reason=held.reason,
        duplicate=False,
    )


def _new_messages(root: Path) -> Iterator[Path]:
    """Files in new/, in the order they were delivered (their modification time, then name)."""
    entries = [e for e in os.scandir(root / "new") if e.is_file() and not e.name.startswith(".")]
    for entry in sorted(entries, key=lambda e: (e.stat().st_mtime_ns, e.name)):
        yield Path(entry.path)


def fetch_maildir(root: Path, *, clock: Callable[[], datetime], limit: int | None = None) -> FetchSummary:
    """Ingest every message in root/new and move it to root/cur, flagged seen.

    The move happens after the message was recorded; a file that vanished in
    between (another poller took it) is left to that poller.
    """
    for sub in ("new", "cur", "tmp"):
        if not (root / sub).is_dir():
            raise FileNotFoundError(f"{root} is not a maildir: it has no {sub}/ folder")
    summary = FetchSummary()
    for path in _new_messages(root):
        if limit is not None and summary.read >= limit:
            break
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            continue
        result = ingest_or_hold(raw, now=clock(), source="maildir")
        if result is None:
            summary.failed += 1
            continue
        summary.add(result)
        name = path.name.split(":", 1)[0]
        try:
            path.rename(root / "cur" / (name + MAILDIR_DONE_FLAGS))
        except FileNotFoundError:
            continue
    return summary


def fetch_imap(
    client: Any, *, folder: str, clock: Callable[[], datetime], limit: int | None = None, batch: int = 50
) -> FetchSummary:
    """Ingest the unseen messages of folder on a logged-in imapclient.IMAPClient, marking each seen.

    Messages are fetched with BODY.PEEK[] so reading alone does not mark them; the
    \\Seen flag is set after each was recorded.
    """
    client.select_folder(folder)
    uids = sorted(client.search(["UNSEEN"]))
    if limit is not None:
        uids = uids[:limit]
    summary = FetchSummary()
    for start in range(0, len(uids), batch):
        chunk = uids[start : start + batch]
        fetched = client.fetch(chunk, ["BODY.PEEK[]"])
        for uid in chunk:
            data = fetched.get(uid, {})
            raw = data.get(b"BODY[]") or data.get("BODY[]")
            if raw is None:
                continue  # expunged meanwhile
            result = ingest_or_hold(bytes(raw), now=clock(), source=f"imap:{folder}")
            if result is None:
                summary.failed += 1
                continue  # unseen still: the next poll tries it again
            summary.add(result)
            client.add_flags([uid], [b"\\Seen"])
    return summary
