"""Pollers that read mail someone else received: a maildir, or an IMAP folder.

Both hand each message to ingest_email and mark it done only after it was recorded,
so a crash in between means the message is read again next time, and the
idempotency key makes that second reading harmless.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .mail import MailResult, ingest_email

MAILDIR_DONE_FLAGS = ":2,S"  # maildir "info": seen


@dataclass
class FetchSummary:
    """How many messages a poll read, and what became of them."""

    read: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0

    def add(self, result: MailResult) -> None:
        self.read += 1
        self.outcomes[result.outcome] = self.outcomes.get(result.outcome, 0) + 1
        self.duplicates += result.duplicate

    def line(self) -> str:
        parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items())) or "nothing new"
        return f"fetchmail: {self.read} read: {parts} ({self.duplicates} seen before)"


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
        summary.add(ingest_email(raw, now=clock(), source="maildir"))
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
            summary.add(ingest_email(bytes(raw), now=clock(), source=f"imap:{folder}"))
            client.add_flags([uid], [b"\\Seen"])
    return summary
