"""`promisedesk incident-run [--incident N]`: work bulk runs through to the end, batch by batch."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from promisedesk.commitments.management.instants import parse_instant
from promisedesk.recovery.bulk import BATCH, BulkResult, run_bulk


class Command(BaseCommand):
    help = "Work running incident bulk runs (notify, compensate) to completion; prints a one-line summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--incident", type=int, help="only this incident's runs")
        parser.add_argument("--batch", type=int, default=BATCH, help=f"cases per transaction (default {BATCH})")
        parser.add_argument("--now", metavar="ISO", help="run as of this instant (with a UTC offset)")

    def handle(self, *args: Any, incident: int | None, batch: int, now: str | None, **options: Any) -> None:
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        total = BulkResult()
        while True:
            instant = parse_instant(now) if now else timezone.now()
            done = run_bulk(instant, max_batches=10, batch=batch, incident=incident)
            total.batches += done.batches
            total.cases += done.cases
            total.finished += done.finished
            total.failed += done.failed
            if not done:
                break
        self.stdout.write(str(total))
