from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from promisedesk.commitments.management.instants import parse_instant
from promisedesk.notifications.delivery import BATCH, deliver_due

log = logging.getLogger("promisedesk.notifications")


class Command(BaseCommand):
    help = (
        "Send the notifications that are due: with --once everything due now, then a one-line summary; "
        "without it, again every --interval seconds until SIGTERM or SIGINT. Many may run at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
        parser.add_argument("--batch", type=int, default=BATCH, help=f"messages claimed at a time (default {BATCH})")
        parser.add_argument("--interval", type=float, default=None, help="seconds between passes without --once")
        parser.add_argument(
            "--now", metavar="ISO", help="deliver as of this instant (with a UTC offset) instead of the current time"
        )

    def handle(
        self, *args: Any, once: bool, batch: int, interval: float | None, now: str | None, **options: Any
    ) -> None:
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        every = settings.PROMISEDESK_SWEEP_INTERVAL if interval is None else interval
        if every < 0:
            raise CommandError("--interval cannot be negative")
        fixed = parse_instant(now) if now else None
        if once:
            self.stdout.write(str(deliver_due(fixed or timezone.now, batch=batch)))
            return
        stop = threading.Event()
        # As in `promisedesk worker`: the loop has its own thread, so the signal handlers (which
        # run in the main thread) never set the Event while the same thread waits on it.
        loop = threading.Thread(target=self._loop, args=(stop, every, batch, fixed), name="promisedesk-deliver")
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.stdout.write(f"deliver: every {every}s")
        self.stdout.flush()
        loop.start()
        while loop.is_alive():
            loop.join(timeout=1.0)
        self.stdout.write("deliver: stopped")

    def _loop(self, stop: threading.Event, every: float, batch: int, fixed: datetime | None) -> None:
        while not stop.is_set():
            try:
                # The clock itself, read at every claim, so each batch's lease starts when it is taken.
                result = deliver_due(fixed or timezone.now, batch=batch)
                if result.sent or result.retrying or result.failed:
                    log.info("%s", result)
            except Exception:  # a lost connection must not end the loop: the next pass tries again
                log.exception("delivery failed; retrying")
            finally:
                close_old_connections()
            stop.wait(every)
