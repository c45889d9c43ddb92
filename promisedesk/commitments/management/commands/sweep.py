from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from promisedesk.commitments.sweeper import sweep


class Command(BaseCommand):
    help = "Sweep due clocks once (--once) and print a one-line summary."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one sweep, then exit")

    def handle(self, *args, once: bool, **options):
        if not once:
            raise CommandError("use --once for a single sweep, or `promisedesk worker` to keep sweeping")
        self.stdout.write(str(sweep(timezone.now())))
