from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from promisedesk.commitments.management.instants import parse_instant
from promisedesk.escalations.engine import BATCH, escalate_due


class Command(BaseCommand):
    help = "Schedule escalation chains for new at-risk warnings and tell whoever is due (--once); one-line summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--batch", type=int, default=BATCH, help=f"escalations per transaction (default {BATCH})")
        parser.add_argument(
            "--now",
            metavar="ISO",
            help="escalate as of this instant (with a UTC offset) instead of the current time, to replay a pass",
        )

    def handle(self, *args: Any, once: bool, now: str | None, batch: int, **options: Any) -> None:
        if not once:
            raise CommandError("use --once for a single pass, or `promisedesk worker` to keep escalating")
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        instant = parse_instant(now) if now else timezone.now()
        self.stdout.write(str(escalate_due(instant, batch=batch)))
