from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from promisedesk.breaches.settlement import settle_all
from promisedesk.commitments.management.instants import parse_instant
from promisedesk.commitments.sweeper import BATCH, sweep
from promisedesk.complaints.auto import raise_for_breaches


class Command(BaseCommand):
    help = "Sweep due clocks once (--once), make good on verified breaches, and print a one-line summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one sweep, then exit")
        parser.add_argument("--batch", type=int, default=BATCH, help=f"clocks per transaction (default {BATCH})")
        parser.add_argument(
            "--now",
            metavar="ISO",
            help="sweep as of this instant (with a UTC offset) instead of the current time, to replay a sweep",
        )

    def handle(self, *args: Any, once: bool, now: str | None, batch: int, **options: Any) -> None:
        if not once:
            raise CommandError("use --once for a single sweep, or `promisedesk worker` to keep sweeping")
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        instant = parse_instant(now) if now else timezone.now()
        result = sweep(instant, batch)
        settled = settle_all(instant)
        # Complaints about breaches that call for recovery, so a cron-only set-up raises them too.
        raised = raise_for_breaches(instant)
        self.stdout.write(f"{result}, {settled} settled" + (f", {raised}" if raised else ""))
