from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from promisedesk.commitments.management.instants import parse_instant
from promisedesk.commitments.worker import run_worker


class Command(BaseCommand):
    help = "Run the background worker (clock sweeps, then make-good) until SIGTERM or SIGINT; many may run at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds between sweeps (default PROMISEDESK_SWEEP_INTERVAL)",
        )
        parser.add_argument(
            "--now",
            metavar="ISO",
            help="sweep as of this fixed instant (with a UTC offset) instead of the current time; for tests",
        )

    def handle(self, *args: Any, interval: float | None, now: str | None, **options: Any) -> None:
        every = settings.PROMISEDESK_SWEEP_INTERVAL if interval is None else interval
        if every < 0:
            raise CommandError("--interval cannot be negative")
        fixed = parse_instant(now) if now else None
        stop = threading.Event()
        # The loop runs in its own thread and the main thread only waits for it: a signal
        # handler runs in the main thread, and setting an Event there while that same
        # thread is inside Event.wait can deadlock on the Event's internal lock.
        loop = threading.Thread(
            target=run_worker, args=(stop, every, lambda: fixed or timezone.now()), name="promisedesk-worker"
        )
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.stdout.write(f"worker: sweeping every {every}s")
        self.stdout.flush()
        loop.start()
        while loop.is_alive():
            loop.join(timeout=1.0)
        self.stdout.write("worker: stopped")
