"""`promisedesk smtpd [--host H] [--port P]`: receive mail into cases until SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from promisedesk.intake.smtp import IntakeController, IntakeHandler


class Command(BaseCommand):
    help = (
        "Run an SMTP server that puts every message it receives into a case (a reply by its thread token, "
        "new mail by the recipient's mailbox) or into the intake quarantine."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8025, help="port to listen on (default 8025; 0: any free)")

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        if not 0 <= port <= 65535:
            raise CommandError("--port must be between 0 and 65535")
        controller = IntakeController(IntakeHandler(), hostname=host, port=port)
        try:
            controller.start()
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.stdout.write(f"smtpd: receiving mail on {host}:{controller.port}")
        self.stdout.flush()
        while not stop.wait(timeout=1.0):
            pass
        controller.stop()
        self.stdout.write("smtpd: stopped")
