from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from promisedesk.commitments.worker import run_worker


class Command(BaseCommand):
    help = "Run the background worker (clock sweeps); many may run at once."

    def handle(self, *args, **options):
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.stdout.write(f"worker: sweeping every {settings.PROMISEDESK_SWEEP_INTERVAL}s")
        run_worker(stop, settings.PROMISEDESK_SWEEP_INTERVAL, timezone.now)
